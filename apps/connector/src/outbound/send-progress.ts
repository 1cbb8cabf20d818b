import { CommitBatch, type MessageContext } from '@inbox-bridge/messaging';
import { BoundedMap } from '@inbox-bridge/service-kit';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * Writes one accepted part where the next process finds it; must not reject (memory still covers this process).
 * Its promise settles when the write is done.
 */
type PersistPart = (part: string, value: string) => Promise<void>;

/** The parts of one reply already accepted by the provider (a reply can be several provider messages). */
export class SendProgress {
  private readonly parts = new Map<string, string>();
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly persist?: PersistPart) {}

  /** The provider message id of a part sent by an earlier attempt, if any. */
  sent(part: string): string | undefined {
    return this.parts.get(part);
  }

  record(part: string, providerMessageId: string): void {
    this.parts.set(part, providerMessageId);
    const write = this.persist?.(part, providerMessageId);
    if (write !== undefined) {
      this.writing.add(write);
      void write.finally(() => this.writing.delete(write));
    }
  }

  /** Once every part recorded so far is written (or its write failed). */
  async written(): Promise<void> {
    await Promise.allSettled([...this.writing]);
  }

  /** Parts an earlier process recorded. */
  restore(part: string, value: string): void {
    this.parts.set(part, value);
  }
}

const MAX_TRACKED_REPLIES = 10_000;

/**
 * How long a part's write keeps trying. Right after a database restart the pool's first statement can fail on a
 * connection the restart closed; giving up then left the part in memory only, and a process killed a moment
 * later sent it again (seen in the chaos run).
 */
const PART_WRITE_DEADLINE_MS = 30_000;
const PART_WRITE_FIRST_RETRY_MS = 25;
const PART_WRITE_MAX_RETRY_MS = 1_000;

/** Where the store keeps parts across processes: the connector's `reply_parts_sent` table. */
export interface DurableProgress {
  readonly dataSource: DataSource;
  /**
   * Where parts are written: a pool of its own, so a write never waits for a connection behind the consumers'
   * transactions (which hold theirs while they send). Every moment a write waits is a moment in which a process
   * killed would send the part again.
   */
  readonly writer: DataSource;
  readonly schema: string;
  /** A part's write failed; it is tried again until {@link PART_WRITE_DEADLINE_MS} has passed. */
  readonly onPersistRetry?: (error: unknown) => void;
  /** A part's write kept failing until its deadline: only this process knows it was sent. */
  readonly onPersistFailed: (error: unknown) => void;
}

/**
 * Remembers, across deliveries of one reply, which of its parts the provider already accepted, so a retry
 * after a partial failure (the text went out, the file hit a rate limit) sends only what is missing, and a
 * redelivery after the outcome could not be recorded (the database went away after the provider accepted, or the
 * process died before its transaction committed) sends nothing again. Each part is written to the database the
 * moment the provider accepts it, outside the message's transaction (which may never commit), and is removed by
 * the transaction that records the reply's outcome; a write that fails (the database restarting) is tried again for
 * up to 30 s. The window left is the time that write takes to land: a process killed inside it can still send a
 * part twice, as the providers' non-idempotent APIs allow.
 */
export class SendProgressStore {
  private readonly replies = new BoundedMap<string, SendProgress>(MAX_TRACKED_REPLIES);
  /** Replies completed per transaction, forgotten when it commits (only parts kept durably need forgetting). */
  private readonly completing: CommitBatch<readonly [string, string]> | undefined;

  constructor(private readonly durable?: DurableProgress) {
    this.completing =
      durable === undefined
        ? undefined
        : new CommitBatch((manager, replies) => this.forget(durable, manager, replies));
  }

  /** The reply's progress, with what an earlier process recorded. */
  async load(channelAccountId: string, hubspotMessageId: string): Promise<SendProgress> {
    const key = `${channelAccountId}:${hubspotMessageId}`;
    const known = this.replies.get(key);
    if (known !== undefined) {
      return known;
    }
    const progress = this.create(channelAccountId, hubspotMessageId);
    if (this.durable !== undefined) {
      const rows: { part: string; value: string }[] = await this.durable.dataSource.query(
        `SELECT part, value FROM "${this.durable.schema}".reply_parts_sent
          WHERE channel_account_id = $1 AND hubspot_message_id = $2`,
        [channelAccountId, hubspotMessageId],
      );
      for (const row of rows) {
        progress.restore(row.part, row.value);
      }
    }
    this.replies.set(key, progress);
    return progress;
  }

  /**
   * In the transaction that records the reply's outcome: its parts are no longer needed by anyone. The replies of
   * one transaction are forgotten together, by one statement just before it commits.
   */
  completed(
    context: Pick<MessageContext, 'manager' | 'beforeCommit'>,
    channelAccountId: string,
    hubspotMessageId: string,
  ): void {
    this.completing?.add(context, [channelAccountId, hubspotMessageId]);
  }

  private async forget(
    durable: DurableProgress,
    manager: EntityManager,
    replies: readonly (readonly [string, string])[],
  ): Promise<void> {
    // A part's write leaves for the database without waiting; deleted before it lands, it would stay behind.
    await Promise.all(
      replies.map(
        ([account, message]) => this.replies.get(`${account}:${message}`)?.written() ?? Promise.resolve(),
      ),
    );
    await manager.query(
      `DELETE FROM "${durable.schema}".reply_parts_sent AS p
        USING unnest($1::text[], $2::text[]) AS r(channel_account_id, hubspot_message_id)
        WHERE p.channel_account_id = r.channel_account_id AND p.hubspot_message_id = r.hubspot_message_id`,
      [replies.map(([account]) => account), replies.map(([, message]) => message)],
    );
  }

  private create(channelAccountId: string, hubspotMessageId: string): SendProgress {
    const durable = this.durable;
    if (durable === undefined) {
      return new SendProgress();
    }
    // Not awaited by the send path: the statement leaves for the database at once, and sending must not wait or
    // fail on it.
    return new SendProgress((part, value) =>
      writePart(durable, [channelAccountId, hubspotMessageId, part, value]),
    );
  }
}

async function writePart(
  durable: DurableProgress,
  row: readonly [string, string, string, string],
): Promise<void> {
  const deadline = Date.now() + PART_WRITE_DEADLINE_MS;
  for (let wait = PART_WRITE_FIRST_RETRY_MS; ; wait = Math.min(wait * 2, PART_WRITE_MAX_RETRY_MS)) {
    try {
      await durable.writer.query(
        `INSERT INTO "${durable.schema}".reply_parts_sent (channel_account_id, hubspot_message_id, part, value)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (channel_account_id, hubspot_message_id, part) DO UPDATE SET value = EXCLUDED.value`,
        [...row],
      );
      return;
    } catch (error) {
      if (Date.now() + wait > deadline) {
        durable.onPersistFailed(error);
        return;
      }
      durable.onPersistRetry?.(error);
      await sleep(wait);
    }
  }
}
