import { METRICS_REGISTRY, registeredMetric } from '@inbox-bridge/service-kit';
import type { Provider } from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';

export type InboundResult =
  | 'accepted'
  | 'duplicate'
  | 'ignored'
  | 'status'
  | 'moved'
  | 'account_disabled'
  | 'account_deauthorized'
  | 'unauthorized'
  | 'invalid'
  | 'unknown_account';

export type OutboundResult = 'sent' | 'failed' | 'retried' | 'deferred' | 'account_disabled' | 'duplicate';

export type MediaResult = 'served' | 'forbidden' | 'not_found' | 'too_large' | 'upstream_error';

/** What comparing an account's inbound messages with the provider found: per message, or a failed comparison. */
export type ReconciledResult = 'recovered' | 'known' | 'ignored' | 'invalid' | 'check_failed';

/**
 * What reading a sent reply's status from the provider found: a status its callbacks had not brought (`changed`),
 * the final status they had (`confirmed`), not final yet (`pending`, read again later; `gave_up` after the last
 * read), or a read that failed.
 */
export type StatusCheckResult = 'changed' | 'confirmed' | 'pending' | 'gave_up' | 'check_failed';

/**
 * Webhooks checked with the provider: pointing at the connector and delivering (`healthy`), pointing elsewhere or
 * removed (`restored`), or failing to deliver since the previous check (`delivery_failing`), both set again; or a
 * check that failed.
 */
export type WebhookCheckResult = 'healthy' | 'restored' | 'delivery_failing' | 'overridden' | 'check_failed';

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  return registeredMetric(
    registry,
    name,
    () => new Counter({ name, help, labelNames, registers: [registry] }),
  );
}

/**
 * `connector_inbound_total`, `connector_outbound_total`, `connector_media_total`, `connector_inbound_reconciled_total`
 * `connector_delivery_status_checks_total` and `connector_webhook_checks_total`, by provider and result.
 */
@Injectable()
export class ConnectorMetrics {
  private readonly inbound: Counter<'provider' | 'result'>;
  private readonly outbound: Counter<'provider' | 'result'>;
  private readonly media: Counter<'provider' | 'result'>;
  private readonly reconciled: Counter<'provider' | 'result'>;
  private readonly statusChecks: Counter<'provider' | 'result'>;
  private readonly webhookChecks: Counter<'provider' | 'result'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.inbound = counter(
      registry,
      'connector_inbound_total',
      'Provider webhooks received, by provider and result',
      ['provider', 'result'],
    );
    this.outbound = counter(
      registry,
      'connector_outbound_total',
      'Replies sent to providers, by provider and result',
      ['provider', 'result'],
    );
    this.media = counter(
      registry,
      'connector_media_total',
      'Provider media requests, by provider and result',
      ['provider', 'result'],
    );
    this.reconciled = counter(
      registry,
      'connector_inbound_reconciled_total',
      'Inbound messages found by comparing accounts with their provider (recovered: its webhook had not delivered it), and failed comparisons',
      ['provider', 'result'],
    );
    this.statusChecks = counter(
      registry,
      'connector_delivery_status_checks_total',
      "Sent replies' statuses read from the provider because their callbacks may have been lost (changed: a status the callbacks had not brought), by provider and result",
      ['provider', 'result'],
    );
    this.webhookChecks = counter(
      registry,
      'connector_webhook_checks_total',
      "Accounts' webhooks checked with the provider (restored: it pointed elsewhere; delivery_failing: the provider could not deliver to it; both set again; overridden: a Twilio number's TwiML App or Messaging Service sends its messages elsewhere, not ours to set), by provider and result",
      ['provider', 'result'],
    );
  }

  countInbound(provider: Provider | 'unknown', result: InboundResult): void {
    this.inbound.inc({ provider, result });
  }

  countOutbound(provider: Provider | 'unknown', result: OutboundResult): void {
    this.outbound.inc({ provider, result });
  }

  countMedia(provider: Provider | 'unknown', result: MediaResult): void {
    this.media.inc({ provider, result });
  }

  countStatusCheck(provider: Provider, result: StatusCheckResult): void {
    this.statusChecks.inc({ provider, result });
  }

  countWebhookCheck(provider: Provider, result: WebhookCheckResult): void {
    this.webhookChecks.inc({ provider, result });
  }

  countReconciled(provider: Provider, result: ReconciledResult, count = 1): void {
    if (count > 0) {
      this.reconciled.inc({ provider, result }, count);
    }
  }
}
