import {
  orderingKeyOf,
  validatePayload,
  type MessageEnvelope,
  type MessageOf,
  type RoutingKey,
} from '@inbox-bridge/shared';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { correlationContext } from '../correlation-context.js';
import { ContractViolationError } from '../errors.js';
import { currentTraceHeaders } from '../tracing/trace-context.js';

export interface PublishOptions {
  readonly portalId: number;
  /** Defaults to the current correlation scope's id (HTTP request or message being handled). */
  readonly correlationId?: string;
  /** Defaults to the messageId of the message being handled, if any. */
  readonly causationId?: string | null;
  /** Set it to make a publish idempotent across retries of the producing code. */
  readonly messageId?: string;
}

/** Rows per INSERT statement, well under PostgreSQL's 65,535 bind parameters (5 per row). */
const ROWS_PER_INSERT = 1_000;

/**
 * Publishing means adding an outbox row to the caller's transaction (engineering notes §4.4): the event
 * exists if and only if the state change that produced it committed. The relay sends it afterwards.
 */
/** An envelope and the trace headers of the code that published it. */
interface OutboxRow {
  readonly envelope: MessageEnvelope;
  readonly headers: Record<string, string>;
}

export class OutboxWriter {
  /** Transactions whose publishes are held and written together when they end (see `collecting`). */
  private readonly held = new WeakMap<EntityManager, OutboxRow[]>();

  constructor(private readonly schema: string) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
      throw new Error(`unsafe schema name "${schema}"`);
    }
  }

  async publish<K extends RoutingKey>(
    manager: EntityManager,
    type: K,
    payload: MessageOf<K>,
    options: PublishOptions,
  ): Promise<MessageEnvelope<K>> {
    const [envelope] = await this.publishMany(manager, [{ type, payload, options }]);
    return envelope as MessageEnvelope<K>;
  }

  async publishMany(
    manager: EntityManager,
    messages: readonly { type: RoutingKey; payload: unknown; options: PublishOptions }[],
  ): Promise<MessageEnvelope[]> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error(
        'OutboxWriter.publish must run inside a transaction, with the state change it announces',
      );
    }
    const scope = correlationContext.current();
    const envelopes = messages.map(({ type, payload, options }): MessageEnvelope => {
      const checked = validatePayload(type, payload);
      if (!checked.ok) {
        throw new ContractViolationError(checked.issues);
      }
      return {
        messageId: options.messageId ?? randomUUID(),
        correlationId: options.correlationId ?? scope?.correlationId ?? randomUUID(),
        causationId: options.causationId !== undefined ? options.causationId : (scope?.messageId ?? null),
        occurredAt: new Date().toISOString(),
        portalId: options.portalId,
        type,
        payload: checked.value,
      };
    });
    // The trace of the code that published, taken now: a held row is written later, when the handler is done.
    const headers = currentTraceHeaders();
    const rows = envelopes.map((envelope) => ({ envelope, headers }));
    const held = this.held.get(manager);
    if (held === undefined) {
      await this.insert(manager, rows);
    } else {
      held.push(...rows);
    }
    return envelopes;
  }

  /**
   * Runs `work` holding every publish made on `manager` (its transaction), then writes them all with one INSERT
   * in the order they were made: a consumer's transaction pays one statement for its events instead of one per
   * event. A contract violation still throws at the publish call; nothing is written when `work` throws.
   */
  async collecting<T>(manager: EntityManager, work: () => Promise<T>): Promise<T> {
    if (this.held.has(manager)) {
      return work();
    }
    const held: OutboxRow[] = [];
    this.held.set(manager, held);
    let result: T;
    try {
      result = await work();
    } finally {
      this.held.delete(manager);
    }
    await this.insert(manager, held);
    return result;
  }

  private async insert(manager: EntityManager, rows: readonly OutboxRow[]): Promise<void> {
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
      await this.insertRows(manager, rows.slice(start, start + ROWS_PER_INSERT));
    }
  }

  private async insertRows(manager: EntityManager, rows: readonly OutboxRow[]): Promise<void> {
    const values: unknown[] = [];
    const placeholders = rows.map(({ envelope, headers }, i) => {
      values.push(
        envelope.messageId,
        envelope.type,
        envelope.portalId,
        orderingKeyOf(envelope),
        JSON.stringify(envelope),
        JSON.stringify(headers),
      );
      const p = i * 6;
      return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}::jsonb)`;
    });
    await manager.query(
      `INSERT INTO "${this.schema}".outbox (message_id, routing_key, portal_id, ordering_key, body, headers) VALUES ${placeholders.join(', ')}`,
      values,
    );
  }
}
