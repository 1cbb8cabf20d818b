import { SandboxControlClient } from '@inbox-bridge/hubspot-sandbox';
import { ProviderSandboxClient } from '@inbox-bridge/provider-sandbox';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO_PORTAL_ID, seedDemo } from '../../../scripts/demo/seed.mjs';
import { startStack, type RunningStack } from '../src/stack.js';

describe('one customer message, and one agent reply, is one trace through the services (OTLP/HTTP to a real receiver)', () => {
  let receiver: testing.OtlpReceiver;
  let stack: RunningStack;

  /** The spans of the trace of the first span matching `anchor`, once they include `expected`. */
  const traceOf = (
    anchor: Pick<testing.ReceivedSpan, 'service' | 'name'>,
    expected: Record<string, unknown>[],
  ) =>
    testing.expectEventually(
      () => {
        const { spans } = receiver;
        const found = spans.find((span) => span.service === anchor.service && span.name === anchor.name);
        expect(found).toBeDefined();
        const inTrace = spans.filter((span) => span.traceId === found?.traceId);
        expect(inTrace).toEqual(
          expect.arrayContaining(expected.map((span) => expect.objectContaining(span))),
        );
        return inTrace;
      },
      { timeoutMs: 30_000, description: `the spans of the trace of ${anchor.name}` },
    );

  /** The trace has one root, `root`, and each other span's parent is in it (connected, not only tagged). */
  const expectConnected = (
    trace: testing.ReceivedSpan[],
    root: Pick<testing.ReceivedSpan, 'service' | 'name'>,
  ) => {
    const ids = new Set(trace.map((span) => span.spanId));
    expect(
      trace
        .filter((span) => !ids.has(span.parentSpanId ?? ''))
        .map(({ service, name }) => ({ service, name })),
    ).toEqual([root]);
  };

  beforeAll(async () => {
    receiver = await testing.startOtlpReceiver();
    // The services inherit the test's environment: every one of them exports to the receiver, every 200 ms.
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = receiver.url;
    process.env['OTEL_BSP_SCHEDULE_DELAY'] = '200';
    try {
      stack = await startStack(DEMO_PORTAL_ID);
    } finally {
      delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
      delete process.env['OTEL_BSP_SCHEDULE_DELAY'];
    }
  });

  afterAll(async () => {
    await stack.stop();
    await receiver.close();
  });

  it('the webhook request, the gateway publishing it to HubSpot and the router taking it share one trace; so do the agent reply and its status', async () => {
    const provider = new ProviderSandboxClient(stack.urls['provider-sandbox']);
    const hubspot = new SandboxControlClient(stack.urls['hubspot-sandbox']);
    const { bot } = (await seedDemo({
      gatewayUrl: stack.urls.gateway,
      hubspotUrl: stack.urls['hubspot-sandbox'],
      providerUrl: stack.urls['provider-sandbox'],
      opsToken: stack.opsToken,
      portalAdminToken: stack.portalAdminToken(DEMO_PORTAL_ID),
    })) as { bot: { id: number } };
    const customer = await provider.createCustomer(bot.id, { first_name: 'Tracy' });
    await provider.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'follow me' });
    await testing.expectEventually(
      async () => {
        const threads = (await hubspot.threads(DEMO_PORTAL_ID)) as unknown as {
          messages: { text: string }[];
        }[];
        expect(
          threads.some((thread) => thread.messages.some((message) => message.text === 'follow me')),
        ).toBe(true);
      },
      { timeoutMs: 30_000, description: 'the message in HubSpot' },
    );

    const webhook = { service: 'connector', name: 'POST /webhooks/telegram/:channelAccountId' };
    const inbound = await traceOf(webhook, [
      { service: 'gateway', name: 'provider.message.received.v1 process' },
      { service: 'gateway', name: 'HubSpot POST' },
      { service: 'router', name: 'gateway.message.published.v1 process' },
      // The SQL run on the way: the connector storing the message, the services' consumers.
      { service: 'connector', name: expect.stringMatching(/^pg\.query:INSERT/) },
      { service: 'gateway', name: expect.stringMatching(/^pg\.query:/) },
      { service: 'router', name: expect.stringMatching(/^pg\.query:/) },
    ]);
    expectConnected(inbound, webhook);
    const statement = inbound.find((span) => span.name.startsWith('pg.query:'));
    expect(statement?.kind).toBe(3);
    expect(statement?.attributes.map((attribute) => attribute.key)).toEqual(
      expect.arrayContaining(['db.system.name', 'db.query.text']),
    );
    // Statements are traced with their text, never their parameters (a customer's words, a token).
    expect(JSON.stringify(inbound)).not.toContain('follow me');

    // The agent answers: HubSpot's webhook, the gateway's background processing of it, the connector's send to
    // Telegram and the gateway writing the status back to HubSpot are one trace too.
    const threads = (await hubspot.threads(DEMO_PORTAL_ID)) as unknown as {
      id: string;
      messages: { text: string }[];
    }[];
    const thread = threads.find((candidate) =>
      candidate.messages.some((message) => message.text === 'follow me'),
    );
    await hubspot.agentReply(thread?.id ?? '', { userId: 77, text: 'traced answer' });
    const processing = {
      service: 'gateway',
      name: 'process HubSpot webhook OUTGOING_CHANNEL_MESSAGE_CREATED',
    };
    const hubspotWebhook = { service: 'gateway', name: 'POST /webhooks/hubspot' };
    expectConnected(
      await traceOf(processing, [
        hubspotWebhook,
        { service: 'connector', name: 'gateway.outbound-message.requested.v1 process' },
        // The call to Telegram, named by its host only (the URL holds the bot token).
        { service: 'connector', name: expect.stringMatching(/^POST /) },
        { service: 'gateway', name: 'connector.delivery.status-changed.v1 process' },
        { service: 'gateway', name: 'HubSpot PATCH' },
      ]),
      hubspotWebhook,
    );
  });
});
