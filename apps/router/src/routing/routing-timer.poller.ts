import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ROUTER_CLOCK, type Clock } from './clock.js';
import { RoutingRepository } from './routing.repository.js';
import { RoutingService } from './routing.service.js';

export interface TimerPollerSettings {
  readonly intervalMs: number;
  /** Most due timers and waiting conversations handled per pass (one transaction each). */
  readonly batchSize: number;
}

export const TIMER_POLLER_SETTINGS = Symbol('TIMER_POLLER_SETTINGS');

/**
 * The durable timers (no-reply reassignment, retry of an assignment) and the back-fill sweep. Timers live
 * on the conversation rows in PostgreSQL, so they survive restarts. Every replica runs the loop, but a pass
 * only proceeds while it holds a transaction-level advisory lock, so one replica polls at a time; each due
 * row is then taken with FOR UPDATE SKIP LOCKED in a transaction of its own.
 */
@Injectable()
export class RoutingTimerPoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RoutingTimerPoller.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private sweepRequested = false;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
    private readonly repository: RoutingRepository,
    @Inject(ROUTER_CLOCK) private readonly clock: Clock,
    @Inject(TIMER_POLLER_SETTINGS) private readonly settings: TimerPollerSettings,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(this.settings.intervalMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Runs a back-fill sweep soon (after an account was switched back on, or rules changed). */
  requestSweep(): void {
    this.sweepRequested = true;
  }

  /** One pass: due timers first, then waiting conversations of every portal. Safe to call concurrently. */
  async runOnce(): Promise<{ timers: number; assigned: number }> {
    const result = { timers: 0, assigned: 0 };
    this.sweepRequested = false;
    for (let i = 0; i < this.settings.batchSize; i += 1) {
      const handled = await this.inPollingTransaction(async (manager) => {
        const [due] = await this.repository.lockDue(manager, this.clock.now(), 1);
        if (due === undefined) {
          return false;
        }
        await this.routing.timerDue(manager, due);
        return true;
      });
      if (handled !== true) {
        break;
      }
      result.timers += 1;
    }
    const portals = await this.repository.portalsWithWaiting(this.dataSource.manager);
    for (const portalId of portals) {
      const assigned = await this.inPollingTransaction((manager) => this.routing.backfill(manager, portalId));
      result.assigned += assigned ?? 0;
    }
    return result;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) {
      return;
    }
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) => {
          this.logger.warn({ err: error }, 'routing timer pass failed; the next pass retries');
        })
        .finally(() => {
          this.running = undefined;
          this.schedule(this.sweepRequested ? 0 : this.settings.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** Runs `work` in a transaction holding the poller's advisory lock; undefined when another replica has it. */
  private async inPollingTransaction<T>(
    work: (manager: import('typeorm').EntityManager) => Promise<T>,
  ): Promise<T | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const [lock] = await manager.query<{ locked: boolean }[]>(
        `SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':router-timers')) AS locked`,
      );
      if (lock?.locked !== true) {
        return undefined;
      }
      return work(manager);
    });
  }
}
