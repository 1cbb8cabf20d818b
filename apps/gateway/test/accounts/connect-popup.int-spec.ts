import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
} from '../../src/accounts/channel-account-directory.js';
import { ChannelAccountRepository } from '../../src/accounts/channel-account.repository.js';
import { telegramVerdict, type CredentialsResponder } from './credentials-responder.js';
import type { GatewayUnderTest } from './gateway-under-test.js';
import type { HubSpotFixture } from './hubspot-fixture.js';
import { openPopupForm, submitPopupForm, type PopupForm } from './popup-form.js';
import { startPopupStack, type GatewayEnvelope, type PopupStack } from './popup-stack.js';

const HUB_ID = 7171;
const INBOX_ID = '511';
const OTHER_HUB_ID = 7172;
const OTHER_INBOX_ID = '512';
/** Seeded in HubSpot, the app never installed in the gateway. */
const NOT_INSTALLED_HUB_ID = 7173;
const NOT_INSTALLED_INBOX_ID = '513';
/** Installed, then its refresh token refused: disconnected. */
const DISCONNECTED_HUB_ID = 7174;
const OPS_API_TOKEN = 'ops-token-for-accounts-tests-0123456789';
const HUB_ADMIN_TOKEN = 'admin-token-of-portal-7171-0123456789';
const OTHER_HUB_ADMIN_TOKEN = 'admin-token-of-portal-7172-0123456789';
const NOT_INSTALLED_HUB_ADMIN_TOKEN = 'admin-token-of-portal-7173-0123456789';
const DISCONNECTED_HUB_ADMIN_TOKEN = 'admin-token-of-portal-7174-0123456789';
const GOOD_TOKEN = '700100200:AAH-good-token-0123456789abcdefghijkl';
const WRONG_TOKEN = '700100201:AAH-WRONG-token-0123456789abcdefghijk';
const SILENT_TOKEN = '700100202:AAH-silent-token-0123456789abcdefghij';

