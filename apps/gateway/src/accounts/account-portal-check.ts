import { METRICS_REGISTRY } from '@inbox-bridge/service-kit';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import type { ProcessingResult } from '../webhooks/hubspot-webhook.processing.js';
import type { ChannelAccountRecord } from './channel-account-directory.js';

const METRIC = 'hubspot_webhook_foreign_accounts_total';

/**
 * A HubSpot webhook acts only on a channel account of its own portal: one naming another portal's account would
 * otherwise purge it, change it or send a reply through it. Such an event is skipped, not refused (HubSpot would
 * redeliver a 4xx for a day), with a warning and `hubspot_webhook_foreign_accounts_total{event_type}`.
 */
@Injectable()
export class AccountPortalCheck {
  private readonly logger = new Logger('AccountPortalCheck');
  private readonly foreign: Counter<'event_type'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const existing = registry.getSingleMetric(METRIC);
    this.foreign =
      existing instanceof Counter
        ? existing
        : new Counter({
            name: METRIC,
            help: 'HubSpot webhooks naming a channel account of another portal, skipped without touching the account',
            labelNames: ['event_type'],
            registers: [registry],
          });
  }

  /** The skip to record when `account` is another portal's than the event's; undefined when it may be acted on. */
  skipForeign(
    event: { readonly type: string; readonly portalId: number },
    account: Pick<ChannelAccountRecord, 'channelAccountId' | 'portalId'> | undefined,
  ): ProcessingResult | undefined {
    if (account === undefined || account.portalId === String(event.portalId)) {
      return undefined;
    }
    this.foreign.inc({ event_type: event.type });
    this.logger.warn(
      { eventType: event.type, portalId: event.portalId, channelAccountId: account.channelAccountId },
      'HubSpot webhook names a channel account of another portal; skipped',
    );
    return {
      outcome: 'skipped',
      reason: `channel account ${account.channelAccountId} is not an account of portal ${event.portalId}`,
    };
  }
}
