import {
  Messaging,
  PermanentError,
  activeTraceContext,
  classifyError,
  describeError,
  inConsumeSpan,
  inTraceContext,
  type TraceContext,
} from '@inbox-bridge/messaging';
import { APP_CONFIG, DATA_SOURCE } from '@inbox-bridge/service-kit';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from '../config/gateway.config.js';
import { HubSpotApiError } from '../hubspot/hubspot-api.js';
import {
  HubSpotWebhookEventRepository,
  type ClaimedWebhookEvent,
} from './hubspot-webhook-event.repository.js';
import { HubSpotWebhookMetrics } from './hubspot-webhook.metrics.js';
import {
  WEBHOOK_EVENT_PROCESSOR,
  type ProcessingResult,
  type WebhookEffect,
  type WebhookEventProcessor,
} from './hubspot-webhook.processing.js';
import { hubspotWebhookSchemas, isKnownWebhookType } from './hubspot-webhook.schemas.js';

/** A lease longer than any HubSpot call with its retries, so a live replica never loses its event. */
const LEASE_MS = 120_000;
const PRUNE_EVERY_MS = 600_000;
const PRUNE_BATCH = 1_000;
const WORKER_LOOPS = 2;
/**
 * A woken claim that found nothing waits this many times its own duration (at most the poll interval) before
 * claiming again: when every due event is blocked behind its key's oldest one, each claim walks them all, and
 * claiming again on every stored webhook would take the database from the webhooks' own acknowledgements.
 */
const EMPTY_CLAIM_BACKOFF_FACTOR = 4;
const SKIPPED: ProcessingResult = { outcome: 'skipped', reason: 'processed by another replica' };

interface PreparedEvent {
  readonly stored: ClaimedWebhookEvent;
  readonly effect: WebhookEffect;
  /** The event's processing span: its effect publishes in it, so what it publishes joins the webhook's trace. */
  readonly traceContext: TraceContext;
}

interface FailedEvent {
  readonly stored: ClaimedWebhookEvent;
  readonly error: unknown;
}

type RetryingOutcome = { readonly outcome: 'retrying' | 'failed'; readonly reason: string };

function isRetryable(error: unknown): boolean {
  if (error instanceof HubSpotApiError) {
    return error.details.retryable;
  }
  return classifyError(error) === 'transient';
}

/**
 * Processes stored HubSpot webhooks in the background, on every replica: claims due events with
 * `FOR UPDATE SKIP LOCKED` (one at a time per account or thread), lets the processor read what it needs
 * from HubSpot, then commits the effects and the processed mark in one transaction. Woken at once by the
 * intake of this replica; polls for events stored by the others and for retries.
 */
