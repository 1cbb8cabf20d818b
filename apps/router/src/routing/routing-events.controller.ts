import { ConsumeMessage, type MessageContext } from '@inbox-bridge/messaging';
import { RoutingKeys, type MessageEnvelope } from '@inbox-bridge/shared';
import { Controller } from '@nestjs/common';
import { RoutingTimerPoller } from './routing-timer.poller.js';
import { RoutingRepository } from './routing.repository.js';
import { RoutingService } from './routing.service.js';

type Envelope<K extends keyof typeof RoutingKeys> = MessageEnvelope<(typeof RoutingKeys)[K]>;

/** The gateway's events the router learns from; each handler runs in its message's transaction. */
@Controller()
export class RoutingEventsController {
  constructor(
    private readonly routing: RoutingService,
    private readonly repository: RoutingRepository,
    private readonly poller: RoutingTimerPoller,
  ) {}

  @ConsumeMessage(RoutingKeys.GatewayConversationStartedV1)
  async conversationStarted(
    envelope: Envelope<'GatewayConversationStartedV1'>,
    context: MessageContext,
  ): Promise<void> {
    await this.routing.conversationStarted(context.manager, envelope.portalId, envelope.payload);
  }

  @ConsumeMessage(RoutingKeys.GatewayThreadAssignmentChangedV1)
  async assignmentChanged(
    envelope: Envelope<'GatewayThreadAssignmentChangedV1'>,
    context: MessageContext,
  ): Promise<void> {
    await this.routing.assignmentChanged(context.manager, envelope.portalId, envelope.payload);
  }

  @ConsumeMessage(RoutingKeys.GatewayThreadStatusChangedV1)
  async threadStatusChanged(
    envelope: Envelope<'GatewayThreadStatusChangedV1'>,
    context: MessageContext,
  ): Promise<void> {
    await this.routing.threadStatusChanged(context.manager, envelope.portalId, envelope.payload);
  }

  @ConsumeMessage(RoutingKeys.GatewayThreadDeletedV1)
  async threadDeleted(envelope: Envelope<'GatewayThreadDeletedV1'>, context: MessageContext): Promise<void> {
    await this.routing.threadDeleted(context.manager, envelope.portalId, envelope.payload);
  }

  @ConsumeMessage(RoutingKeys.GatewayAssignmentAppliedV1)
  async assignmentApplied(
    envelope: Envelope<'GatewayAssignmentAppliedV1'>,
    context: MessageContext,
  ): Promise<void> {
    await this.routing.assignmentApplied(context.manager, envelope.portalId, envelope.payload);
  }

  @ConsumeMessage(RoutingKeys.GatewayAssignmentFailedV1)
  async assignmentFailed(
    envelope: Envelope<'GatewayAssignmentFailedV1'>,
    context: MessageContext,
  ): Promise<void> {
    await this.routing.assignmentFailed(context.manager, envelope.portalId, envelope.payload);
  }

  @ConsumeMessage(RoutingKeys.GatewayMessagePublishedV1)
  customerMessagePublished(
    envelope: Envelope<'GatewayMessagePublishedV1'>,
    context: MessageContext,
  ): Promise<void> {
    this.routing.customerMessaged(context, envelope.portalId, envelope.payload.hubspotThreadId);
    return Promise.resolve();
  }

  @ConsumeMessage(RoutingKeys.GatewayOutboundMessageRequestedV1)
  async agentReplied(
    envelope: Envelope<'GatewayOutboundMessageRequestedV1'>,
    context: MessageContext,
  ): Promise<void> {
    await this.routing.agentReplied(context.manager, envelope.portalId, envelope.payload);
  }

  @ConsumeMessage(RoutingKeys.GatewayRosterChangedV1)
  async rosterChanged(envelope: Envelope<'GatewayRosterChangedV1'>, context: MessageContext): Promise<void> {
    await this.routing.rosterChanged(context.manager, envelope.portalId, envelope.payload);
  }

  @ConsumeMessage(RoutingKeys.GatewayChannelAccountConnectedV1)
  async channelAccountConnected(
    envelope: Envelope<'GatewayChannelAccountConnectedV1'>,
    context: MessageContext,
  ): Promise<void> {
    const { channelAccountId, inboxId, name, provider } = envelope.payload;
    await this.repository.upsertChannelAccount(context.manager, {
      portalId: envelope.portalId,
      channelAccountId,
      inboxId,
      name,
      provider,
    });
  }

  @ConsumeMessage(RoutingKeys.GatewayChannelAccountUpdatedV1)
  async channelAccountUpdated(
    envelope: Envelope<'GatewayChannelAccountUpdatedV1'>,
    context: MessageContext,
  ): Promise<void> {
    const { channelAccountId, name, active, authorized, inboxId } = envelope.payload;
    await this.repository.updateChannelAccount(context.manager, envelope.portalId, channelAccountId, {
      name,
      active,
      authorized,
      inboxId,
    });
    if (active === true || authorized === true) {
      this.poller.requestSweep();
    }
  }

  @ConsumeMessage(RoutingKeys.GatewayChannelAccountPurgedV1)
  async channelAccountPurged(
    envelope: Envelope<'GatewayChannelAccountPurgedV1'>,
    context: MessageContext,
  ): Promise<void> {
    await this.routing.channelAccountPurged(
      context.manager,
      envelope.portalId,
      envelope.payload.channelAccountId,
    );
  }
}
