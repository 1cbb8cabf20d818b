import type { AnyMessageEnvelope, MessageEnvelope, MessageOf, RoutingKey } from '@inbox-bridge/shared';
import type { EntityManager } from 'typeorm';
import type { PublishOptions } from '../outbox/outbox-writer.js';

/**
 * What a handler gets besides the envelope. Everything it writes through `manager`, and everything it
 * publishes, commits in one transaction with the inbox record; the message is acked only after COMMIT.
 */
export interface MessageContext {
  readonly envelope: AnyMessageEnvelope;
  readonly manager: EntityManager;
  readonly queue: string;
  /** 1 for the first delivery; grows with each retry tier. */
  readonly attempt: number;
  readonly redelivered: boolean;
  /** Epoch ms a handler asked to wait until (`DeferredError`), when this delivery comes back from that wait. */
  readonly deferredUntil: number | undefined;
  /**
   * Runs `hook` once the handlers sharing this transaction (a batch) have finished, before it commits and in the
   * order asked: for writes that many messages of a batch make together with one statement. A hook that throws
   * fails the transaction like a handler that throws.
   */
  beforeCommit(hook: () => Promise<void>): void;
  /** Adds an outbox row to this transaction. portalId defaults to the handled message's portal. */
  publish<K extends RoutingKey>(
    type: K,
    payload: MessageOf<K>,
    options?: Partial<PublishOptions>,
  ): Promise<MessageEnvelope<K>>;
}

export type MessageHandler = (envelope: AnyMessageEnvelope, context: MessageContext) => Promise<void>;
