import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { ROUTER_CLOCK, type Clock } from './clock.js';
import { RoutingMetrics } from './routing.metrics.js';
import { RoutingRepository } from './routing.repository.js';
import { RoutingService } from './routing.service.js';

export interface TimerPollerSettings {
  readonly intervalMs: number;
  /** Most due timers, and most waiting conversations per portal, handled per pass. */
  readonly batchSize: number;
  /** For the LISTEN connection that wakes the back-fill when a slot frees up in any replica. */
  readonly databaseUrl: string;
  readonly schema: string;
}

export const TIMER_POLLER_SETTINGS = Symbol('TIMER_POLLER_SETTINGS');

const RERUN_DELAY_MS = 25;

/**
 * The durable timers (no-reply reassignment, retry of an assignment) and the back-fill of the queue. Timers
 * live on the conversation rows in PostgreSQL, so they survive restarts. Every replica runs the loop, but each
 * step proceeds only while its transaction holds an advisory lock, so one replica polls at a time; each step
 * is a transaction of its own that takes its rows with FOR UPDATE SKIP LOCKED. A pass runs every
 * interval, and at once when a handler in any replica frees a slot (NOTIFY at its COMMIT).
 */
@Injectable()
export class RoutingTimerPoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RoutingTimerPoller.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private listener: pg.Client | undefined;
  private listening: Promise<void> | undefined;
  private stopped = false;
  private passRequested = false;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
    private readonly repository: RoutingRepository,
    @Inject(ROUTER_CLOCK) private readonly clock: Clock,
    @Inject(TIMER_POLLER_SETTINGS) private readonly settings: TimerPollerSettings,
    private readonly metrics: RoutingMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.relisten();
    await this.listening;
    this.schedule(this.settings.intervalMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.listening;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Runs a pass as soon as the current one (if any) ends. */
  requestSweep(): void {
    this.passRequested = true;
    if (this.running === undefined && !this.stopped) {
      clearTimeout(this.timer);
      this.schedule(0);
    }
  }

  /** One pass: due timers first, then the waiting conversations of every portal, oldest first. */
  async runOnce(): Promise<{ timers: number; assigned: number }> {
    const result = { timers: 0, assigned: 0 };
    this.passRequested = false;
    for (let i = 0; i < this.settings.batchSize; i += 1) {
      const handled = await this.inPollingTransaction(async (manager) => {
        const [due] = await this.repository.lockDue(manager, this.clock.now(), 1);
        if (due === undefined) {
          return false;
        }
        await this.routing.timerDue(manager, due);
        return true;
      });
      if (handled === undefined) {
        this.passRequested = true;
      }
      if (handled !== true) {
        break;
      }
      result.timers += 1;
    }
    const waiting = await this.repository.waitingCounts(this.dataSource.manager);
    this.metrics.queueLength([...waiting.values()].reduce((sum, count) => sum + count, 0));
    for (const portalId of waiting.keys()) {
      for (let i = 0; i < this.settings.batchSize; i += 1) {
        // One snapshot per step: a slot freed by a commit during the step cannot go to a younger conversation
        // after an older one was already found unplaceable. A concurrent update of the same agent aborts the
        // step (serialization failure) and the pass runs again.
        const placed = await this.inPollingTransaction(
          (manager) => this.routing.backfillOldest(manager, portalId, this.settings.batchSize),
          'REPEATABLE READ',
        );
        if (placed === undefined) {
          this.passRequested = true;
        }
        if (placed !== true) {
          break;
        }
        result.assigned += 1;
      }
    }
    return result;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) {
      return;
    }
    this.timer = setTimeout(() => {
      // A listener lost with its connection (database restart) is set up again, so freed slots keep waking
      // the back-fill at once instead of on the interval only.
      this.relisten();
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) => {
          this.logger.warn({ err: error }, 'routing timer pass failed; the next pass retries');
        })
        .finally(() => {
          this.running = undefined;
          // Another replica held the polling lock, or a slot freed during the pass: go again shortly.
          this.schedule(
            this.passRequested
              ? Math.min(RERUN_DELAY_MS, this.settings.intervalMs)
              : this.settings.intervalMs,
          );
        });
    }, delayMs);
    this.timer.unref();
  }

  /** Starts listening unless a listener is up, being set up, or the poller stopped. */
  private relisten(): void {
    if (this.listener !== undefined || this.listening !== undefined || this.stopped) {
      return;
    }
    this.listening = this.listen().finally(() => {
      this.listening = undefined;
    });
  }

  /** LISTEN for back-fill signals; without it (database briefly away) the interval still drives passes. */
  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.settings.databaseUrl,
      application_name: 'router:backfill-listener',
    });
    client.on('notification', () => {
      this.requestSweep();
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'back-fill listener lost; passes continue on the interval');
      if (this.listener === client) {
        this.listener = undefined;
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN "backfill_${this.settings.schema}"`);
      this.listener = client;
      // Slots may have freed while nobody listened.
      this.passRequested = true;
    } catch (error) {
      this.logger.warn({ err: error }, 'back-fill listener unavailable; passes continue on the interval');
      await client.end().catch(() => undefined);
    }
  }

  /** Runs `work` in a transaction holding the poller's advisory lock; undefined when another replica has it. */
  private async inPollingTransaction<T>(
    work: (manager: EntityManager) => Promise<T>,
    isolation: 'READ COMMITTED' | 'REPEATABLE READ' = 'READ COMMITTED',
  ): Promise<T | undefined> {
    try {
      return await this.dataSource.transaction(isolation, async (manager) => {
        const [lock] = await manager.query<{ locked: boolean }[]>(
          `SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':router-timers')) AS locked`,
        );
        if (lock?.locked !== true) {
          return undefined;
        }
        return work(manager);
      });
    } catch (error) {
      if (isConcurrencyAbort(error)) {
        return undefined;
      }
      throw error;
    }
  }
}

/** Serialization failure, deadlock or a lock wait cut short (AgentLockOrder): the step is simply run again. */
function isConcurrencyAbort(error: unknown): boolean {
  const direct = (error as { code?: unknown } | null)?.code;
  const driver = (error as { driverError?: { code?: unknown } } | null)?.driverError?.code;
  return [direct, driver].some((code) => code === '40001' || code === '40P01' || code === '55P03');
}
