import { SandboxControlClient } from '@inbox-bridge/hubspot-sandbox';
import { ProviderSandboxClient } from '@inbox-bridge/provider-sandbox';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO_PORTAL_ID, seedDemo } from '../../../scripts/demo/seed.mjs';
import { startStack, type RunningStack } from '../src/stack.js';

describe('one customer message is one trace through connector, gateway and router (OTLP/HTTP to a real receiver)', () => {
  let receiver: testing.OtlpReceiver;
  let stack: RunningStack;

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

  it('the webhook request, the gateway publishing it to HubSpot and the router taking it share one trace', async () => {
    const provider = new ProviderSandboxClient(stack.urls['provider-sandbox']);
    const hubspot = new SandboxControlClient(stack.urls['hubspot-sandbox']);
    const { bot } = (await seedDemo({
      gatewayUrl: stack.urls.gateway,
      hubspotUrl: stack.urls['hubspot-sandbox'],
      providerUrl: stack.urls['provider-sandbox'],
      opsToken: stack.opsToken,
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

    const trace = await testing.expectEventually(
      () => {
        const { spans } = receiver;
        const webhook = spans.find(
          (span) => span.service === 'connector' && span.name === 'POST /webhooks/telegram/:channelAccountId',
        );
        expect(webhook).toBeDefined();
        const inTrace = spans.filter((span) => span.traceId === webhook?.traceId);
        expect(inTrace).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ service: 'gateway', name: 'provider.message.received.v1 process' }),
            expect.objectContaining({ service: 'gateway', name: 'HubSpot POST' }),
            expect.objectContaining({ service: 'router', name: 'gateway.message.published.v1 process' }),
          ]),
        );
        return inTrace;
      },
      { timeoutMs: 30_000, description: 'the spans of the message' },
    );
    // Each span's parent is in the same trace (the trace is connected, not only tagged).
    const ids = new Set(trace.map((span) => span.spanId));
    for (const span of trace.filter(
      (candidate) => candidate.name !== 'POST /webhooks/telegram/:channelAccountId',
    )) {
      expect({ span: span.name, parentFound: ids.has(span.parentSpanId ?? '') }).toEqual({
        span: span.name,
        parentFound: true,
      });
    }
  });
});
