import * as testing from '@inbox-bridge/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { GatewayUnderTest } from './gateway-under-test.js';
import type { HubSpotFixture } from './hubspot-fixture.js';
import { openPopupForm, submitPopupForm } from './popup-form.js';
import { startPopupStack, type GatewayEnvelope, type PopupStack } from './popup-stack.js';

const HUB_ID = 7181;
const INBOX_ID = '521';
const OPS_API_TOKEN = 'ops-token-for-lost-answer-tests-0123456789';
const ADMIN_TOKEN = 'admin-token-for-lost-answer-tests-0123456789';
const botToken = (botId: number): string => `${botId}:AAH-lost-answer-token-0123456789abcdefgh`;

interface HubSpotAccount {
  readonly id: string;
  readonly inboxId: string;
}

/**
 * HubSpot did the write but its answer never arrived (the sandbox's lost-answer and late-answer faults): the
 * gateway must not make a second channel or account, nor give up a connection whose staging token it used.
 */
describe('creates and staging tokens whose answer was lost (real sandbox over HTTP, PostgreSQL, RabbitMQ)', () => {
  let stack: PopupStack;
  let hubspot: HubSpotFixture;
  let gateway: GatewayUnderTest;
  let channelId: string;

  const channelPath = (): string => `/conversations/v3/custom-channels/${channelId}`;

  /** HubSpot's accounts of one bot, however many there are. */
  const accountsOfBot = async (botId: number): Promise<HubSpotAccount[]> =>
    (
      await hubspot.api<{ results: HubSpotAccount[] }>(
        'GET',
        `${channelPath()}/channel-accounts?deliveryIdentifierType=CHANNEL_SPECIFIC_OPAQUE_ID&deliveryIdentifierValue=${botId}`,
      )
    ).results;

  const connectedEvents = (channelAccountId: string): GatewayEnvelope[] =>
    stack.published.messages.filter(
      (envelope) =>
        envelope.type === 'gateway.channel-account.connected.v1' &&
        envelope.payload['channelAccountId'] === channelAccountId,
    );

  const awaitConnected = (channelAccountId: string): Promise<void> =>
    testing.expectEventually(
      () => {
        if (connectedEvents(channelAccountId).length === 0) {
          throw new Error(`no connected.v1 for ${channelAccountId} yet`);
        }
      },
      { timeoutMs: 15_000, description: `connected.v1 of account ${channelAccountId}` },
    );

  /** Opens the popup for a fresh staging token and posts the bot token, as a browser would. */
  const connectThroughPopup = async (token: string): Promise<Response> => {
    const staging = await hubspot.control.createStagingToken({
      portalId: HUB_ID,
      channelId,
      inboxId: INBOX_ID,
      userId: hubspot.userId,
    });
    const url = new URL('/connect', gateway.baseUrl);
    url.searchParams.set('accountToken', staging.accountToken);
    url.searchParams.set('channelId', channelId);
    url.searchParams.set('inboxId', INBOX_ID);
    url.searchParams.set('portalId', String(HUB_ID));
    url.searchParams.set('redirectUrl', `${hubspot.sandbox.url}/ui/${HUB_ID}/settings/inbox/connected`);
    url.searchParams.set('provider', 'telegram');
    return submitPopupForm(gateway.baseUrl, await openPopupForm(url), { botToken: token });
  };

  beforeAll(async () => {
    stack = await startPopupStack({
      name: 'gateway_lost_answers',
      hubId: HUB_ID,
      inboxId: INBOX_ID,
      gatewayEnv: {
        OPS_API_TOKEN,
        ADMIN_TOKENS: `${HUB_ID}:${ADMIN_TOKEN}`,
        HUBSPOT_REQUEST_TIMEOUT_MS: '1000',
        HUBSPOT_RETRY_BASE_MS: '50',
        WEBHOOK_RETRY_BASE_MS: '100',
        WEBHOOK_WORKER_POLL_MS: '100',
      },
    });
    ({ hubspot, gateway } = stack);
  });

  afterEach(async () => {
    await hubspot.control.setFaults([]);
  });

  afterAll(async () => {
    await stack.close();
  });

  it('channel registration whose create answer was lost adopts the channel HubSpot made instead of a second', async () => {
    await hubspot.control.setFaults([
      { method: 'POST', pathPrefix: '/conversations/v3/custom-channels', lostAnswerRate: 1, times: 1 },
    ]);
    const registered = await fetch(`${gateway.baseUrl}/admin/channel/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPS_API_TOKEN}` },
    });
    expect(registered.status).toBe(200);
    const result = (await registered.json()) as { channelId: string; outcome: string };
    expect(result.outcome).toBe('created');
    channelId = result.channelId;

    const channels = await hubspot.api<{ results: { id: string }[] }>(
      'GET',
      '/conversations/v3/custom-channels',
      undefined,
      'hapikey',
    );
    expect(channels.results.map((channel) => channel.id)).toEqual([channelId]);
    const creates = (await hubspot.control.allCalls()).filter(
      (call) => call.method === 'POST' && call.path === '/conversations/v3/custom-channels',
    );
    expect(creates.map((call) => call.fault)).toEqual(['lost-answer']);
  });

  it('an admin create answered after the timeout: one account in HubSpot, stored and announced once', async () => {
    await hubspot.control.setFaults([
      {
        method: 'POST',
        pathPrefix: `${channelPath()}/channel-accounts`,
        lateAnswerRate: 1,
        holdMs: 2_500,
        times: 1,
      },
    ]);
    const response = await fetch(`${gateway.baseUrl}/admin/portals/${HUB_ID}/channel-accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({
        inboxId: INBOX_ID,
        name: 'Late bot',
        credentials: { provider: 'telegram', botToken: botToken(700200100) },
      }),
    });
    expect(response.status).toBe(201);
    const account = (await response.json()) as { channelAccountId: string };

    expect((await accountsOfBot(700200100)).map((found) => found.id)).toEqual([account.channelAccountId]);
    await awaitConnected(account.channelAccountId);
    expect(connectedEvents(account.channelAccountId)).toHaveLength(1);
  });

  it('a popup whose staging-token answer was lost finishes: HubSpot made the account, and it is bound to the bot', async () => {
    await hubspot.control.setFaults([
      {
        method: 'PATCH',
        pathPrefix: `${channelPath()}/channel-account-staging-tokens/`,
        lostAnswerRate: 1,
        times: 1,
      },
    ]);
    const response = await connectThroughPopup(botToken(700200200));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toContain(`/ui/${HUB_ID}/settings/inbox/connected`);

    const [made, ...more] = await accountsOfBot(700200200);
    expect(more).toEqual([]);
    expect(made?.inboxId).toBe(INBOX_ID);
    await awaitConnected(made?.id ?? '');
  });

  it('a lost staging-token answer HubSpot cannot be asked about: the popup says so, and the account HubSpot made is bound later', async () => {
    await hubspot.control.setFaults([
      {
        method: 'PATCH',
        pathPrefix: `${channelPath()}/channel-account-staging-tokens/`,
        lostAnswerRate: 1,
        times: 1,
      },
      // Every read of the channel's accounts fails for now: the gateway's look-up and its webhook processing.
      { method: 'GET', pathPrefix: `${channelPath()}/channel-accounts`, errorRate: 1, status: 503 },
    ]);
    const response = await connectThroughPopup(botToken(700200300));
    expect(response.status).toBe(504);
    const page = await response.text();
    expect(page).toContain('Connection not confirmed');
    expect(page).toContain('may have gone through');
    expect(page).not.toContain('already used');

    await hubspot.control.setFaults([]);
    const [made, ...more] = await accountsOfBot(700200300);
    expect(more).toEqual([]);
    // HubSpot's CHANNEL_ACCOUNT_CREATED, retried by the gateway once HubSpot answers, binds the checked bot.
    await awaitConnected(made?.id ?? '');
  });
});
