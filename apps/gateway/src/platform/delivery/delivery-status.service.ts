import { type MessageContext } from '@inbox-bridge/messaging';
import { APP_CONFIG } from '@inbox-bridge/service-kit';
import type { ConnectorDeliveryStatusChangedV1, DeliveryStatus } from '@inbox-bridge/shared';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
} from '../../accounts/channel-account-directory.js';
import type { GatewayConfig } from '../../config/gateway.config.js';
import { HUBSPOT_API, type HubSpotApi } from '../../hubspot/hubspot-api.js';
import { asMessagingError } from '../../hubspot/hubspot-messaging-errors.js';
import { ChannelRegistrationService } from '../channel/channel-registration.service.js';

/** A status only ever moves forward: SENT → FAILED (undelivered later) → READ. */
const RANK: Readonly<Record<DeliveryStatus, number>> = { SENT: 1, FAILED: 2, READ: 3 };

/** That order in SQL, for a status column or value (anything else ranks below SENT). */
const RANK_SQL = (status: string): string =>
  `(CASE ${status} ${Object.entries(RANK)
    .map(([name, rank]) => `WHEN '${name}' THEN ${rank}`)
    .join(' ')} ELSE 0 END)`;

/**
 * `connector.delivery.status-changed.v1` → `PATCH …/messages/{id}` (SENT, FAILED with the reason, READ).
 * The last status written is kept per message (row-locked in the message's transaction), so a late SENT
 * after READ is ignored and never sent to HubSpot.
 */
@Injectable()
export class DeliveryStatusService {
  private readonly logger = new Logger('DeliveryStatus');

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    @Inject(HUBSPOT_API) private readonly hubspot: HubSpotApi,
    private readonly channel: ChannelRegistrationService,
    @Optional() @Inject(CHANNEL_ACCOUNT_DIRECTORY) private readonly directory?: ChannelAccountDirectory,
  ) {}

  async apply(
    change: ConnectorDeliveryStatusChangedV1,
    context: MessageContext,
  ): Promise<'applied' | 'ignored'> {
    const account = await this.directory?.findForTransaction(context.manager, change.channelAccountId);
    if (account === undefined) {
      this.logger.warn(
        { channelAccountId: change.channelAccountId },
        'status for an unknown or purged account ignored',
      );
      return 'ignored';
    }
    // Recorded first, if it moves the status forward, with the row locked until the transaction ends: if HubSpot
    // refuses the PATCH below, the transaction rolls back and the status was never recorded.
    const [row] = await context.manager.query<{ current: string | null; forward: boolean }[]>(
      `WITH prior AS (
         SELECT status FROM "${this.config.DATABASE_SCHEMA}".outbound_message_statuses WHERE hubspot_message_id = $1
       ), written AS (
         INSERT INTO "${this.config.DATABASE_SCHEMA}".outbound_message_statuses AS s
                (hubspot_message_id, channel_account_id, status)
         VALUES ($1, $2, $3)
         ON CONFLICT (hubspot_message_id) DO UPDATE SET status = EXCLUDED.status, updated_at = clock_timestamp()
          WHERE ${RANK_SQL('s.status')} < ${RANK_SQL('EXCLUDED.status')}
         RETURNING 1
       )
       SELECT (SELECT status FROM prior) AS current, EXISTS (SELECT 1 FROM written) AS forward`,
      [change.hubspotMessageId, change.channelAccountId, change.status],
    );
    if (row?.forward !== true) {
      this.logger.log(
        { hubspotMessageId: change.hubspotMessageId, current: row?.current, late: change.status },
        'late delivery status ignored',
      );
      return 'ignored';
    }
    const channelId = await this.channel.channelId();
    try {
      await this.hubspot.forPortal(account.portalId).request({
        method: 'PATCH',
        path: `/conversations/v3/custom-channels/${channelId}/messages/${encodeURIComponent(change.hubspotMessageId)}`,
        body: {
          statusType: change.status,
          ...(change.status === 'FAILED' && change.failureReason !== undefined
            ? { errorMessage: change.failureReason }
            : {}),
        },
      });
    } catch (error) {
      throw asMessagingError(error);
    }
    return 'applied';
  }
}
