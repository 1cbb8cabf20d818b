import { listDeadLetters, type DeadLetterSummary } from '@inbox-bridge/messaging';
import amqp from 'amqplib';
import type { RunningStack } from '../stack.js';

export interface GroupDeadLetters {
  readonly group: string;
  readonly letters: readonly DeadLetterSummary[];
}

const DLQ_SUFFIX = '.dlq';

/**
 * What the services dead-lettered during the run, read without removing it. Every message of a chaos run is valid,
 * so each one is a message the bridge gave up on: a loss until an operator replays it.
 */
export async function readDeadLetters(stack: Pick<RunningStack, 'vhost'>): Promise<GroupDeadLetters[]> {
  const queues = (await stack.vhost.queues()).filter(
    (queue) => queue.name.endsWith(DLQ_SUFFIX) && queue.messages > 0,
  );
  if (queues.length === 0) {
    return [];
  }
  const connection = await amqp.connect(stack.vhost.url);
  try {
    const found: GroupDeadLetters[] = [];
    for (const queue of queues) {
      const channel = await connection.createChannel();
      const group = queue.name.slice(0, -DLQ_SUFFIX.length);
      try {
        found.push({ group, letters: await listDeadLetters(channel, group) });
      } finally {
        await channel.close().catch(() => undefined);
      }
    }
    return found;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** One line per dead letter: where, what and why. */
export function deadLetterViolations(groups: readonly GroupDeadLetters[]): string[] {
  return groups.flatMap(({ group, letters }) =>
    letters.map(
      (letter) =>
        `${group} dead-lettered ${letter.type ?? 'a message'} ${letter.messageId ?? ''} after ` +
        `${letter.attempts ?? '?'} attempts (${letter.errorClass ?? 'unknown'}): ${(letter.error ?? 'no reason').slice(0, 300)}`,
    ),
  );
}