@Injectable()
export class HubSpotWebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('HubSpotWebhookWorker');
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly retryBaseMs: number;
  private readonly maxAttempts: number;
  private readonly retentionMs: number;
  private lastPruneAt = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  /** The sleeping loops' alarms. */
  private readonly sleepers = new Set<() => void>();
  /** No loop claims before this time after a woken claim found nothing (see EMPTY_CLAIM_BACKOFF_FACTOR). */
  private claimNotBefore = 0;
  /** The pausing loops' alarms, rung only at shutdown. */
  private readonly stopWaiters = new Set<() => void>();
  private wakeRequested = false;
  /**
   * Claimed events whose failure could not be recorded (the database was away): given back as soon as the
   * database answers, instead of waiting out their lease.
   */
  private readonly unreleased = new Map<string, { attempts: number; delayMs: number; reason: string }>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: GatewayConfig,
    @Inject(WEBHOOK_EVENT_PROCESSOR) private readonly processor: WebhookEventProcessor,
    private readonly events: HubSpotWebhookEventRepository,
    private readonly metrics: HubSpotWebhookMetrics,
    @Inject(Messaging) private readonly messaging: Pick<Messaging, 'outbox'>,
  ) {
    this.pollMs = config.WEBHOOK_WORKER_POLL_MS;
    this.batchSize = config.WEBHOOK_WORKER_CONCURRENCY;
    this.retryBaseMs = config.WEBHOOK_RETRY_BASE_MS;
    this.maxAttempts = config.WEBHOOK_MAX_ATTEMPTS;
    this.retentionMs = config.WEBHOOK_EVENT_RETENTION;
  }

  /** Deletes processed events past the retention, a batch at a time; returns how many. */
  async pruneProcessed(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const batch = await this.dataSource.transaction((manager) =>
        this.events.pruneProcessed(manager, this.retentionMs, PRUNE_BATCH),
      );
      deleted += batch;
      if (batch < PRUNE_BATCH || !this.running) {
        return deleted;
      }
    }
  }

  onApplicationBootstrap(): void {
    this.running = true;
    // Two loops, so one claims and prepares while the other commits; the claim never hands out an event whose
    // account or thread has an older one in flight, so order holds as it does across replicas.
    this.loops = Array.from({ length: WORKER_LOOPS }, () => this.run());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake();
    for (const stop of this.stopWaiters) {
      stop();
    }
    await Promise.all(this.loops);
  }

  /** New events were stored: look now instead of at the next poll. */
  wake(): void {
    this.wakeRequested = true;
    for (const wakeUp of this.sleepers) {
      wakeUp();
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed: ClaimedWebhookEvent[] = [];
      let claimMs = 0;
      await this.pause(this.claimNotBefore - Date.now());
      try {
        this.wakeRequested = false;
        await this.releaseUnrecordedFailures();
        const claimStartedAt = Date.now();
        claimed = await this.dataSource.transaction((manager) =>
          this.events.claim(manager, this.batchSize, LEASE_MS),
        );
        claimMs = Date.now() - claimStartedAt;
        await this.processAll(claimed);
      } catch (error) {
        this.logger.warn({ err: describeError(error) }, 'claiming HubSpot webhooks failed; retrying');
      }
      if (claimed.length === 0 && !this.wakeRequested) {
        await this.pruneNowAndThen();
        await this.sleep();
      } else if (claimed.length === 0) {
        // Shared by the loops: what one found nothing to claim in, the other would not either.
        this.claimNotBefore = Date.now() + Math.min(this.pollMs, EMPTY_CLAIM_BACKOFF_FACTOR * claimMs);
      }
    }
  }

  private async releaseUnrecordedFailures(): Promise<void> {
    for (const [id, failure] of [...this.unreleased]) {
      await this.dataSource.transaction((manager) =>
        this.events.releaseClaim(manager, id, failure.attempts, failure.delayMs, failure.reason),
      );
      this.unreleased.delete(id);
    }
  }

  private async pruneNowAndThen(): Promise<void> {
    if (Date.now() - this.lastPruneAt < PRUNE_EVERY_MS) {
      return;
    }
    this.lastPruneAt = Date.now();
    try {
      await this.pruneProcessed();
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, 'pruning processed HubSpot webhooks failed');
    }
  }

  /** Waits `ms` whatever wakes arrive meanwhile (they are claimed after it); shutdown ends it early. */
  private pause(ms: number): Promise<void> {
    return this.waitUnless(ms, this.stopWaiters);
  }

  /** Waits for the poll interval, or until new events are stored or shutdown begins. */
  private sleep(): Promise<void> {
    return this.waitUnless(this.pollMs, this.sleepers);
  }

  /** Waits `ms`, ended early by calling the alarm it leaves in `alarms`; not at all once stopping. */
  private async waitUnless(ms: number, alarms: Set<() => void>): Promise<void> {
    if (ms <= 0 || !this.running) {
      return;
    }
    await new Promise<void>((resolve) => {
      const ring = (): void => {
        clearTimeout(timer);
        alarms.delete(ring);
        resolve();
      };
      const timer = setTimeout(ring, ms);
      alarms.add(ring);
    });
  }

  /**
   * The claimed events (never two of one account or thread) are prepared at once (HubSpot reads, outside any
   * transaction), then their effects and processed marks are committed together: one commit for the whole claim
   * instead of one per event. If any effect fails, the group is rolled back and each event is committed alone, so
   * only the one that fails is retried. The failures of the claim are recorded together too: when HubSpot is down,
   * every event fails, and a transaction for each would take the database from the webhooks' acknowledgements.
   */
  private async processAll(claimed: readonly ClaimedWebhookEvent[]): Promise<void> {
    const prepared = await Promise.all(claimed.map((stored) => this.prepare(stored)));
    const ready = prepared.filter((item): item is PreparedEvent => 'effect' in item);
    const failures = prepared.filter((item): item is FailedEvent => 'error' in item);
    const together = ready.length > 1 ? await this.commitTogether(ready) : undefined;
    const results = new Map<string, ProcessingResult | RetryingOutcome>();
    await Promise.all(
      ready.map(async (item) => {
        if (together !== undefined) {
          results.set(item.stored.id, together.get(item.stored.id) ?? SKIPPED);
          return;
        }
        try {
          results.set(item.stored.id, (await this.commit([item])).get(item.stored.id) ?? SKIPPED);
        } catch (error) {
          failures.push({ stored: item.stored, error });
        }
      }),
    );
    for (const [id, outcome] of await this.recordFailures(failures)) {
      results.set(id, outcome);
    }
    for (const { stored } of prepared) {
      this.reportOutcome(stored, results.get(stored.id) ?? SKIPPED);
    }
  }

  /** In a span continuing the trace of the request that delivered the event (when it was traced). */
  private prepare(stored: ClaimedWebhookEvent): Promise<PreparedEvent | FailedEvent> {
    return inConsumeSpan(
      stored.traceHeaders,
      `process HubSpot webhook ${stored.eventType}`,
      { 'hubspot.portal_id': stored.portalId, 'inbox_bridge.webhook_event.attempt': stored.attempts },
      async () => {
        try {
          if (!isKnownWebhookType(stored.eventType)) {
            throw new PermanentError(`unknown event type ${stored.eventType}`);
          }
          const event = hubspotWebhookSchemas[stored.eventType].parse(stored.payload);
          const effect = await this.processor.prepare(event, stored);
          return { stored, effect, traceContext: activeTraceContext() };
        } catch (error) {
          return { stored, error };
        }
      },
    );
  }

  /** The group in one transaction; undefined when it rolled back. */
  private async commitTogether(
    ready: readonly PreparedEvent[],
  ): Promise<ReadonlyMap<string, ProcessingResult> | undefined> {
    try {
      return await this.commit(ready);
    } catch (error) {
      this.logger.warn(
        { err: describeError(error), events: ready.length },
        'committing HubSpot webhooks together failed; committing each alone',
      );
      return undefined;
    }
  }

  /**
   * The events' effects and processed marks in one transaction (their events written by one INSERT). An event
   * another replica finished meanwhile (its lease had expired) is skipped.
   */
  private commit(ready: readonly PreparedEvent[]): Promise<ReadonlyMap<string, ProcessingResult>> {
    return this.dataSource.transaction((manager) =>
      this.messaging.outbox.collecting(manager, async () => {
        const unprocessed = await this.events.lockAllUnprocessed(
          manager,
          ready.map((item) => item.stored.id),
        );
        const results = new Map<string, ProcessingResult>();
        for (const { stored, effect, traceContext } of ready) {
          if (unprocessed.has(stored.id)) {
            results.set(stored.id, await inTraceContext(traceContext, () => effect(manager)));
          }
        }
        await this.events.markAllProcessed(
          manager,
          [...results].map(([id, result]) => ({ id, ...result })),
        );
        return results;
      }),
    );
  }

  private reportOutcome(stored: ClaimedWebhookEvent, result: ProcessingResult | RetryingOutcome): void {
    this.metrics.processed(stored.eventType, result.outcome);
    if (result.outcome === 'failed' || result.outcome === 'rejected') {
      this.logger.warn(
        { eventId: stored.id, eventType: stored.eventType, portalId: stored.portalId, reason: result.reason },
        `HubSpot webhook ${result.outcome}`,
      );
    }
  }

  /** Retries later, or marks failed for good, every failed event in one transaction. */
  private async recordFailures(
    failures: readonly FailedEvent[],
  ): Promise<ReadonlyMap<string, RetryingOutcome>> {
    const decided = failures.map(({ stored, error }) => ({
      stored,
      reason: describeError(error),
      retry: isRetryable(error) && stored.attempts < this.maxAttempts,
      delayMs: Math.min(this.retryBaseMs * 5 ** (stored.attempts - 1), 1_800_000),
    }));
    if (decided.length > 0) {
      try {
        await this.dataSource.transaction(async (manager) => {
          await this.events.retryAllLater(
            manager,
            decided
              .filter((item) => item.retry)
              .map(({ stored, delayMs, reason }) => ({ id: stored.id, delayMs, reason })),
          );
          await this.events.markAllProcessed(
            manager,
            decided
              .filter((item) => !item.retry)
              .map(({ stored, reason }) => ({ id: stored.id, outcome: 'failed' as const, reason })),
          );
        });
      } catch (markError) {
        // Nothing is lost (the leases would expire), but the events are given back as soon as the database
        // answers: due after their retry delay, or at once when the failure was final, so a new attempt records it.
        for (const { stored, retry, delayMs, reason } of decided) {
          this.unreleased.set(stored.id, { attempts: stored.attempts, delayMs: retry ? delayMs : 0, reason });
        }
        this.logger.warn(
          { err: describeError(markError), events: decided.length },
          'could not record failures',
        );
      }
    }
    return new Map(
      decided.map(({ stored, retry, reason }) => [
        stored.id,
        { outcome: retry ? 'retrying' : 'failed', reason },
      ]),
    );
  }
}
