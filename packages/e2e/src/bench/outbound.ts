// Outbound throughput: agents' replies from HubSpot to customers on Telegram, through the whole durable pipeline,
// next to a naive forwarder that sends each reply straight to Telegram from HubSpot's webhook.
import { SandboxControlClient } from '@inbox-bridge/hubspot-sandbox';
import { ProviderSandboxClient, type SandboxBot, type SandboxCall } from '@inbox-bridge/provider-sandbox';
import { DEMO_INBOX_ID, DEMO_PORTAL_ID } from '../../../../scripts/demo/seed.mjs';
import { startStack, type RunningStack } from '../stack.js';
import { SANDBOX_APP, call, log, ms, prepare, quietSandboxes, sleep } from './harness.js';
import { inParallel, summarize, type LatencySummary } from './load.js';
import { startNaiveReplyForwarder, type TelegramChat } from './naive-forwarder.js';

/** The demo portal's rep who answers. */
const AGENT_USER_ID = 77;

interface Customer {
  readonly bot: SandboxBot;
  readonly chatId: number;
  readonly threadId: string;
}

interface OutboundRun {
  readonly sent: number;
  readonly replyErrors: number;
  readonly delivered: number;
  readonly distinct: number;
  /** From the first reply to the last sendMessage Telegram received. */
  readonly lastDeliveredMs: number;
  /** Each reply's time from the agent's send to Telegram's receipt. */
  readonly latency: LatencySummary;
}

const textOf = (sent: SandboxCall): string =>
  typeof sent.params['text'] === 'string' ? sent.params['text'] : '';

/** Bots connected to the demo inbox through the gateway's admin path, each with its webhook set. */
async function connectBots(stack: RunningStack, provider: ProviderSandboxClient, count: number) {
  const bots: SandboxBot[] = [];
  for (let index = 0; index < count; index++) {
    const bot = await provider.createBot({
      username: `outbound_${index}_bot`,
      first_name: `Outbound ${index}`,
    });
    await call(
      'POST',
      `${stack.urls.gateway}/admin/portals/${DEMO_PORTAL_ID}/channel-accounts`,
      { inboxId: DEMO_INBOX_ID, credentials: { provider: 'telegram', botToken: bot.token } },
      { authorization: `Bearer ${stack.portalAdminToken(DEMO_PORTAL_ID)}` },
    );
    bots.push(bot);
  }
  for (const bot of bots) {
    for (
      let attempt = 0;
      !(await provider.getBot(bot.id)).webhook.url.includes('/webhooks/telegram/');
      attempt++
    ) {
      if (attempt > 150) {
        throw new Error(`bot ${bot.id} never got its webhook`);
      }
      await sleep(200);
    }
  }
  return bots;
}

/** One customer per reply, each writing first (a HubSpot thread exists only once a customer wrote). */
async function customersWithThreads(
  hubspot: SandboxControlClient,
  provider: ProviderSandboxClient,
  bots: readonly SandboxBot[],
  count: number,
): Promise<Customer[]> {
  const chats: { bot: SandboxBot; chatId: number }[] = [];
  await inParallel(count, 16, async (i) => {
    const bot = bots[i % bots.length] as SandboxBot;
    const customer = await provider.createCustomer(bot.id, { first_name: `Customer ${i}` });
    await provider.customerSends(bot.id, customer.chat.id, {
      kind: 'text',
      text: `outbound bench customer ${i}`,
    });
    chats[i] = { bot, chatId: customer.chat.id };
  });
  const deadline = Date.now() + 300_000;
  for (;;) {
    const counts = await hubspot.messageCounts(DEMO_PORTAL_ID);
    const incoming = Object.values(counts).reduce((sum, each) => sum + each.INCOMING, 0);
    if (incoming >= count) {
      break;
    }
    if (Date.now() > deadline) {
      throw new Error(`only ${incoming} of ${count} customers' first messages reached HubSpot`);
    }
    await sleep(500);
  }
  const threadOfText = new Map<string, string>();
  for (const thread of await hubspot.threads(DEMO_PORTAL_ID)) {
    for (const message of thread.messages) {
      threadOfText.set(message.text, thread.id);
    }
  }
  return chats.map((chat, i) => {
    const threadId = threadOfText.get(`outbound bench customer ${i}`);
    if (threadId === undefined) {
      throw new Error(`customer ${i} has no HubSpot thread`);
    }
    return { ...chat, threadId };
  });
}

