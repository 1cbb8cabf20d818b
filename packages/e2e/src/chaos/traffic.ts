import * as testing from '@inbox-bridge/testing';
import type { ChaosConversation, ChaosWorld } from './world.js';

/** What the customers and agents did, as the checker needs it: the truth to compare the sandboxes with. */
export interface SentTraffic {
  /** Per conversation, the texts the customer sent, in order. */
  readonly inbound: Map<number, string[]>;
  /** The Telegram update id of each customer message, to follow it through the sandbox's webhook deliveries. */
  readonly updateIds: Map<string, number>;
  readonly replies: SentReply[];
  /** Replies that could not be sent because the conversation had no thread in HubSpot yet. */
  unsentReplies: number;
}

export interface SentReply {
  readonly conversation: ChaosConversation;
  readonly hubspotMessageId: string;
  readonly text: string;
  /** When the agent's reply was created in HubSpot (ISO). */
  readonly sentAt: string;
}

interface PublicMessage {
  readonly id: string;
  readonly direction: 'INCOMING' | 'OUTGOING';
  readonly text: string;
  readonly status?: { readonly statusType: string; readonly failureDetails?: unknown };
}
export interface PublicThread {
  readonly id: string;
  readonly channelAccountId: string;
  readonly messages: readonly PublicMessage[];
}

export async function portalThreads(world: ChaosWorld, portalId: number): Promise<PublicThread[]> {
  return (await world.hubspot.threads(portalId)) as unknown as PublicThread[];
}

export function inboundText(conversation: ChaosConversation, sequence: number): string {
  return `${conversation.tag}#${sequence}`;
}

/**
 * Sends `count` customer messages round-robin over the conversations, paced evenly over `durationMs`. A
 * conversation's messages are sent one after the other (each accepted by the sandbox before the next), so their
 * order is defined; conversations run in parallel.
 */
export async function sendInbound(
  world: ChaosWorld,
  count: number,
  durationMs: number,
  traffic: SentTraffic,
): Promise<void> {
  const startedAt = Date.now();
  const interval = durationMs / Math.max(1, count);
  const lanes = Math.min(16, world.conversations.length);
  const lane = async (laneIndex: number): Promise<void> => {
    for (let k = 0; k < count; k++) {
      const conversation = world.conversations[k % world.conversations.length] as ChaosConversation;
      if (conversation.index % lanes !== laneIndex) {
        continue; // each conversation belongs to one lane
      }
      const wait = startedAt + k * interval - Date.now();
      if (wait > 0) {
        await testing.delay(wait);
      }
      const texts = traffic.inbound.get(conversation.index) ?? [];
      traffic.inbound.set(conversation.index, texts);
      const text = inboundText(conversation, texts.length);
      const sent = await world.provider.customerSends(conversation.portal.botId, conversation.chatId, {
        kind: 'text',
        text,
      });
      texts.push(text);
      if (sent.update !== null) {
        traffic.updateIds.set(text, sent.update.update_id);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
}

/**
 * Sends `count` agent replies, paced evenly over `durationMs` starting after `startDelayMs`, each to the next
 * conversation that already has a thread in HubSpot.
 */
export async function sendReplies(
  world: ChaosWorld,
  count: number,
  startDelayMs: number,
  durationMs: number,
  traffic: SentTraffic,
): Promise<void> {
  const startedAt = Date.now() + startDelayMs;
  const interval = durationMs / Math.max(1, count);
  const threadOf = new Map<number, string>();
  let lastRefresh = 0;
  const refreshThreads = async (): Promise<void> => {
    if (Date.now() - lastRefresh < 2_000) {
      return;
    }
    lastRefresh = Date.now();
    for (const portal of world.portals) {
      for (const thread of await portalThreads(world, portal.portalId)) {
        const first = thread.messages.find((message) => message.direction === 'INCOMING');
        const index = first === undefined ? undefined : /^chaos \S+ c(\d+) #/.exec(first.text)?.[1];
        if (index !== undefined) {
          threadOf.set(Number(index), thread.id);
        }
      }
    }
  };
  for (let j = 0; j < count; j++) {
    const wait = startedAt + j * interval - Date.now();
    if (wait > 0) {
      await testing.delay(wait);
    }
    await refreshThreads();
    const conversations = world.conversations;
    let conversation: ChaosConversation | undefined;
    for (let step = 0; step < conversations.length && conversation === undefined; step++) {
      const candidate = conversations[(j * 7 + step) % conversations.length] as ChaosConversation;
      conversation = threadOf.has(candidate.index) ? candidate : undefined;
    }
    if (conversation === undefined) {
      traffic.unsentReplies += 1;
      continue;
    }
    const text = `${conversation.tag}reply r${j}`;
    const reply = await world.hubspot.agentReply(threadOf.get(conversation.index) as string, {
      userId: conversation.portal.userId,
      text,
    });
    traffic.replies.push({
      conversation,
      hubspotMessageId: reply.id,
      text,
      sentAt: new Date().toISOString(),
    });
  }
}