describe('connection popup and admin connect (real sandbox, credentials answered per the connector contract)', () => {
  let stack: PopupStack;
  let hubspot: HubSpotFixture;
  let db: testing.TestDatabase;
  let gateway: GatewayUnderTest;
  let published: testing.CapturedMessages<GatewayEnvelope>;
  let responder: CredentialsResponder;
  let channelId: string;

  const redirectUrl = (portalId = HUB_ID) => `${hubspot.sandbox.url}/ui/${portalId}/settings/inbox/connected`;

  const popupUrl = async (provider?: string, portal = { portalId: HUB_ID, inboxId: INBOX_ID }) => {
    const staging = await hubspot.control.createStagingToken({
      portalId: portal.portalId,
      channelId,
      inboxId: portal.inboxId,
      userId: hubspot.userId,
    });
    const url = new URL('/connect', gateway.baseUrl);
    url.searchParams.set('accountToken', staging.accountToken);
    url.searchParams.set('channelId', channelId);
    url.searchParams.set('inboxId', portal.inboxId);
    url.searchParams.set('portalId', String(portal.portalId));
    url.searchParams.set('redirectUrl', redirectUrl(portal.portalId));
    if (provider !== undefined) {
      url.searchParams.set('provider', provider);
    }
    return { url, accountToken: staging.accountToken };
  };

  const openForm = openPopupForm;
  const submit = (form: PopupForm, values: Record<string, string>, cookie = form.cookie) =>
    submitPopupForm(gateway.baseUrl, form, values, cookie);

  const allAccounts = async () =>
    (
      await hubspot.api<{ results: { id: string }[] }>(
        'GET',
        `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
      )
    ).results.map((account) => account.id);

  const accountsNamed = async (name: string) => {
    const { results } = await hubspot.api<{ results: { id: string; name: string }[] }>(
      'GET',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
    );
    return results.filter((account) => account.name === name);
  };

  beforeAll(async () => {
    stack = await startPopupStack({
      name: 'gateway_popup',
      hubId: HUB_ID,
      inboxId: INBOX_ID,
      gatewayEnv: {
        OPS_API_TOKEN,
        ADMIN_TOKENS: [
          `${HUB_ID}:${HUB_ADMIN_TOKEN}`,
          `${OTHER_HUB_ID}:${OTHER_HUB_ADMIN_TOKEN}`,
          `${NOT_INSTALLED_HUB_ID}:${NOT_INSTALLED_HUB_ADMIN_TOKEN}`,
          `${DISCONNECTED_HUB_ID}:${DISCONNECTED_HUB_ADMIN_TOKEN}`,
        ].join(','),
        CREDENTIALS_CHECK_TIMEOUT: '1500',
      },
      decideCredentials: (request) =>
        request.credentials.provider === 'telegram' && request.credentials.botToken === SILENT_TOKEN
          ? undefined
          : telegramVerdict(request),
    });
    ({ hubspot, db, gateway, published, responder } = stack);
    await hubspot.installAnotherPortal(gateway.app, OTHER_HUB_ID, [{ id: OTHER_INBOX_ID, name: 'Sales' }]);
    await hubspot.control.seedPortal({
      hubId: NOT_INSTALLED_HUB_ID,
      users: [{ id: hubspot.userId, email: 'rep@example.com' }],
      inboxes: [{ id: NOT_INSTALLED_INBOX_ID, name: 'Elsewhere' }],
    });
    await hubspot.installAnotherPortal(gateway.app, DISCONNECTED_HUB_ID, [{ id: '514', name: 'Revoked' }]);
    await db.dataSource.query(
      `UPDATE "${db.schema}".hubspot_portals SET status = 'disconnected' WHERE portal_id = $1`,
      [DISCONNECTED_HUB_ID],
    );
    const registered = await fetch(`${gateway.baseUrl}/admin/channel/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPS_API_TOKEN}` },
    });
    expect(registered.status).toBeLessThan(300);
    channelId = ((await registered.json()) as { channelId: string }).channelId;
  });

  afterAll(async () => {
    await stack.close();
  });

  it('shows the provider choice, then the provider-specific form with a CSRF cookie', async () => {
    const { url } = await popupUrl();
    const choice = await fetch(url);
    expect(choice.status).toBe(200);
    const html = await choice.text();
    for (const provider of ['telegram', 'twilio', 'generic-webhook']) {
      expect(html).toContain(`data-provider="${provider}"`);
    }
    url.searchParams.set('provider', 'twilio');
    const form = await fetch(url);
    expect(form.headers.get('set-cookie')).toMatch(/^ib_connect=[\w-]+;.*HttpOnly/i);
    expect(form.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const twilio = await form.text();
    for (const field of ['accountSid', 'authToken', 'phoneNumber']) {
      expect(twilio).toContain(`name="${field}"`);
    }
    expect(twilio).toContain('name="csrf"');
  });

  it('shows field errors next to the field and asks nobody when the input is malformed', async () => {
    const before = responder.requests.length;
    const form = await openForm((await popupUrl('telegram')).url);
    const response = await submit(form, { botToken: 'not a token' });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toMatch(/data-error-for="botToken">[^<]*Telegram bot token/);
    expect(responder.requests.length).toBe(before);
  });

  it('a post that is not a form (JSON, no content type, an empty body) gets the 400 page, not a 500', async () => {
    const form = await openForm((await popupUrl('telegram')).url);
    const fields = JSON.stringify({ ...form.fields, botToken: GOOD_TOKEN });
    for (const headers of [
      { 'content-type': 'application/json, text/html' },
      { 'content-type': 'text/plain' },
      {},
    ] as Record<string, string>[]) {
      const response = await fetch(new URL('/connect', gateway.baseUrl), {
        method: 'POST',
        redirect: 'manual',
        headers: { ...headers, cookie: form.cookie },
        body: fields,
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('This page opens from HubSpot');
    }
  });

  it('wrong credentials: the popup says why, and nothing is connected in HubSpot', async () => {
    const form = await openForm((await popupUrl('telegram')).url);
    const accountsBefore = await allAccounts();
    const response = await submit(form, { botToken: WRONG_TOKEN });
    expect(response.status).toBe(422);
    expect(await allAccounts()).toEqual(accountsBefore);
    expect(await response.text()).toContain('Telegram did not accept this bot token');
    expect(responder.requests.at(-1)?.credentials).toEqual({ provider: 'telegram', botToken: WRONG_TOKEN });
    // The token is still unused: a correct retry in the same popup succeeds.
    const retry = await submit(form, { botToken: GOOD_TOKEN.replace('700100200', '700100299') });
    expect(retry.status).toBe(303);
  });

  it('correct credentials: the staging token is finished, the popup goes back to HubSpot, and the account is connected with its credentials request', async () => {
    const form = await openForm((await popupUrl('telegram')).url);
    const response = await submit(form, { botToken: GOOD_TOKEN });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(redirectUrl());
    const requestId = responder.requests.at(-1)?.requestId;

    const [account] = await accountsNamed('Support bot 700100200');
    expect(account).toBeDefined();
    const connected = await testing.expectEventually(
      () => {
        const found = published.messages.find(
          (e) =>
            e.type === 'gateway.channel-account.connected.v1' &&
            e.payload['channelAccountId'] === account?.id,
        );
        if (found === undefined) {
          throw new Error('not published yet');
        }
        return found;
      },
      { timeoutMs: 15_000, description: 'connected.v1 for the popup account' },
    );
    expect(connected.payload).toMatchObject({
      provider: 'telegram',
      inboxId: INBOX_ID,
      hubspotChannelId: channelId,
      name: 'Support bot 700100200',
      deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: '700100200' },
      credentialsRequestId: requestId,
    });
    const directory = gateway.app.get<ChannelAccountDirectory>(CHANNEL_ACCOUNT_DIRECTORY);
    expect(await directory.find(account?.id ?? '')).toMatchObject({
      provider: 'telegram',
      inboxType: 'INBOX',
    });

    const again = await submit(form, { botToken: GOOD_TOKEN.replace('700100200', '700100220') });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('already used');
  });

  /** The account of the bot the popup connected, and its address in HubSpot's API. */
  const popupBot = async () => {
    const [account] = await accountsNamed('Support bot 700100200');
    const accountId = account?.id ?? '';
    return {
      accountId,
      accountUrl: `/conversations/v3/custom-channels/${channelId}/channel-accounts/${accountId}`,
    };
  };

  /** The `updated.v1` changes announced for an account, in order. */
  const updatesOf = (channelAccountId: string) =>
    published.messages
      .filter(
        (e) =>
          e.type === 'gateway.channel-account.updated.v1' &&
          e.payload['channelAccountId'] === channelAccountId,
      )
      .map((e) => e.payload['changes']);

  it('the same bot connected again through the popup (its token was revoked): its account takes the new token and is authorized again, HubSpot creates no second account, and the popup says so', async () => {
    const { accountId, accountUrl } = await popupBot();
    await hubspot.control.updateChannelAccount(accountId, { authorized: false });
    await testing.expectEventually(() => {
      expect(updatesOf(accountId)).toEqual([['deauthorized']]);
    });

    const form = await openForm((await popupUrl('telegram')).url);
    const renewedToken = '700100200:AAH-renewed-in-popup-0123456789abcdef';
    const response = await submit(form, { botToken: renewedToken });
    expect(response.status).toBe(303);
    const done = new URL(response.headers.get('location') ?? '', gateway.baseUrl);
    expect(done.pathname).toBe('/connect/done');
    expect(done.searchParams.get('reconnected')).toBe('1');
    const page = await fetch(done, { headers: { cookie: form.cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Reconnected Support bot 700100200');
    expect(html).toContain('data-outcome="reconnected"');
    expect(html).not.toContain('data-account-state="off"');
    expect(html).toContain(`href="${redirectUrl()}"`);
    // The signed link cannot be turned into the other outcome.
    done.searchParams.delete('reconnected');
    expect((await fetch(done, { headers: { cookie: form.cookie } })).status).toBe(403);

    expect(await accountsNamed('Support bot 700100200')).toHaveLength(1);
    expect((await hubspot.api<{ authorized: boolean }>('GET', accountUrl)).authorized).toBe(true);
    expect(
      responder.requests
        .filter((r) => r.credentials.provider === 'telegram' && r.credentials.botToken === renewedToken)
        .map((r) => r.channelAccountId),
    ).toEqual([undefined, accountId]);
    await testing.expectEventually(() => {
      expect(updatesOf(accountId)).toEqual([['deauthorized'], ['authorized']]);
    });
    // HubSpot's connection token was left unused: the same popup can still connect another bot.
    const another = await submit(form, { botToken: GOOD_TOKEN.replace('700100200', '700100230') });
    expect(another.status).toBe(303);
    expect(another.headers.get('location')).toBe(redirectUrl());
  });

  it('a turned-off account reconnected through the popup stays off (the admin’s switch) and the last step says how to turn it on', async () => {
    const { accountId, accountUrl } = await popupBot();
    await hubspot.control.updateChannelAccount(accountId, { active: false });
    await testing.expectEventually(() => {
      expect(updatesOf(accountId).at(-1)).toEqual(['deactivated']);
    });

    const form = await openForm((await popupUrl('telegram')).url);
    const response = await submit(form, { botToken: '700100200:AAH-renewed-while-off-0123456789abcdef' });
    expect(response.status).toBe(303);
    const done = new URL(response.headers.get('location') ?? '', gateway.baseUrl);
    expect(done.searchParams.get('reconnected')).toBe('1');
    const html = await (await fetch(done, { headers: { cookie: form.cookie } })).text();
    expect(html).toContain('Reconnected Support bot 700100200');
    expect(html).toContain('data-account-state="off"');
    expect(html).toContain('Turn it on in your HubSpot inbox settings');
    expect((await hubspot.api<{ active: boolean }>('GET', accountUrl)).active).toBe(false);

    await hubspot.control.updateChannelAccount(accountId, { active: true });
    await testing.expectEventually(() => {
      expect(updatesOf(accountId).at(-1)).toEqual(['activated']);
    });
    const afterwards = await (await fetch(done, { headers: { cookie: form.cookie } })).text();
    expect(afterwards).not.toContain('data-account-state="off"');
  });

  it('a bot connected to another portal is refused with the reason, and nothing is created there', async () => {
    const form = await openForm(
      (await popupUrl('telegram', { portalId: OTHER_HUB_ID, inboxId: OTHER_INBOX_ID })).url,
    );
    const response = await submit(form, { botToken: GOOD_TOKEN });
    expect(response.status).toBe(409);
    const html = await response.text();
    expect(html).toContain('already connected to another HubSpot account');
    expect(html).not.toContain(String(HUB_ID));
    expect(await accountsNamed('Support bot 700100200')).toHaveLength(1);
  });

  it('two popups connecting one new bot at once: HubSpot gets one account, the other popup is told why', async () => {
    const token = GOOD_TOKEN.replace('700100200', '700100240');
    const forms = await Promise.all([1, 2].map(async () => openForm((await popupUrl('telegram')).url)));
    const responses = await Promise.all(forms.map((form) => submit(form, { botToken: token })));
    await testing.expectEventually(async () => {
      expect(await accountsNamed('Support bot 700100240')).toHaveLength(1);
    });
    const outcomes = await Promise.all(
      responses.map(async (response) => ({
        status: response.status,
        location: response.headers.get('location'),
        text: response.status === 303 ? '' : await response.text(),
      })),
    );
    expect(outcomes.filter((outcome) => outcome.location === redirectUrl())).toHaveLength(1);
    // The other waited for the first: HubSpot was still finishing it, or had finished and it reconnected it.
    const other = outcomes.find((outcome) => outcome.location !== redirectUrl());
    if (other?.status === 409) {
      expect(other.text).toContain('is being connected right now');
    } else {
      expect(other?.location).toMatch(/^\/connect\/done\?.*reconnected=1/);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await accountsNamed('Support bot 700100240')).toHaveLength(1);
  });

  it('an expired or unknown connection token says so', async () => {
    const form = await openForm((await popupUrl('telegram')).url);
    const forged = { ...form, fields: { ...form.fields, accountToken: 'sbx-staging-does-not-exist' } };
    // The CSRF token binds the account token: a swapped token is refused before anything else.
    expect((await submit(forged, { botToken: GOOD_TOKEN })).status).toBe(403);

    const url = new URL((await popupUrl('telegram')).url);
    url.searchParams.set('accountToken', 'sbx-staging-does-not-exist');
    const unknown = await openForm(url);
    const response = await submit(unknown, { botToken: GOOD_TOKEN.replace('700100200', '700100300') });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('expired or is unknown');
  });

  it('refuses a post without the popup cookie, or with a changed return address', async () => {
    const form = await openForm((await popupUrl('telegram')).url);
    expect((await submit(form, { botToken: GOOD_TOKEN }, '')).status).toBe(403);
    const changed = { ...form, fields: { ...form.fields, redirectUrl: `${hubspot.sandbox.url}/elsewhere` } };
    expect((await submit(changed, { botToken: GOOD_TOKEN })).status).toBe(403);
    const bad = new URL((await popupUrl('telegram')).url);
    bad.searchParams.set('redirectUrl', 'https://evil.example/steal');
    expect((await fetch(bad)).status).toBe(400);
  });

  it('a portal the app is not installed in: 409 saying so before any provider is asked, and nothing is connected', async () => {
    const checksBefore = responder.requests.length;
    const form = await openForm(
      (await popupUrl('telegram', { portalId: NOT_INSTALLED_HUB_ID, inboxId: NOT_INSTALLED_INBOX_ID })).url,
    );
    const response = await submit(form, { botToken: GOOD_TOKEN.replace('700100200', '700100700') });
    expect(response.status).toBe(409);
    const html = await response.text();
    expect(html).toContain('The app is not installed');
    expect(html).toContain(`not installed in HubSpot account ${NOT_INSTALLED_HUB_ID}`);
    expect(responder.requests.length).toBe(checksBefore);
    expect(await accountsNamed('Support bot 700100700')).toHaveLength(0);
  });

  it('says so when the credentials check does not answer in time, and connects nothing', async () => {
    const form = await openForm((await popupUrl('telegram')).url);
    const response = await submit(form, { botToken: SILENT_TOKEN });
    expect(response.status).toBe(504);
    expect(await response.text()).toContain('took too long');
    expect(await accountsNamed('Support bot 700100202')).toHaveLength(0);
  });

  describe('POST /admin/portals/{portalId}/channel-accounts', () => {
    const create = (body: unknown, token: string | null = HUB_ADMIN_TOKEN, portalId = HUB_ID) =>
      fetch(`${gateway.baseUrl}/admin/portals/${portalId}/channel-accounts`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify(body),
      });

    it('401 without a token of a portal (the ops token included), 400 naming the field for bad input, 422 for refused credentials', async () => {
      const body = { inboxId: INBOX_ID, credentials: { provider: 'telegram', botToken: GOOD_TOKEN } };
      expect((await create(body, null)).status).toBe(401);
      expect((await create(body, 'wrong-token-wrong-token-wrong')).status).toBe(401);
      const withOpsToken = await create(body, OPS_API_TOKEN);
      expect(withOpsToken.status).toBe(401);
      expect(withOpsToken.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const invalid = await create({ inboxId: 'x', credentials: { provider: 'telegram', botToken: 'nope' } });
      expect(invalid.status).toBe(400);
      const problem = (await invalid.json()) as { errors: { field: string }[] };
      expect(problem.errors.map((error) => error.field).sort()).toEqual(['credentials.botToken', 'inboxId']);
      const refused = await create({
        inboxId: INBOX_ID,
        credentials: { provider: 'telegram', botToken: WRONG_TOKEN },
      });
      expect(refused.status).toBe(422);
      expect(await refused.json()).toMatchObject({ code: 'CREDENTIALS_REJECTED' });
    });

    it("403 at once for a token of another portal (or on portal 0's path): nothing is checked or created", async () => {
      const body = {
        inboxId: OTHER_INBOX_ID,
        credentials: { provider: 'telegram', botToken: GOOD_TOKEN.replace('700100200', '700100400') },
      };
      const checksBefore = responder.requests.length;
      const accountsBefore = await allAccounts();
      for (const [token, portalId] of [
        [HUB_ADMIN_TOKEN, OTHER_HUB_ID],
        [OTHER_HUB_ADMIN_TOKEN, HUB_ID],
        [HUB_ADMIN_TOKEN, 0],
      ] as const) {
        const response = await create(body, token, portalId);
        expect(response.status).toBe(403);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await response.json()).toMatchObject({ code: 'FORBIDDEN' });
      }
      expect(responder.requests.length).toBe(checksBefore);
      expect(await allAccounts()).toEqual(accountsBefore);
    });

    it('409 APP_NOT_INSTALLED for a portal the app is not installed in, or that revoked it, before any provider is asked', async () => {
      const checksBefore = responder.requests.length;
      const accountsBefore = await allAccounts();
      const body = (inboxId: string) => ({
        inboxId,
        credentials: { provider: 'telegram', botToken: GOOD_TOKEN.replace('700100200', '700100710') },
      });
      const notInstalled = await create(
        body(NOT_INSTALLED_INBOX_ID),
        NOT_INSTALLED_HUB_ADMIN_TOKEN,
        NOT_INSTALLED_HUB_ID,
      );
      expect(notInstalled.status).toBe(409);
      expect(notInstalled.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await notInstalled.json()).toMatchObject({
        code: 'APP_NOT_INSTALLED',
        detail: expect.stringContaining(`not installed in HubSpot account ${NOT_INSTALLED_HUB_ID}`),
      });
      const disconnected = await create(body('514'), DISCONNECTED_HUB_ADMIN_TOKEN, DISCONNECTED_HUB_ID);
      expect(disconnected.status).toBe(409);
      expect(await disconnected.json()).toMatchObject({
        code: 'APP_NOT_INSTALLED',
        detail: expect.stringContaining('Install it again'),
      });
      expect(responder.requests.length).toBe(checksBefore);
      expect(await allAccounts()).toEqual(accountsBefore);
    });

    it('409 for a bot connected already: naming its account in this portal, not naming it for another portal', async () => {
      const body = { inboxId: INBOX_ID, credentials: { provider: 'telegram', botToken: GOOD_TOKEN } };
      const [account] = await accountsNamed('Support bot 700100200');
      const here = await create(body);
      expect(here.status).toBe(409);
      expect(await here.json()).toMatchObject({
        code: 'ADDRESS_IN_USE',
        channelAccountId: account?.id,
        detail: expect.stringContaining(`PUT …/channel-accounts/${account?.id ?? ''}/credentials`),
      });
      const elsewhere = await create(
        { ...body, inboxId: OTHER_INBOX_ID },
        OTHER_HUB_ADMIN_TOKEN,
        OTHER_HUB_ID,
      );
      expect(elsewhere.status).toBe(409);
      const problem = (await elsewhere.json()) as Record<string, unknown>;
      expect(problem).toMatchObject({ code: 'ADDRESS_IN_USE' });
      expect(problem['channelAccountId']).toBeUndefined();
      expect(await accountsNamed('Support bot 700100200')).toHaveLength(1);
    });

    it('201 with the stored account, and connected.v1 exactly once', async () => {
      const token = GOOD_TOKEN.replace('700100200', '700100500');
      const response = await create({
        inboxId: INBOX_ID,
        name: 'Scripted bot',
        credentials: { provider: 'telegram', botToken: token },
      });
      expect(response.status).toBe(201);
      const account = (await response.json()) as { channelAccountId: string };
      expect(account).toMatchObject({
        portalId: String(HUB_ID),
        channelId,
        inboxId: INBOX_ID,
        inboxType: 'INBOX',
        provider: 'telegram',
        name: 'Scripted bot',
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: '700100500' },
        authorized: true,
        active: true,
      });
      const connectedFor = () =>
        published.messages.filter(
          (e) =>
            e.type === 'gateway.channel-account.connected.v1' &&
            e.payload['channelAccountId'] === account.channelAccountId,
        );
      await testing.expectEventually(
        () => {
          if (connectedFor().length === 0) {
            throw new Error('not yet');
          }
        },
        { timeoutMs: 15_000, description: 'connected.v1 of the scripted account' },
      );
      // HubSpot's CHANNEL_ACCOUNT_CREATED for it is processed too, and announces nothing twice.
      await testing.expectEventually(
        async () => {
          const rows = await db.dataSource.query<{ outcome: string | null }[]>(
            `SELECT outcome FROM "${db.schema}".hubspot_webhook_events
              WHERE event_type = 'CHANNEL_ACCOUNT_CREATED' AND payload->>'channelAccountId' = $1`,
            [account.channelAccountId],
          );
          if (rows[0]?.outcome === undefined || rows[0].outcome === null) {
            throw new Error('created webhook not processed yet');
          }
        },
        { timeoutMs: 15_000, description: 'the created webhook processed' },
      );
      expect(connectedFor()).toHaveLength(1);
    });
  });

  describe('PUT /admin/portals/{portalId}/channel-accounts/{channelAccountId}/credentials', () => {
    const put = (path: string, body: unknown, token = HUB_ADMIN_TOKEN) =>
      fetch(`${gateway.baseUrl}/admin/portals/${path}/credentials`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    const telegram = (botToken: string) => ({ credentials: { provider: 'telegram', botToken } });

    it('authorizes a deauthorized account again with a new token of the same bot; refuses another bot, another provider and an unknown account', async () => {
      const created = await fetch(`${gateway.baseUrl}/admin/portals/${HUB_ID}/channel-accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${HUB_ADMIN_TOKEN}` },
        body: JSON.stringify({
          inboxId: INBOX_ID,
          ...telegram(GOOD_TOKEN.replace('700100200', '700100600')),
        }),
      });
      expect(created.status).toBe(201);
      const { channelAccountId } = (await created.json()) as { channelAccountId: string };
      const path = `${HUB_ID}/channel-accounts/${channelAccountId}`;
      const accountUrl = `/conversations/v3/custom-channels/${channelId}/channel-accounts/${channelAccountId}`;
      const updates = () => updatesOf(channelAccountId);
      await hubspot.control.updateChannelAccount(channelAccountId, { authorized: false });
      await testing.expectEventually(() => {
        expect(updates()).toEqual([['deauthorized']]);
      });

      const otherBot = await put(path, telegram(GOOD_TOKEN.replace('700100200', '700100601')));
      expect(otherBot.status).toBe(422);
      expect(await otherBot.json()).toMatchObject({
        code: 'CREDENTIALS_REJECTED',
        detail: expect.stringContaining('not to the connected account'),
      });
      const otherProvider = await put(path, {
        credentials: {
          provider: 'twilio',
          accountSid: `AC${'0'.repeat(32)}`,
          authToken: 'f'.repeat(32),
          phoneNumber: '+14155550100',
        },
      });
      expect(otherProvider.status).toBe(422);
      expect((await put(`${HUB_ID}/channel-accounts/4242424242`, telegram(GOOD_TOKEN))).status).toBe(404);
      const checksBefore = responder.requests.length;
      const renewedToken = '700100600:AAH-renewed-token-0123456789abcdefghi';
      // Another portal's admin cannot reconnect this portal's account, on either path; the ops token opens neither.
      expect((await put(path, telegram(renewedToken), OTHER_HUB_ADMIN_TOKEN)).status).toBe(403);
      expect(
        (await put(`${OTHER_HUB_ID}/channel-accounts/${channelAccountId}`, telegram(renewedToken))).status,
      ).toBe(403);
      expect((await put(path, telegram(renewedToken), OPS_API_TOKEN)).status).toBe(401);
      expect(responder.requests.length).toBe(checksBefore);
      const badInput = await put(`${HUB_ID}/channel-accounts/abc`, { credentials: { provider: 'telegram' } });
      expect(badInput.status).toBe(400);
      const problem = (await badInput.json()) as { errors: { field: string }[] };
      expect(problem.errors.map((error) => error.field)).toContain('channelAccountId');
      expect((await hubspot.api<{ authorized: boolean }>('GET', accountUrl)).authorized).toBe(false);
      expect(updates()).toEqual([['deauthorized']]);

      const renewed = await put(path, telegram(renewedToken));
      expect(renewed.status).toBe(200);
      expect(await renewed.json()).toMatchObject({ channelAccountId, authorized: true, active: true });
      expect((await hubspot.api<{ authorized: boolean }>('GET', accountUrl)).authorized).toBe(true);
      expect(
        responder.requests.filter(
          (r) => r.credentials.provider === 'telegram' && r.credentials.botToken === renewedToken,
        ),
      ).toEqual([expect.objectContaining({ channelAccountId })]);
      await testing.expectEventually(() => {
        expect(updates()).toEqual([['deauthorized'], ['authorized']]);
      });
    });

    it('409 APP_NOT_INSTALLED for a portal that revoked the app or never installed it, before any provider is asked', async () => {
      // A bot connected while the app was installed, deauthorized since; then the portal revoked the app.
      const channelAccountId = '5000720';
      const botToken = GOOD_TOKEN.replace('700100200', '700100720');
      await db.dataSource.transaction((manager) =>
        gateway.app.get(ChannelAccountRepository, { strict: false }).insertIfNew(manager, {
          channelAccountId,
          portalId: String(DISCONNECTED_HUB_ID),
          channelId,
          inboxId: '514',
          inboxType: 'INBOX',
          provider: 'telegram',
          name: 'Bot of a revoked portal',
          deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: '700100720' },
          authorized: false,
          active: true,
          archived: false,
        }),
      );
      const checksBefore = responder.requests.length;

      const revoked = await put(
        `${DISCONNECTED_HUB_ID}/channel-accounts/${channelAccountId}`,
        telegram(botToken),
        DISCONNECTED_HUB_ADMIN_TOKEN,
      );
      expect(revoked.status).toBe(409);
      expect(await revoked.json()).toMatchObject({
        code: 'APP_NOT_INSTALLED',
        detail: expect.stringContaining('Install it again'),
      });
      const neverInstalled = await put(
        `${NOT_INSTALLED_HUB_ID}/channel-accounts/5000721`,
        telegram(botToken),
        NOT_INSTALLED_HUB_ADMIN_TOKEN,
      );
      expect(neverInstalled.status).toBe(409);
      expect(await neverInstalled.json()).toMatchObject({
        code: 'APP_NOT_INSTALLED',
        detail: expect.stringContaining(`not installed in HubSpot account ${NOT_INSTALLED_HUB_ID}`),
      });
      expect(responder.requests.length).toBe(checksBefore);
      const directory = gateway.app.get<ChannelAccountDirectory>(CHANNEL_ACCOUNT_DIRECTORY);
      expect(await directory.find(channelAccountId)).toMatchObject({ authorized: false });
    });
  });

  it('counts every attempt by origin and outcome in channel_account_connections_total', async () => {
    const metrics = await (await fetch(`${gateway.baseUrl}/metrics`)).text();
    const value = (origin: string, outcome: string) => {
      const line = metrics
        .split('\n')
        .find(
          (candidate) =>
            candidate.startsWith('channel_account_connections_total{') &&
            candidate.includes(`origin="${origin}"`) &&
            candidate.includes(`outcome="${outcome}"`),
        );
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    expect(value('popup', 'connected')).toBe(4);
    // Two reconnections (a revoked token, a turned-off account); the second of the two popups racing for one bot
    // is either refused or reconnects the first one's account.
    expect(value('popup', 'reconnected')).toBeGreaterThanOrEqual(2);
    expect(value('popup', 'reconnected') + value('popup', 'address-in-use')).toBe(4);
    expect(value('admin', 'address-in-use')).toBe(2);
    expect(value('popup', 'invalid-credentials')).toBe(1);
    expect(value('popup', 'check-timeout')).toBe(1);
    expect(value('popup', 'token-unknown')).toBe(1);
    expect(value('popup', 'token-used')).toBe(1);
    expect(value('admin', 'connected')).toBe(2);
    expect(value('admin', 'invalid-credentials')).toBe(1);
    expect(value('reconnect', 'connected')).toBe(1);
    expect(value('reconnect', 'invalid-credentials')).toBe(2);
    expect(value('reconnect', 'account-unknown')).toBe(1);
    expect(value('reconnect', 'app-not-installed')).toBe(2);
  });

  it('provider secrets travel sealed: no outbox row and no message on the wire holds them, and the connector’s key opens them', async () => {
    // The relay deletes outbox rows once published: a trigger keeps a copy of every body written from now on.
    await db.dataSource.query(`CREATE TABLE "${db.schema}".outbox_copies (body text NOT NULL)`);
    await db.dataSource.query(
      `CREATE FUNCTION "${db.schema}".copy_outbox_row() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO "${db.schema}".outbox_copies (body) VALUES (NEW.body); RETURN NEW; END $$`,
    );
    await db.dataSource.query(
      `CREATE TRIGGER copy_outbox_row AFTER INSERT ON "${db.schema}".outbox
       FOR EACH ROW EXECUTE FUNCTION "${db.schema}".copy_outbox_row()`,
    );
    const requestsBefore = responder.requests.length;
    const botToken = '700100700:AAH-sealed-popup-token-0123456789abcd';
    const twilio = {
      provider: 'twilio',
      accountSid: 'AC0123456789abcdef0123456789abcdef',
      authToken: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
      phoneNumber: '+14155550100',
    };
    const generic = {
      provider: 'generic-webhook',
      callbackUrl: 'https://chat.acme.example/replies',
      sharedSecret: 'generic-shared-secret-0123456789abcdef',
    };

    const popup = await submit(await openForm((await popupUrl('telegram')).url), { botToken });
    expect(popup.status).toBe(303);
    for (const credentials of [twilio, generic]) {
      const admin = await fetch(`${gateway.baseUrl}/admin/portals/${HUB_ID}/channel-accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${HUB_ADMIN_TOKEN}` },
        body: JSON.stringify({ inboxId: INBOX_ID, credentials }),
      });
      expect(admin.status).toBe(422);
    }

    const secrets = [botToken, botToken.split(':')[1] ?? '', twilio.authToken, generic.sharedSecret];
    const outboxBodies = (
      await db.dataSource.query<{ body: string }[]>(`SELECT body FROM "${db.schema}".outbox_copies`)
    ).map((row) => row.body);
    const wireBodies = responder.rawBodies.slice(requestsBefore);
    const validateRows = outboxBodies.filter((body) => body.includes('connector.credentials.validate'));
    expect(validateRows).toHaveLength(3);
    expect(wireBodies).toHaveLength(3);
    for (const body of [...validateRows, ...wireBodies]) {
      expect(body).toContain('"sealedCredentials":"v1.dev.');
    }
    for (const body of [...outboxBodies, ...wireBodies]) {
      for (const secret of secrets) {
        expect(body).not.toContain(secret);
      }
    }
    expect(responder.requests.slice(requestsBefore).map((request) => request.credentials)).toEqual([
      { provider: 'telegram', botToken },
      twilio,
      generic,
    ]);
  });
});