/** Every customer gets one reply (closed loop, `concurrency` agent sends in flight); waits until Telegram has them. */
async function replyToAll(
  hubspot: SandboxControlClient,
  provider: ProviderSandboxClient,
  customers: readonly Customer[],
  bots: readonly SandboxBot[],
  run: string,
  concurrency: number,
): Promise<OutboundRun> {
  const sentAt = new Map<string, number>();
  let replyErrors = 0;
  const startedAt = Date.now();
  await inParallel(customers.length, concurrency, async (i) => {
    const customer = customers[i] as Customer;
    const text = `${run} reply ${i}`;
    sentAt.set(text, Date.now());
    try {
      await hubspot.agentReply(customer.threadId, { userId: AGENT_USER_ID, text });
    } catch {
      sentAt.delete(text);
      replyErrors += 1;
    }
  });
  const deadline = Date.now() + 600_000;
  for (;;) {
    // One bot at a time, so polling does not load the machine the pipeline runs on.
    const deliveries: SandboxCall[] = [];
    for (const bot of bots) {
      deliveries.push(
        ...(await provider.calls(bot.id, 'sendMessage')).filter(
          (sent) => sent.status === 200 && sentAt.has(textOf(sent)),
        ),
      );
    }
    const received = new Map<string, number>();
    for (const sent of deliveries) {
      if (!received.has(textOf(sent))) {
        received.set(textOf(sent), Date.parse(sent.at));
      }
    }
    if (received.size >= sentAt.size || Date.now() > deadline) {
      return {
        sent: sentAt.size,
        replyErrors,
        delivered: deliveries.length,
        distinct: received.size,
        lastDeliveredMs: Math.max(0, ...received.values()) - startedAt,
        latency: summarize([...received].map(([text, at]) => at - (sentAt.get(text) ?? at))),
      };
    }
    await sleep(500);
  }
}

function report(name: string, result: OutboundRun): void {
  log(`\n### ${name}`);
  log(
    `delivered to Telegram: ${result.distinct}/${result.sent} replies (${result.delivered} sendMessage calls, ` +
      `${result.replyErrors} agent sends refused), the last ${ms(result.lastDeliveredMs)} ms after the first agent send = ` +
      `${((result.distinct * 1000) / result.lastDeliveredMs).toFixed(0)} replies/s end to end; ` +
      `agent send→Telegram p50 ${ms(result.latency.p50)} ms, p99 ${ms(result.latency.p99)} ms, max ${ms(result.latency.max)} ms`,
  );
}

/** Points the app's channel webhook at `url` (HubSpot's developer API; the channel's definition otherwise unchanged). */
async function redirectChannelWebhook(stack: RunningStack, channelId: string, url: string): Promise<void> {
  const base = `${stack.urls['hubspot-sandbox']}/conversations/v3/custom-channels/${channelId}?hapikey=${SANDBOX_APP.developerApiKey}&appId=${SANDBOX_APP.appId}`;
  const channel = await call<{ name: string; capabilities: Record<string, unknown> }>('GET', base);
  await call('PATCH', base, { name: channel.name, capabilities: channel.capabilities, webhookUrl: url });
}

export async function outboundSection(): Promise<void> {
  const replies = Number(process.env['BENCH_OUTBOUND_REPLIES'] ?? 2_000);
  const botCount = Number(process.env['BENCH_OUTBOUND_BOTS'] ?? 40);
  const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
  log(
    `\n## outbound: ${replies} agent replies to ${replies} Telegram customers over ${botCount} bots, ` +
      `${concurrency} agent sends in flight (HubSpot's and Telegram's rate limits off in the sandboxes; the ` +
      `connector keeps Telegram's 30/s per bot: ${botCount * 30}/s in all)`,
  );
  const stack = await startStack(DEMO_PORTAL_ID, {
    ...quietSandboxes,
    'hubspot-sandbox': { ...quietSandboxes['hubspot-sandbox'], SANDBOX_RATE_LIMIT_MAX: '0' },
    gateway: { HUBSPOT_RATE_LIMIT_PER_10S: '1000000', HUBSPOT_CONTACT_LOOKUP: 'false' },
  });
  try {
    const channelId = await prepare(stack);
    const hubspot = new SandboxControlClient(stack.urls['hubspot-sandbox']);
    const provider = new ProviderSandboxClient(stack.urls['provider-sandbox']);
    await provider.setRateLimits({ enabled: false });
    const bots = await connectBots(stack, provider, botCount);
    const customers = await customersWithThreads(hubspot, provider, bots, replies);
    log(`set-up: ${bots.length} bots connected, ${customers.length} customers with a HubSpot thread`);

    report(
      'inbox-bridge durable pipeline (HubSpot webhook → gateway → RabbitMQ → connector → Telegram, status back to HubSpot)',
      await replyToAll(hubspot, provider, customers, bots, 'durable', concurrency),
    );

    const chats = new Map<string, TelegramChat>(
      customers.map((customer) => [
        customer.threadId,
        { botToken: customer.bot.token, chatId: customer.chatId },
      ]),
    );
    const forwarder = await startNaiveReplyForwarder({
      clientSecret: SANDBOX_APP.clientSecret,
      telegramBaseUrl: stack.urls['provider-sandbox'],
      chats,
    });
    try {
      await redirectChannelWebhook(stack, channelId, forwarder.url);
      report(
        'naive reply forwarder (baseline: HubSpot webhook → Telegram, no queue, no database, no retries, no status)',
        await replyToAll(hubspot, provider, customers, bots, 'naive', concurrency),
      );
    } finally {
      await forwarder.close();
    }
  } finally {
    await stack.stop();
  }
}
