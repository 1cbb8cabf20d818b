import { ConsumeMessage, type MessageContext } from '@inbox-bridge/messaging';
import { RoutingKeys, type MessageEnvelope } from '@inbox-bridge/shared';
import { Controller } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service.js';
import { OutboundService } from '../outbound/outbound.service.js';

/** Every message the connector consumes; the work is in the services. */
@Controller()
export class ConnectorConsumers {
  constructor(
    private readonly accounts: AccountsService,
    private readonly outbound: OutboundService,
  ) {}

  // TODO: remove, with RoutingKeys.ConnectorCredentialsValidateV1, once every gateway publishes v2 and neither
  // connector.credentials nor its dead-letter queue holds a v1 message (v1 carries credentials in plaintext).
  @ConsumeMessage(RoutingKeys.ConnectorCredentialsValidateV1)
  validateCredentials(
    envelope: MessageEnvelope<'connector.credentials.validate.v1'>,
    context: MessageContext,
  ): Promise<void> {
    return this.accounts.validate(envelope.payload, context);
  }

  @ConsumeMessage(RoutingKeys.ConnectorCredentialsValidateV2)
  validateSealedCredentials(
    envelope: MessageEnvelope<'connector.credentials.validate.v2'>,
    context: MessageContext,
  ): Promise<void> {
    return this.accounts.validateSealed(envelope, context);
  }

  @ConsumeMessage(RoutingKeys.GatewayChannelAccountConnectedV1)
  accountConnected(
    envelope: MessageEnvelope<'gateway.channel-account.connected.v1'>,
    context: MessageContext,
  ): Promise<void> {
    return this.accounts.connected(envelope, context);
  }

  @ConsumeMessage(RoutingKeys.GatewayChannelAccountUpdatedV1)
  accountUpdated(
    envelope: MessageEnvelope<'gateway.channel-account.updated.v1'>,
    context: MessageContext,
  ): Promise<void> {
    return this.accounts.updated(envelope, context);
  }

  @ConsumeMessage(RoutingKeys.GatewayChannelAccountPurgedV1)
  accountPurged(
    envelope: MessageEnvelope<'gateway.channel-account.purged.v1'>,
    context: MessageContext,
  ): Promise<void> {
    return this.accounts.purged(envelope, context);
  }

  @ConsumeMessage(RoutingKeys.GatewayOutboundMessageRequestedV1)
  sendReply(
    envelope: MessageEnvelope<'gateway.outbound-message.requested.v1'>,
    context: MessageContext,
  ): Promise<void> {
    return this.outbound.send(envelope, context);
  }
}
