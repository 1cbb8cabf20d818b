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
import { ChannelRegistrationService } from '../channel/channel-registration.service.js';
import { asMessagingError } from '../publishing/inbound-publisher.service.js';

/** A status only ever moves forward: SENT → FAILED (undelivered later) → READ. */
const RANK: Readonly<Record<DeliveryStatus, number>> = { SENT: 1, FAILED: 2, READ: 3 };

export function isForward(current: DeliveryStatus | undefined, next: DeliveryStatus): boolean {
  return current === undefined || RANK[next] > RANK[current];
}

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
    const account = await this.directory?.find(change.channelAccountId);
    if (account === undefined) {
      this.logger.warn(
        { channelAccountId: change.channelAccountId },
        'status for an unknown or purged account ignored',
      );
      return 'ignored';
    }
    const schema = this.config.DATABASE_SCHEMA;
    // The row, created if new, locked until the transaction ends (the no-op update takes the lock) with its status.
    const [row] = await context.manager.query<{ status: string }[]>(
      `INSERT INTO "${schema}".outbound_message_statuses AS s (hubspot_message_id, channel_account_id, status)
       VALUES ($1, $2, 'NONE')
       ON CONFLICT (hubspot_message_id) DO UPDATE SET status = s.status
       RETURNING s.status`,
      [change.hubspotMessageId, change.channelAccountId],
    );
    const current = row?.status === 'NONE' ? undefined : (row?.status as DeliveryStatus | undefined);
    if (!isForward(current, change.status)) {
      this.logger.log(
        { hubspotMessageId: change.hubspotMessageId, current, late: change.status },
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
    await context.manager.query(
      `UPDATE "${schema}".outbound_message_statuses SET status = $2, updated_at = clock_timestamp()
        WHERE hubspot_message_id = $1`,
      [change.hubspotMessageId, change.status],
    );
    return 'applied';
  }
}
