import pg from 'pg';
import type { MessagingLogger } from '../logger.js';

export interface ShardOwnershipOptions {
  readonly databaseUrl: string;
  readonly schema: string;
  readonly group: string;
  readonly shards: number;
  readonly logger: MessagingLogger;
  readonly rebalanceIntervalMs?: number;
  /** Start consuming a shard this replica owns; asked again at every rebalance for each one held, so idempotent. */
  readonly acquire: (shard: number) => Promise<void>;
  /** Stop consuming a shard and finish its in-flight messages before ownership is given up. */
  readonly release: (shard: number) => Promise<void>;
}

/**
 * Spreads the shards of an ordered consumer group fairly over its replicas. Each replica holds a PostgreSQL
 * advisory lock per shard it consumes, on a session whose application_name marks it as a member; the member
 * count gives the fair share. A replica that dies loses its session and so its locks, and the others pick up
 * its shards at their next rebalance. The queues' single-active-consumer flag stays the safety net: even a
 * replica that lost its session unnoticed cannot consume a shard at the same time as its new owner.
 */
export class ShardOwnership {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly owned = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /**
   * Releases of a lost session's shards, still finishing their in-flight messages. A rebalance waits for them: one
   * that took a shard back meanwhile would have its new consumer cancelled by the late release, leaving the shard
   * locked here and consumed by nobody.
   */
  private releasing: Promise<void> = Promise.resolve();
  /** A rebalance was asked for while one ran: run another right after it, never two at once. */
  private rerun = false;
  private stopped = false;

  constructor(private readonly options: ShardOwnershipOptions) {}

  get ownedShards(): readonly number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  get healthy(): boolean {
    return this.client !== undefined;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Run a rebalance now (e.g. after the broker connection came back). */
  nudge(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.releasing;
    for (const shard of this.ownedShards) {
      await this.options.release(shard).catch(() => undefined);
    }
    this.owned.clear();
    await this.connecting?.catch(() => undefined);
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private get memberName(): string {
    return `shards:${this.options.schema}:${this.options.group}`.slice(0, 63);
  }

  /**
   * Rebalances run one at a time: two at once would each open a member session (the group then counts a replica
   * that does not exist and this one gives up shards nobody takes) and take an advisory lock twice on one session
   * (a single unlock then leaves the shard locked).
   */
  private schedule(delayMs: number): void {
    if (this.stopped) {
      return;
    }
    if (this.running !== undefined) {
      this.rerun = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.rebalance()
        .catch((error: unknown) => {
          this.options.logger.warn('shard rebalance failed', {
            group: this.options.group,
            error: String(error),
          });
        })
        .finally(() => {
          this.running = undefined;
          const again = this.rerun;
          this.rerun = false;
          this.schedule(again ? 0 : (this.options.rebalanceIntervalMs ?? 2_000));
        });
    }, delayMs);
  }

  private session(): Promise<pg.Client> {
    if (this.client) {
      return Promise.resolve(this.client);
    }
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: this.memberName,
      // The server notices a replica whose host vanished within ~25 s (not the kernel's 2 h) and frees its shards.
      options: '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3',
      keepAlive: true,
    });
    const lost = (): void => {
      if (this.client === client) {
        this.client = undefined;
        this.loseAll();
      }
      // A session that raised an error may still be open on the server, counted as a member and holding locks.
      void client.end().catch(() => undefined);
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    return client;
  }

  /** The session died: its locks are gone, so stop consuming everything until we own shards again. */
  private loseAll(): void {
    const shards = this.ownedShards;
    this.owned.clear();
    this.releasing = this.releasing.then(async () => {
      for (const shard of shards) {
        await this.options.release(shard).catch(() => undefined);
      }
    });
  }

  private lockKey(shard: number): string {
    return `inbox-bridge.shard.${this.options.schema}.${this.options.group}.${shard}`;
  }

  private isStopped(): boolean {
    return this.stopped;
  }

  private async rebalance(): Promise<void> {
    if (this.stopped) {
      return;
    }
    await this.releasing;
    const client = await this.session();
    const members = await client.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
      [this.memberName],
    );
    const replicas = Math.max(1, Number(members.rows[0]?.n ?? 1));
    const fairShare = Math.ceil(this.options.shards / replicas);

    for (const shard of [...this.ownedShards].reverse()) {
      if (this.owned.size <= fairShare) {
        break;
      }
      this.owned.delete(shard);
      await this.options.release(shard);
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.lockKey(shard)]);
      this.options.logger.info('released shard', { group: this.options.group, shard, replicas });
    }

    // `acquire` is idempotent: a shard held here whose consumer was lost by any path is consumed again.
    for (const shard of this.ownedShards) {
      if (this.isStopped()) {
        return;
      }
      await this.options.acquire(shard);
    }

    const candidates = Array.from({ length: this.options.shards }, (_, i) => i)
      .filter((shard) => !this.owned.has(shard))
      .sort(() => Math.random() - 0.5);
    for (const shard of candidates) {
      // Re-read through a method: stop() may have run during the awaits above.
      if (this.owned.size >= fairShare || this.isStopped()) {
        break;
      }
      const locked = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
        this.lockKey(shard),
      ]);
      if (locked.rows[0]?.ok) {
        this.owned.add(shard);
        try {
          await this.options.acquire(shard);
          this.options.logger.info('acquired shard', { group: this.options.group, shard, replicas });
        } catch (error) {
          this.owned.delete(shard);
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.lockKey(shard)]);
          throw error;
        }
      }
    }
  }
}
