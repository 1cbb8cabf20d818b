import {
  EVENTS_EXCHANGE,
  ORDERING_KEY_HEADER,
  listDeadLetters,
  type DeadLetterSummary,
} from '@inbox-bridge/messaging';
import { RoutingKeys, type RoutingKey } from '@inbox-bridge/shared';
import amqp from 'amqplib';
import { randomUUID } from 'node:crypto';
import type { Random } from './random.js';

/** The consumer groups bound to each routing key the fuzz run poisons (the services' consumer-groups files). */
const GROUPS_OF: Readonly<Partial<Record<RoutingKey, readonly string[]>>> = {
  [RoutingKeys.ProviderMessageReceivedV1]: ['gateway.inbound'],
  [RoutingKeys.ConnectorDeliveryStatusChangedV1]: ['gateway.delivery-status'],
  [RoutingKeys.RouterAssignmentRequestedV1]: ['gateway.assignments'],
  [RoutingKeys.ConnectorCredentialsValidatedV1]: ['gateway.credentials'],
  [RoutingKeys.ConnectorCredentialsRejectedV1]: ['gateway.credentials'],
  [RoutingKeys.ConnectorCredentialsValidateV1]: ['connector.credentials'],
  [RoutingKeys.ConnectorCredentialsValidateV2]: ['connector.credentials'],
  [RoutingKeys.GatewayChannelAccountConnectedV1]: ['connector.accounts', 'router.directory'],
  [RoutingKeys.GatewayOutboundMessageRequestedV1]: ['connector.outbound', 'router.conversations'],
  [RoutingKeys.GatewayConversationStartedV1]: ['router.conversations'],
  [RoutingKeys.GatewayRosterChangedV1]: ['router.directory'],
};

export interface PoisonOutcome {
  readonly label: string;
  readonly routingKey: string;
  readonly messageId: string;
  /** Per consumer group bound to the key: the dead letter found, or undefined when it never arrived. */
  readonly deadLetters: Readonly<Record<string, DeadLetterSummary | undefined>>;
}

function envelope(
  type: string,
  payload: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    messageId: randomUUID(),
    correlationId: randomUUID(),
    causationId: null,
    occurredAt: new Date().toISOString(),
    portalId: 4242,
    type,
    payload,
    ...extra,
  };
}

/** Bodies no consumer can handle; each must end in its group's dead-letter queue with a reason. */
function poisons(routingKey: string, random: Random): { label: string; body: Buffer; messageId: string }[] {
  const withId = (label: string, value: Record<string, unknown>) => ({
    label,
    messageId: String(value['messageId']),
    body: Buffer.from(JSON.stringify(value)),
  });
  const otherKey = random.pick(Object.values(RoutingKeys).filter((key) => key !== routingKey));
  return [
    { label: 'not JSON', messageId: randomUUID(), body: Buffer.from('{"messageId": oops') },
    {
      label: 'invalid UTF-8',
      messageId: randomUUID(),
      body: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d]),
    },
    { label: 'empty body', messageId: randomUUID(), body: Buffer.alloc(0) },
    withId('not an envelope', { messageId: randomUUID(), hello: 'world' }),
    withId('unknown message type', envelope('gateway.made-up-thing.v9', {})),
    withId('payload breaks the contract', envelope(routingKey, { channelAccountId: 42, text: ['no'] })),
    withId('empty payload', envelope(routingKey, {})),
    withId('type of another routing key', envelope(otherKey, {})),
    withId('negative portal', envelope(routingKey, {}, { portalId: -1 })),
    withId('extra envelope field', envelope(routingKey, {}, { admin: true })),
    (() => {
      const value = envelope(routingKey, {});
      const text = JSON.stringify(value).replace('"payload":{}', '"payload":{"__proto__":{"polluted":true}}');
      return {
        label: '__proto__ in the payload',
        messageId: String(value['messageId']),
        body: Buffer.from(text),
      };
    })(),
    (() => {
      const value = envelope(routingKey, {});
      const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
      const text = JSON.stringify(value).replace('"payload":{}', `"payload":${deep}`);
      return {
        label: 'payload nested 20 000 deep',
        messageId: String(value['messageId']),
        body: Buffer.from(text),
      };
    })(),
    withId('512 KB text', envelope(routingKey, { text: 'x'.repeat(512 * 1024) })),
  ];
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${message} within ${ms} ms`));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

/**
 * Publishes poison messages straight to the events exchange of `amqpUrl` (as a broken or hostile producer
 * would) and waits until each is in the dead-letter queue of every group bound to its routing key.
 */
export async function poisonTheQueues(
  amqpUrl: string,
  random: Random,
  options: { readonly keys?: number; readonly timeoutMs?: number } = {},
): Promise<PoisonOutcome[]> {
  const keys = Object.keys(GROUPS_OF) as RoutingKey[];
  const chosen = keys.slice(0, options.keys ?? keys.length);
  const timeoutMs = options.timeoutMs ?? 90_000;
  const connection = await withTimeout(
    amqp.connect(amqpUrl),
    timeoutMs,
    'the broker did not accept a connection',
  );
  try {
    const publisher = await connection.createConfirmChannel();
    const sent: { label: string; routingKey: RoutingKey; messageId: string }[] = [];
    for (const routingKey of chosen) {
      for (const poison of poisons(routingKey, random)) {
        publisher.publish(EVENTS_EXCHANGE, routingKey, poison.body, {
          persistent: true,
          contentType: 'application/json',
          messageId: poison.messageId,
          type: routingKey,
          headers: { [ORDERING_KEY_HEADER]: `fuzz-${poison.messageId}` },
        });
        sent.push({ label: poison.label, routingKey, messageId: poison.messageId });
      }
    }
    await withTimeout(
      publisher.waitForConfirms(),
      timeoutMs,
      'the broker did not confirm the poison messages',
    );
    await publisher.close();

    const groups = [...new Set(chosen.flatMap((key) => GROUPS_OF[key] ?? []))];
    const found = new Map<string, DeadLetterSummary>();
    const deadline = Date.now() + timeoutMs;
    const missing = (): number =>
      sent.reduce(
        (count, item) =>
          count +
          (GROUPS_OF[item.routingKey] ?? []).filter((group) => !found.has(`${group}/${item.messageId}`))
            .length,
        0,
      );
    while (missing() > 0 && Date.now() < deadline) {
      const reader = await connection.createChannel();
      try {
        for (const group of groups) {
          for (const letter of await listDeadLetters(reader, group, 5_000)) {
            if (letter.messageId !== undefined) {
              found.set(`${group}/${letter.messageId}`, letter);
            }
          }
        }
      } finally {
        await reader.close().catch(() => undefined);
      }
      if (missing() > 0) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
    return sent.map((item) => ({
      ...item,
      deadLetters: Object.fromEntries(
        (GROUPS_OF[item.routingKey] ?? []).map((group) => [group, found.get(`${group}/${item.messageId}`)]),
      ),
    }));
  } finally {
    await connection.close().catch(() => undefined);
  }
}
