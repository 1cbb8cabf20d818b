// What every benchmark section shares: JSON calls, the HubSpot sandbox's stored messages, portal set-up, and a
// generic-webhook channel account connected through the gateway.
import { sandboxConfigSchema } from '@inbox-bridge/hubspot-sandbox';
import { randomBytes } from 'node:crypto';
import {
  DEMO_INBOX_ID,
  DEMO_PORTAL_ID,
  installApp,
  registerChannel,
  seedPortal,
} from '../../../../scripts/demo/seed.mjs';
import type { RunningStack } from '../stack.js';
import { signedGenericMessage } from './generic-message.js';
import { summarize } from './load.js';

/** The app the HubSpot sandbox seeds by default (its config defaults; the stack leaves them as they are). */
const sandboxDefaults = sandboxConfigSchema.parse({});
export const SANDBOX_APP = {
  appId: String(sandboxDefaults.SANDBOX_APP_ID),
  clientSecret: sandboxDefaults.SANDBOX_CLIENT_SECRET,
  developerApiKey: sandboxDefaults.SANDBOX_DEVELOPER_API_KEYS,
} as const;

export const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
export const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
export const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

/** Environment that keeps the sandboxes' own bookkeeping out of the figures. */
export const quietSandboxes = {
  'hubspot-sandbox': {
    SANDBOX_CALL_LOG_MAX: '0',
    SANDBOX_REQUEST_LOGS: 'false',
    // HubSpot's own webhook timing (5 s to answer, retries minutes apart), not the compressed clock of the tests,
    // which under load counts slow answers as failures and sends every webhook again within a second.
    SANDBOX_WEBHOOK_TIME_SCALE: '1',
    // The subscriptions docs/gateway.md asks for, instead of the sandbox's default of every conversation event
    // (a `conversation.newMessage` per published message, which the gateway only records).
    SANDBOX_APP_WEBHOOK_SUBSCRIPTIONS:
      'conversation.propertyChange:assignedTo,conversation.propertyChange:status',
  },
  'provider-sandbox': { SANDBOX_REQUEST_LOGS: 'false' },
  connector: { SSRF_ALLOWED_HOSTS: '127.0.0.1' },
} as const;

