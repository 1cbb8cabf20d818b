import { ConsumeMessage, type MessageContext } from '@inbox-bridge/messaging';
import { RoutingKeys, type MessageEnvelope } from '@inbox-bridge/shared';
import { Controller, Logger } from '@nestjs/common';
import { CredentialCheckRepository } from './credential-check.repository.js';
import { CredentialsRejectedService } from './credentials-rejected.service.js';

type ValidatedEnvelope = MessageEnvelope<typeof RoutingKeys.ConnectorCredentialsValidatedV1>;
type RejectedEnvelope = MessageEnvelope<typeof RoutingKeys.ConnectorCredentialsRejectedV1>;

/**
 * What the connector says about credentials. The answer to a credentials check is stored; the popup request
 * waiting for it (on whichever replica) sees it on its next look at the table. A refusal of a connected
 * account's credentials deauthorizes the account.
 */
@Controller()
export class CredentialsReplyController {
  private readonly logger = new Logger('CredentialsReply');

  constructor(
    private readonly checks: CredentialCheckRepository,
    private readonly rejections: CredentialsRejectedService,
  ) {}

  @ConsumeMessage(RoutingKeys.ConnectorCredentialsRejectedV1)
  async onRejected(envelope: RejectedEnvelope, context: MessageContext): Promise<void> {
    await this.rejections.rejected(envelope.payload, context);
  }

  @ConsumeMessage(RoutingKeys.ConnectorCredentialsValidatedV1)
  async onValidated(envelope: ValidatedEnvelope, context: MessageContext): Promise<void> {
    const reply = envelope.payload;
    const answered = await this.checks.answer(
      context.manager,
      reply.requestId,
      reply.ok
        ? {
            ok: true,
            ...(reply.accountName === undefined ? {} : { accountName: reply.accountName }),
            ...(reply.deliveryIdentifier === undefined
              ? {}
              : { deliveryIdentifier: reply.deliveryIdentifier }),
          }
        : {
            ok: false,
            error: reply.error ?? { code: 'invalid-credentials', message: 'The credentials were refused.' },
          },
    );
    if (!answered) {
      this.logger.warn(
        { requestId: reply.requestId },
        'credentials reply for no pending check (late or unknown)',
      );
    }
  }
}
