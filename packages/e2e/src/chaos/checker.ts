import type { RecordedCall } from '@inbox-bridge/hubspot-sandbox';
import { portalThreads, type PublicThread, type SentTraffic } from './traffic.js';
import type { ChaosWorld } from './world.js';

export interface CheckResult {
  readonly inbound: {
    readonly expected: number;
    readonly once: number;
    readonly missing: number;
    readonly duplicated: number;
    readonly outOfOrder: number;
  };
  readonly replies: {
    readonly expected: number;
    readonly once: number;
    readonly missing: number;
    readonly duplicated: number;
    readonly sent: number;
    readonly otherStatus: number;
  };
  readonly violations: string[];
}

/**
 * Compares what customers and agents did with what the sandboxes hold — HubSpot's threads and the Telegram chats —
 * never with the bridge's own tables: every customer message in HubSpot exactly once, in its conversation's order,
 * in one thread; every reply in the customer's chat exactly once, and marked SENT in HubSpot.
 */
export async function checkDelivery(world: ChaosWorld, traffic: SentTraffic): Promise<CheckResult> {
  const violations: string[] = [];
  const threadsByPortal = new Map<number, PublicThread[]>();
  for (const portal of world.portals) {
    threadsByPortal.set(portal.portalId, await portalThreads(world, portal.portalId));
  }

  const inbound = { expected: 0, once: 0, missing: 0, duplicated: 0, outOfOrder: 0 };
  for (const conversation of world.conversations) {
    const sent = traffic.inbound.get(conversation.index) ?? [];
    inbound.expected += sent.length;
    const threads = (threadsByPortal.get(conversation.portal.portalId) ?? []).filter((thread) =>
      thread.messages.some(
        (message) => message.direction === 'INCOMING' && message.text.startsWith(conversation.tag),
      ),
    );
    if (threads.length > 1) {
      violations.push(`c${conversation.index}: customer messages split over ${threads.length} threads`);
    }
    const received = threads.flatMap((thread) =>
      thread.messages
        .filter((message) => message.direction === 'INCOMING' && message.text.startsWith(conversation.tag))
        .map((message) => message.text),
    );
    const counts = new Map<string, number>();
    for (const text of received) {
      counts.set(text, (counts.get(text) ?? 0) + 1);
    }
    const sentSet = new Set(sent);
    for (const [text, count] of counts) {
      if (!sentSet.has(text)) {
        violations.push(`c${conversation.index}: HubSpot has "${text}", which the customer never sent`);
      } else if (count > 1) {
        inbound.duplicated += 1;
        violations.push(`c${conversation.index}: "${text}" reached HubSpot ${count} times`);
      }
    }
    const missing = sent.filter((text) => !counts.has(text));
    inbound.missing += missing.length;
    inbound.once += sent.filter((text) => counts.get(text) === 1).length;
    if (missing.length > 0) {
      violations.push(
        `c${conversation.index}: ${missing.length} of ${sent.length} customer messages not in HubSpot: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      );
    }
    const position = new Map(sent.map((text, i) => [text, i]));
    const firstArrivals = [...new Set(received)].map((text) => position.get(text) ?? -1);
    for (let i = 1; i < firstArrivals.length; i++) {
      if ((firstArrivals[i] as number) < (firstArrivals[i - 1] as number)) {
        inbound.outOfOrder += 1;
        violations.push(
          `c${conversation.index}: "${sent[firstArrivals[i] as number] ?? '?'}" reached HubSpot after "${sent[firstArrivals[i - 1] as number] ?? '?'}"`,
        );
      }
    }
  }

  const replies = {
    expected: traffic.replies.length,
    once: 0,
    missing: 0,
    duplicated: 0,
    sent: 0,
    otherStatus: 0,
  };
  const chats = new Map<string, string[]>();
  const patches = new Map<number, RecordedCall[]>();
  for (const portal of world.portals) {
    patches.set(
      portal.portalId,
      (await world.hubspot.calls(portal.portalId)).filter((call) => call.method === 'PATCH'),
    );
  }
  for (const reply of traffic.replies) {
    const { portal, chatId } = reply.conversation;
    const key = `${portal.botId}:${chatId}`;
    let texts = chats.get(key);
    if (texts === undefined) {
      texts = (await world.provider.messages(portal.botId, chatId, 'from_bot')).map(
        (message) => message.message.text ?? '',
      );
      chats.set(key, texts);
    }
    const count = texts.filter((text) => text === reply.text).length;
    if (count === 1) {
      replies.once += 1;
    } else if (count === 0) {
      replies.missing += 1;
      violations.push(`reply "${reply.text}" never reached the customer`);
    } else {
      replies.duplicated += 1;
      violations.push(`reply "${reply.text}" reached the customer ${count} times`);
    }
    const stored = (threadsByPortal.get(portal.portalId) ?? [])
      .flatMap((thread) => thread.messages)
      .find((message) => message.id === reply.hubspotMessageId);
    const status = stored?.status?.statusType ?? 'none';
    // HubSpot shows a rep's reply as SENT from the start; only the bridge's PATCH proves it reached the customer.
    const reported = (patches.get(portal.portalId) ?? []).some(
      (call) =>
        call.path.endsWith(`/messages/${reply.hubspotMessageId}`) &&
        call.status >= 200 &&
        call.status < 300 &&
        (call.body as { statusType?: unknown } | undefined)?.statusType === 'SENT',
    );
    if (status === 'SENT' && !reported) {
      replies.otherStatus += 1;
      violations.push(
        `reply "${reply.text}" (${reply.hubspotMessageId}) was never reported SENT by the bridge`,
      );
    } else if (status === 'SENT') {
      replies.sent += 1;
    } else {
      replies.otherStatus += 1;
      violations.push(
        `reply "${reply.text}" (${reply.hubspotMessageId}) has status ${status} in HubSpot${stored?.status?.failureDetails === undefined ? '' : ` ${JSON.stringify(stored.status.failureDetails)}`}`,
      );
    }
  }
  return { inbound, replies, violations };
}

export function isComplete(result: CheckResult): boolean {
  return result.inbound.missing === 0 && result.replies.missing === 0 && result.replies.otherStatus === 0;
}

export function summaryTable(result: CheckResult): string {
  const { inbound, replies } = result;
  const rows = [
    '| what | expected | exactly once | missing | duplicated | out of order / wrong status |',
    '|---|---:|---:|---:|---:|---:|',
    `| customer messages in HubSpot | ${inbound.expected} | ${inbound.once} | ${inbound.missing} | ${inbound.duplicated} | ${inbound.outOfOrder} |`,
    `| agent replies at the customer | ${replies.expected} | ${replies.once} | ${replies.missing} | ${replies.duplicated} | — |`,
    `| reply status SENT in HubSpot | ${replies.expected} | ${replies.sent} | — | — | ${replies.otherStatus} |`,
  ];
  return rows.join('\n');
}

/**
 * For each missing customer message, what the Telegram sandbox did with its update (delivered to the connector and
 * answered 2xx, still pending, …); for each duplicated or missing reply, the sendMessage calls the connector made
 * for it. This tells a message the bridge accepted and lost from one the sandbox has not delivered yet.
 */
export async function diagnose(
  world: ChaosWorld,
  traffic: SentTraffic,
  result: CheckResult,
  startedAt: number,
): Promise<string[]> {
  const at = (iso: string): string => `t+${((Date.parse(iso) - startedAt) / 1000).toFixed(1)} s`;
  const lines: string[] = [];
  const deliveries = new Map<number, Awaited<ReturnType<ChaosWorld['provider']['deliveries']>>>();
  const calls = new Map<number, Awaited<ReturnType<ChaosWorld['provider']['calls']>>>();
  for (const portal of world.portals) {
    deliveries.set(portal.botId, await world.provider.deliveries(portal.botId));
    calls.set(portal.botId, await world.provider.calls(portal.botId, 'sendMessage'));
  }
  const threads = new Map<number, PublicThread[]>();
  for (const portal of world.portals) {
    threads.set(portal.portalId, await portalThreads(world, portal.portalId));
  }
  for (const conversation of world.conversations) {
    const received = new Set(
      (threads.get(conversation.portal.portalId) ?? []).flatMap((thread) =>
        thread.messages.map((message) => message.text),
      ),
    );
    for (const text of traffic.inbound.get(conversation.index) ?? []) {
      if (received.has(text)) {
        continue;
      }
      const updateId = traffic.updateIds.get(text);
      const seen = deliveries.get(conversation.portal.botId);
      const attempts = (seen?.attempts ?? []).filter((attempt) => attempt.updateId === updateId);
      const pending = (seen?.pending ?? []).some((update) => update.update_id === updateId);
      lines.push(
        `"${text}" (update ${updateId ?? '?'}): ${pending ? 'still pending in the sandbox; ' : ''}webhook attempts ` +
          (attempts.length === 0
            ? 'none'
            : attempts
                .map((attempt) => `${at(attempt.at)} → ${attempt.status ?? attempt.error ?? '?'}`)
                .join(', ')),
      );
    }
  }
  const troubled = new Set(
    result.violations.flatMap((violation) => /^reply "([^"]+)"/.exec(violation)?.[1] ?? []),
  );
  const troubledReplies = traffic.replies.filter((candidate) => troubled.has(candidate.text));
  const webhooks = troubledReplies.length === 0 ? [] : await world.hubspot.webhookDeliveries();
  for (const reply of troubledReplies) {
    const outgoing = webhooks.filter((delivery) => delivery.body.includes(reply.hubspotMessageId));
    lines.push(
      `"${reply.text}" (${reply.hubspotMessageId}, created ${at(reply.sentAt)}): HubSpot webhooks ` +
        (outgoing.length === 0
          ? 'none'
          : outgoing
              .map(
                (delivery) =>
                  `${delivery.eventType} ${delivery.state} [` +
                  delivery.attempts
                    .map((attempt) => `${at(attempt.at)} → ${attempt.status ?? attempt.error ?? '?'}`)
                    .join(', ') +
                  ']',
              )
              .join('; ')),
    );
    const attempts = (calls.get(reply.conversation.portal.botId) ?? []).filter(
      (call) => call.params['text'] === reply.text,
    );
    lines.push(
      `"${reply.text}": sendMessage calls ` +
        (attempts.length === 0
          ? 'none'
          : attempts.map((call) => `${at(call.at)} → ${call.status}`).join(', ')),
    );
  }
  return lines;
}
