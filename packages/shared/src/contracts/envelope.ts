import { z } from 'zod';
import { Contracts, type MessageOf } from './message-map.js';
import { isRoutingKey, type RoutingKey } from './routing-keys.js';

/**
 * The body of every message on the bus. Publishers using raw AMQP must send exactly this JSON object,
 * with `messageId` also set as the AMQP `message_id` property.
 */
export interface MessageEnvelope<K extends RoutingKey = RoutingKey> {
  /** UUID; the consumers' idempotency key. */
  readonly messageId: string;
  /** Carried unchanged from the HTTP request or message that started the chain. */
  readonly correlationId: string;
  /** messageId of the message whose handling produced this one; null at the start of a chain. */
  readonly causationId: string | null;
  /** ISO-8601 UTC instant at which the producer recorded the event. */
  readonly occurredAt: string;
  /** HubSpot portal (hub) id: the tenant. */
  readonly portalId: number;
  /** The versioned routing key, e.g. `provider.message.received.v1`. */
  readonly type: K;
  readonly payload: MessageOf<K>;
}

export type AnyMessageEnvelope = { [K in RoutingKey]: MessageEnvelope<K> }[RoutingKey];

const envelopeHeaderSchema = z.strictObject({
  messageId: z.uuid(),
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200).nullable(),
  occurredAt: z.iso.datetime({ offset: true }),
  portalId: z.number().int().positive(),
  type: z.string().refine(isRoutingKey, { message: 'unknown message type (routing key)' }),
  payload: z.unknown(),
});

export type ContractViolation = { readonly ok: false; readonly issues: readonly string[] };
export type ContractResult<T> = { readonly ok: true; readonly value: T } | ContractViolation;

function describeIssues(error: z.ZodError, prefix: string): string[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return `${path || '(root)'}: ${issue.message}`;
  });
}

export function validatePayload<K extends RoutingKey>(
  type: K,
  payload: unknown,
): ContractResult<MessageOf<K>> {
  const result = Contracts[type].schema.safeParse(payload);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issues: describeIssues(result.error, 'payload') };
}

/** Validates a received body against the envelope schema and the payload schema of its type. */
export function parseEnvelope(body: unknown): ContractResult<AnyMessageEnvelope> {
  const header = envelopeHeaderSchema.safeParse(body);
  if (!header.success) {
    return { ok: false, issues: describeIssues(header.error, '') };
  }
  const type = header.data.type;
  const payload = validatePayload(type, header.data.payload);
  if (!payload.ok) {
    return payload;
  }
  return { ok: true, value: { ...header.data, type, payload: payload.value } as AnyMessageEnvelope };
}

export function orderingKeyOf<K extends RoutingKey>(envelope: MessageEnvelope<K>): string {
  const derive: ((payload: MessageOf<K>) => string) | undefined = Contracts[envelope.type].orderingKey;
  return derive ? derive(envelope.payload) : envelope.messageId;
}