export async function call<T>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${method} ${url} → ${response.status} ${text.slice(0, 300)}`);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

interface StoredThread {
  readonly channelAccountId: string;
  readonly messages: readonly {
    readonly direction: string;
    readonly text: string;
    readonly createdAt: string;
    readonly updatedAt: string;
  }[];
}

export interface StoredIncoming {
  readonly text: string;
  /** HubSpot's receive time minus the customer's send time. */
  readonly latencyMs: number;
  /** When HubSpot stored it (epoch ms). */
  readonly receivedAt: number;
}

/** Incoming messages the HubSpot sandbox stored for one channel account whose text starts with `textPrefix`. */
export async function storedIncoming(
  stack: RunningStack,
  portalId: number,
  channelAccountId: string,
  textPrefix: string,
): Promise<StoredIncoming[]> {
  const threads = await call<StoredThread[]>(
    'GET',
    `${stack.urls['hubspot-sandbox']}/__sandbox/portals/${portalId}/threads`,
  );
  return threads
    .filter((thread) => thread.channelAccountId === channelAccountId)
    .flatMap((thread) =>
      thread.messages.filter(
        (message) => message.direction === 'INCOMING' && message.text.startsWith(textPrefix),
      ),
    )
    .map((message) => ({
      text: message.text,
      latencyMs: Date.parse(message.updatedAt) - Date.parse(message.createdAt),
      receivedAt: Date.parse(message.updatedAt),
    }));
}

/** Polls the HubSpot sandbox until `count` messages are stored (or `timeoutMs` passed). */
export async function waitForAll(
  stack: RunningStack,
  portalId: number,
  channelAccountId: string,
  startedAt: number,
  expected: { readonly count: number; readonly textPrefix: string; readonly timeoutMs?: number },
) {
  const deadline = Date.now() + (expected.timeoutMs ?? 600_000);
  for (;;) {
    // The count is cheap for the sandbox; the whole list (thousands of messages) is read once it can be complete,
    // so polling does not load the machine the pipeline runs on.
    const counts = await call<Record<string, { INCOMING: number } | undefined>>(
      'GET',
      `${stack.urls['hubspot-sandbox']}/__sandbox/portals/${portalId}/message-counts`,
    );
    if ((counts[channelAccountId]?.INCOMING ?? 0) < expected.count && Date.now() <= deadline) {
      await sleep(500);
      continue;
    }
    const stored = await storedIncoming(stack, portalId, channelAccountId, expected.textPrefix);
    if (stored.length >= expected.count || Date.now() > deadline) {
      return {
        stored: stored.length,
        distinct: new Set(stored.map((message) => message.text)).size,
        drainedMs: Date.now() - startedAt,
        /** From `startedAt` to the last message HubSpot stored. */
        lastStoredMs: Math.max(0, ...stored.map((message) => message.receivedAt)) - startedAt,
        latency: summarize(stored.map((message) => message.latencyMs)),
      };
    }
    await sleep(500);
  }
}

/** Seeds the demo portal, registers the channel and installs the app; returns the channel id. */
export async function prepare(stack: RunningStack): Promise<string> {
  await seedPortal({ hubspotUrl: stack.urls['hubspot-sandbox'] });
  const channelId = await registerChannel({ gatewayUrl: stack.urls.gateway, opsToken: stack.opsToken });
  await installApp({
    gatewayUrl: stack.urls.gateway,
    hubspotUrl: stack.urls['hubspot-sandbox'],
    portalId: DEMO_PORTAL_ID,
    userId: 77,
  });
  return channelId;
}

/** Another portal with one user and one inbox, the app installed by that user. */
export async function seedAndInstallPortal(stack: RunningStack, portalId: number): Promise<string> {
  const inboxId = String(portalId * 10);
  const userId = portalId * 10 + 1;
  await call('POST', `${stack.urls['hubspot-sandbox']}/__sandbox/portals`, {
    hubId: portalId,
    users: [{ id: userId, email: `rep-${portalId}@example.com` }],
    inboxes: [{ id: inboxId, name: `Inbox ${portalId}` }],
  });
  await installApp({
    gatewayUrl: stack.urls.gateway,
    hubspotUrl: stack.urls['hubspot-sandbox'],
    portalId,
    userId,
  });
  return inboxId;
}

export interface GenericAccount {
  readonly portalId: number;
  readonly channelAccountId: string;
  readonly url: string;
  readonly secret: string;
}

/** A generic-webhook channel account connected through the gateway's admin path, ready to take messages. */
export async function connectGenericAccount(
  stack: RunningStack,
  portalId: number = DEMO_PORTAL_ID,
  inboxId: string = DEMO_INBOX_ID,
): Promise<GenericAccount> {
  const secret = randomBytes(32).toString('hex');
  const account = await call<{ channelAccountId: string }>(
    'POST',
    `${stack.urls.gateway}/admin/portals/${portalId}/channel-accounts`,
    {
      inboxId,
      credentials: {
        provider: 'generic-webhook',
        callbackUrl: 'https://127.0.0.1:9/bench-replies',
        sharedSecret: secret,
      },
    },
    { authorization: `Bearer ${stack.portalAdminToken(portalId)}` },
  );
  const url = `${stack.urls.connector}/webhooks/generic/${account.channelAccountId}`;
  // The connector learns of the account from the gateway's event: wait until it takes messages.
  for (let attempt = 0; ; attempt++) {
    const probe = signedGenericMessage({
      url,
      secret,
      id: `probe-${attempt}`,
      conversationId: 'probe',
      sentAt: new Date(),
      text: 'probe',
    });
    const response = await fetch(probe.url, {
      method: 'POST',
      headers: probe.headers as Record<string, string>,
      body: probe.body,
    });
    if (response.ok || attempt > 100) {
      return { portalId, channelAccountId: account.channelAccountId, url, secret };
    }
    await sleep(200);
  }
}

/** Mean size of the batches each batching consumer group committed (`message_batch_size`), by queue. */
export async function meanBatchSizes(metricsUrl: string): Promise<Record<string, string>> {
  const metrics = await (await fetch(metricsUrl)).text();
  const series = (part: 'sum' | 'count') =>
    new Map(
      [
        ...metrics.matchAll(
          new RegExp(`^message_batch_size_${part}\\{[^}]*queue="([^"]+)"[^}]*\\} (\\d+(?:\\.\\d+)?)`, 'gm'),
        ),
      ].map((match) => [match[1] ?? '', Number(match[2])]),
    );
  const sums = series('sum');
  return Object.fromEntries(
    [...series('count')].map(([queue, count]) => [
      queue,
      `${count} batches, mean ${((sums.get(queue) ?? 0) / Math.max(count, 1)).toFixed(1)}`,
    ]),
  );
}
