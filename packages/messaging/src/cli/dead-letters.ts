import type { Channel, ConfirmChannel, GetMessage } from 'amqplib';
import { describeError } from '../errors.js';
import {
  ATTEMPT_HEADER,
  ERROR_CLASS_HEADER,
  ERROR_HEADER,
  FAILED_AT_HEADER,
  HELD_BACK_HEADER,
  ORIGINAL_QUEUE_HEADER,
  withoutHeaders,
} from '../topology.js';

export interface DeadLetterSummary {
  readonly messageId: string | undefined;
  readonly type: string | undefined;
  readonly originalQueue: string | undefined;
  readonly errorClass: string | undefined;
  readonly error: string | undefined;
  readonly failedAt: string | undefined;
  readonly attempts: number | undefined;
  readonly body: string;
}

interface XDeath {
  queue?: string;
  reason?: string;
}

/** A header or property value as text: strings as they are, binary as UTF-8, structured values as JSON. */
function str(value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') {
    return value;
  }
  if (Buffer.isBuffer(value)) {
    return value.toString('utf8');
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value);
}

function summarize(message: GetMessage): DeadLetterSummary {
  const headers = message.properties.headers ?? {};
  const death = (headers['x-death'] as XDeath[] | undefined)?.[0];
  return {
    messageId: str(message.properties.messageId),
    type: str(message.properties.type),
    originalQueue: str(headers[ORIGINAL_QUEUE_HEADER]) ?? death?.queue,
    errorClass: str(headers[ERROR_CLASS_HEADER]) ?? (death?.reason ? `broker:${death.reason}` : undefined),
    error:
      str(headers[ERROR_HEADER]) ??
      (death?.reason === 'delivery_limit' ? 'delivery limit reached (crash loop)' : undefined),
    failedAt: str(headers[FAILED_AT_HEADER]),
    attempts: headers[ATTEMPT_HEADER] === undefined ? undefined : Number(headers[ATTEMPT_HEADER]),
    body: message.content.toString('utf8'),
  };
}

/** Reads every dead letter of a consumer group without removing it (they return to the queue on close). */
export async function listDeadLetters(
  channel: Channel,
  group: string,
  limit = 1_000,
): Promise<DeadLetterSummary[]> {
  const found: DeadLetterSummary[] = [];
  try {
    for (let i = 0; i < limit; i += 1) {
      const message = await channel.get(`${group}.dlq`, { noAck: false });
      if (!message) {
        break;
      }
      found.push(summarize(message));
    }
  } finally {
    await channel.recover().catch(() => undefined);
  }
  return found;
}

/**
 * Sends dead letters back to the queue they failed in (only that consumer group sees them again), as a
 * first attempt. With `messageIds`, only those; others stay in the DLQ.
 */
export async function replayDeadLetters(
  channel: ConfirmChannel,
  group: string,
  options: { messageIds?: readonly string[]; limit?: number } = {},
): Promise<{ replayed: string[]; kept: number }> {
  const replayed: string[] = [];
  const skipped: GetMessage[] = [];
  const wanted = options.messageIds ? new Set(options.messageIds) : undefined;
  const limit = options.limit ?? 10_000;
  try {
    while (replayed.length + skipped.length < limit) {
      const message = await channel.get(`${group}.dlq`, { noAck: false });
      if (!message) {
        break;
      }
      const summary = summarize(message);
      if (wanted && !wanted.has(summary.messageId ?? '')) {
        skipped.push(message);
        continue;
      }
      const headers: Record<string, unknown> = {
        ...withoutHeaders(message.properties.headers, [
          ATTEMPT_HEADER,
          ERROR_HEADER,
          ERROR_CLASS_HEADER,
          FAILED_AT_HEADER,
          HELD_BACK_HEADER,
          'x-death',
        ]),
        'x-replayed-at': new Date().toISOString(),
      };
      const ordered = /\.shard-\d+$/.test(summary.originalQueue ?? '');
      await new Promise<void>((resolve, reject) => {
        const options = {
          persistent: true,
          contentType: message.properties.contentType as string | undefined,
          messageId: summary.messageId,
          type: summary.type,
          headers,
        };
        const done = (error: unknown): void => {
          if (error) {
            reject(error instanceof Error ? error : new Error(describeError(error)));
          } else {
            resolve();
          }
        };
        if (ordered) {
          // Through the group's hash exchange, so it lands on the shard of its ordering key.
          channel.publish(`${group}.hash`, '', message.content, options, done);
        } else {
          channel.sendToQueue(group, message.content, options, done);
        }
      });
      channel.ack(message);
      replayed.push(summary.messageId ?? '(no id)');
    }
  } finally {
    for (const message of skipped) {
      channel.nack(message, false, true);
    }
  }
  return { replayed, kept: skipped.length };
}
