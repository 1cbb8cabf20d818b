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

export interface PublishOptions {
  readonly portalId: number;
  /** Defaults to the current correlation scope's id (HTTP request or message being handled). */
  readonly correlationId?: string;
  /** Defaults to the messageId of the message being handled, if any. */
  readonly causationId?: string | null;
  /** Set it to make a publish idempotent across retries of the producing code. */
  readonly messageId?: string;
}

/**
 * Publishing means adding an outbox row to the caller's transaction (engineering notes §4.4): the event
 * exists if and only if the state change that produced it committed. The relay sends it afterwards.
 */
export class OutboxWriter {
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
    const values: unknown[] = [];
    const rows = envelopes.map((envelope, i) => {
      values.push(
        envelope.messageId,
        envelope.type,
        envelope.portalId,
        orderingKeyOf(envelope),
        JSON.stringify(envelope),
      );
      const p = i * 5;
      return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5})`;
    });
    if (rows.length > 0) {
      await manager.query(
        `INSERT INTO "${this.schema}".outbox (message_id, routing_key, portal_id, ordering_key, body) VALUES ${rows.join(', ')}`,
        values,
      );
    }
    return envelopes;
  }
}
