import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { AppStub } from './app-stub.js';
import {
  ALL_CHANNEL_SCOPES,
  APP_ID,
  CONTACT_ID,
  HELP_DESK_ID,
  HUB_ID,
  INBOX_ID,
  OPAQUE_CAPABILITIES,
  SandboxHarness,
  USER_ID,
  incomingMessage,
} from './sandbox-harness.js';

const EVIL = '<script>alert(1)</script>"\'&';

describe('web inbox pages over HTTP', () => {
  let sandbox: SandboxHarness;
  let app: AppStub;
  let token: string;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
    app = new AppStub(sandbox.baseUrl);
    await app.start();
  });
  afterAll(async () => {
    await app.stop();
    await sandbox.stop();
  });
  beforeEach(async () => {
    await sandbox.seed();
    token = await sandbox.token();
  });

  const page = async (path: string) => {
    const response = await fetch(`${sandbox.baseUrl}${path}`);
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: await response.text(),
    };
  };
  const post = (path: string, form: Record<string, string> = {}) =>
    fetch(`${sandbox.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
  const eventTypes = async () =>
    (await sandbox.control.webhookDeliveries()).map((delivery) => delivery.eventType);

  it('escapes every value that comes from the API', async () => {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES, {
      name: EVIL,
      channelDescription: `"><img src=x onerror=alert(2)>`,
      channelLogoUrl: 'http://localhost/logo.png?x="><script>alert(3)</script>',
    });
    const accountId = await sandbox.createAccount(token, channelId, {
      type: 'CHANNEL_SPECIFIC_OPAQUE_ID',
      value: '<b>bot</b>',
    });
    const published = await sandbox.request(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/messages`,
      {
        token,
        body: incomingMessage(accountId, {
          text: `hello ${EVIL}`,
          senders: [{ deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'u1' }, name: EVIL }],
          attachments: [
            { type: 'LOCATION', latitude: 1, longitude: 2, name: EVIL, url: 'javascript:alert(4)' },
            {
              type: 'QUICK_REPLIES',
              quickReplies: [{ value: 'javascript:alert(5)', valueType: 'URL', label: EVIL }],
            },
          ],
          associateWithContactId: Number(CONTACT_ID),
        }),
      },
    );
    expect(published.status).toBe(201);
    await sandbox.request('PATCH', `/crm/v3/objects/contacts/${CONTACT_ID}`, {
      token: await sandbox.token(['crm.objects.contacts.write']),
      body: { properties: { company: EVIL } },
    });
    const [thread] = await sandbox.control.threads(HUB_ID);

    const pages = [
      `/ui/${HUB_ID}/settings/inbox`,
      `/ui/${HUB_ID}/inbox?q=${encodeURIComponent('hello <script>')}`,
      `/ui/${HUB_ID}/inbox/threads/${thread?.id ?? ''}`,
      `/ui/${HUB_ID}/contacts/${CONTACT_ID}`,
    ];
    for (const path of pages) {
      const { status, type, body } = await page(path);
      expect({ path, status }).toEqual({ path, status: 200 });
      expect(type).toContain('text/html');
      expect(body).not.toContain('<script>alert');
      expect(body).not.toContain('<img src=x');
      expect(body).not.toContain('javascript:alert');
      expect(body).not.toContain('<b>bot</b>');
    }
    const threadPage = await page(pages[2] ?? '');
    expect(threadPage.body).toContain('hello &#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;');
    expect(threadPage.body).toContain('Open map');
    const inbox = await page(pages[1] ?? '');
    expect(inbox.body).toContain('value="hello &#60;script&#62;"');
    expect(inbox.body).toContain('thread-row');
    const contact = await page(pages[3] ?? '');
    expect(contact.body).toContain('Ada Lovelace');
    expect(contact.body).toContain(`/ui/${HUB_ID}/inbox/threads/${thread?.id ?? ''}`);
  });

  it('filters the inbox by channel and inbox and searches message text', async () => {
    const telegram = await sandbox.createChannel(OPAQUE_CAPABILITIES, { name: 'Telegram' });
    const sms = await sandbox.createChannel(OPAQUE_CAPABILITIES, { name: 'SMS' });
    const say = async (channelId: string, inboxId: string, text: string) => {
      const created = await sandbox.request(
        'POST',
        `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
        {
          token,
          body: { inboxId, name: `${text} bot`, authorized: true },
        },
      );
      const published = await sandbox.request(
        'POST',
        `/conversations/v3/custom-channels/${channelId}/messages`,
        {
          token,
          body: incomingMessage((created.body as { id: string }).id, { text }),
        },
      );
      return (published.body as { conversationsThreadId: string }).conversationsThreadId;
    };
    const apples = await say(telegram, INBOX_ID, 'apples please');
    const pears = await say(sms, INBOX_ID, 'pears please');
    const plums = await say(telegram, HELP_DESK_ID, 'plums please');
    const listed = async (query: string) => {
      const { body } = await page(`/ui/${HUB_ID}/inbox?${query}`);
      return [...body.matchAll(/inbox\/threads\/(\d+)"/g)].map((match) => match[1]).sort();
    };
    expect(await listed('')).toEqual([apples, pears, plums].sort());
    expect(await listed(`channelId=${telegram}`)).toEqual([apples, plums].sort());
    expect(await listed(`inboxId=${HELP_DESK_ID}`)).toEqual([plums]);
    expect(await listed(`channelId=${telegram}&inboxId=${INBOX_ID}`)).toEqual([apples]);
    expect(await listed('q=PEARS')).toEqual([pears]);
    expect(await listed(`q=please&channelId=${sms}`)).toEqual([pears]);
    expect(await listed('q=cherries')).toEqual([]);
  });

  it("shows each agent reply's delivery status: sent, failed with the reason, read", async () => {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
    const accountId = await sandbox.createAccount(token, channelId);
    const messages = `/conversations/v3/custom-channels/${channelId}/messages`;
    const published = await sandbox.request('POST', messages, { token, body: incomingMessage(accountId) });
    const threadId = (published.body as { conversationsThreadId: string }).conversationsThreadId;
    const replies = [];
    for (const text of ['one', 'two', 'three']) {
      replies.push((await sandbox.control.agentReply(threadId, { userId: USER_ID, text })).id);
    }
    const [sent, failed, read] = replies;
    await sandbox.request('PATCH', `${messages}/${failed ?? ''}`, {
      token,
      body: { statusType: 'FAILED', errorMessage: 'Blocked <by> the user' },
    });
    await sandbox.request('PATCH', `${messages}/${read ?? ''}`, { token, body: { statusType: 'READ' } });
    const { body } = await page(`/ui/${HUB_ID}/inbox/threads/${threadId}`);
    const statusOf = (messageId: string | undefined) => {
      const article = body.split(`data-message-id="${messageId ?? ''}"`)[1]?.split('</article>')[0] ?? '';
      return /data-status="(\w+)">\s*([^<]*?)\s*<\/div>/.exec(article)?.slice(1);
    };
    expect(statusOf(sent)).toEqual(['SENT', 'Sent']);
    expect(statusOf(failed)).toEqual(['FAILED', 'Failed: Blocked &#60;by&#62; the user']);
    expect(statusOf(read)).toEqual(['READ', 'Read']);
  });

  it('answers 404 pages for unknown portals, threads, contacts, accounts and actions', async () => {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
    const accountId = await sandbox.createAccount(token, channelId);
    for (const path of [
      '/ui/9999/inbox',
      '/ui/abc/settings/inbox',
      `/ui/${HUB_ID}/inbox/threads/123456`,
      `/ui/${HUB_ID}/contacts/999`,
      `/ui/${HUB_ID}/settings/inbox/connected?accountToken=nope`,
    ]) {
      const { status, type, body } = await page(path);
      expect({ path, status }).toEqual({ path, status: 404 });
      expect(type).toContain('text/html');
      expect(body).toContain('Not found');
    }
    expect((await post(`/ui/${HUB_ID}/settings/inbox/accounts/${accountId}/explode`)).status).toBe(404);
    expect((await post(`/ui/${HUB_ID}/settings/inbox/accounts/777/delete`)).status).toBe(404);
    expect((await post(`/ui/${HUB_ID}/inbox/threads/123456/replies`, { text: 'hi' })).status).toBe(404);
    const home = await page('/ui');
    expect(home.body).toContain(`/ui/${HUB_ID}/inbox`);
  });

  it('renames, turns off and on, moves to the help desk and deletes an account, each firing its webhook', async () => {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES, { webhookUrl: `${app.origin}/hook` });
    const accountId = await sandbox.createAccount(token, channelId);
    const base = `/ui/${HUB_ID}/settings/inbox/accounts/${accountId}`;
    const settings = await page(`/ui/${HUB_ID}/settings/inbox`);
    expect(settings.body).toContain(`data-account-id="${accountId}"`);

    const renamed = await post(`${base}/rename`, { name: 'Night shift' });
    expect(renamed.status).toBe(303);
    expect(renamed.headers.get('location')).toBe(`/ui/${HUB_ID}/settings/inbox`);
    expect((await post(`${base}/turn-off`)).status).toBe(303);
    expect((await page(`/ui/${HUB_ID}/settings/inbox`)).body).toContain('Turn on');
    expect((await post(`${base}/turn-on`)).status).toBe(303);
    expect((await post(`${base}/move-to-help-desk`)).status).toBe(303);
    // The portal has a help desk: the account moves there, its old inbox stays an inbox.
    const moved = await sandbox.request(
      'GET',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts/${accountId}`,
      { token },
    );
    expect((moved.body as { inboxId: string }).inboxId).toBe(HELP_DESK_ID);
    const inbox = await sandbox.request('GET', `/conversations/v3/conversations/inboxes/${INBOX_ID}`, {
      token,
    });
    expect((inbox.body as { type: string }).type).toBe('INBOX');
    expect((await post(`${base}/rename`, { name: '  ' })).status).toBe(400);
    expect((await post(`${base}/delete`)).status).toBe(303);
    expect((await page(`/ui/${HUB_ID}/settings/inbox`)).body).not.toContain(`data-account-id="${accountId}"`);

    expect(await eventTypes()).toEqual([
      'CHANNEL_ACCOUNT_CREATED',
      'CHANNEL_ACCOUNT_UPDATED',
      'CHANNEL_ACCOUNT_UPDATED',
      'CHANNEL_ACCOUNT_UPDATED',
      'CHANNEL_ACCOUNT_UPDATED',
      'CHANNEL_ACCOUNT_PURGED',
    ]);
    const account = await sandbox.request(
      'GET',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts/${accountId}?archived=true`,
      { token },
    );
    expect(account.body).toMatchObject({ name: 'Night shift', archived: true });
  });

  it('moving to the help desk makes new conversations create tickets; without a help desk the inbox becomes one', async () => {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
    const publish = async (accessToken: string, accountId: string, chat: string) => {
      const published = await sandbox.request(
        'POST',
        `/conversations/v3/custom-channels/${channelId}/messages`,
        {
          token: accessToken,
          body: incomingMessage(accountId, { integrationThreadId: chat }),
        },
      );
      const thread = await sandbox.request(
        'GET',
        `/conversations/v3/conversations/threads/${(published.body as { conversationsThreadId: string }).conversationsThreadId}`,
        { token: accessToken },
      );
      return thread.body as { inboxId: string; threadAssociations?: { associatedTicketId?: string } };
    };

    // A portal with a help desk: the account moves there.
    const accountId = await sandbox.createAccount(token, channelId);
    expect(
      (await publish(token, accountId, 'before')).threadAssociations?.associatedTicketId,
    ).toBeUndefined();
    await post(`/ui/${HUB_ID}/settings/inbox/accounts/${accountId}/move-to-help-desk`);
    const after = await publish(token, accountId, 'after');
    expect(after.inboxId).toBe(HELP_DESK_ID);
    expect(after.threadAssociations?.associatedTicketId).toMatch(/^\d+$/);

    // A portal without one: the account's inbox itself becomes a help-desk inbox.
    await sandbox.control.seedPortal({
      hubId: 6161,
      users: [{ id: 61, email: 'solo@example.com' }],
      inboxes: [{ id: '611', name: 'Only inbox' }],
    });
    const solo = (
      await sandbox.control.issueTokens(6161, {
        appId: APP_ID,
        userId: 61,
        scopes: [...ALL_CHANNEL_SCOPES],
      })
    ).access_token;
    const created = await sandbox.request(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
      {
        token: solo,
        body: { inboxId: '611', name: 'Solo bot', authorized: true },
      },
    );
    const soloAccount = (created.body as { id: string }).id;
    expect((await post(`/ui/6161/settings/inbox/accounts/${soloAccount}/move-to-help-desk`)).status).toBe(
      303,
    );
    const inbox = await sandbox.request('GET', '/conversations/v3/conversations/inboxes/611', {
      token: solo,
    });
    expect(inbox.body).toMatchObject({ id: '611', type: 'HELP_DESK' });
    const soloThread = await publish(solo, soloAccount, 'solo');
    expect(soloThread.inboxId).toBe('611');
    expect(soloThread.threadAssociations?.associatedTicketId).toMatch(/^\d+$/);
    // Already in a help desk: the page offers no move any more.
    expect((await page('/ui/6161/settings/inbox')).body).not.toContain('move-to-help-desk');
  });

  it('answers the pop-up URL with the five parameters, or a 400 when the channel has no connection URL', async () => {
    const withUrl = await sandbox.createChannel(OPAQUE_CAPABILITIES, {
      channelAccountConnectionRedirectUrl: `${app.origin}/connect?existing=1`,
    });
    const connect = await post(`/ui/${HUB_ID}/settings/inbox/connect`, {
      channelId: withUrl,
      inboxId: INBOX_ID,
    });
    expect(connect.status).toBe(201);
    const { popupUrl } = (await connect.json()) as { popupUrl: string };
    const url = new URL(popupUrl);
    expect([...url.searchParams.keys()].sort()).toEqual(
      ['accountToken', 'channelId', 'existing', 'inboxId', 'portalId', 'redirectUrl'].sort(),
    );
    expect(url.searchParams.get('redirectUrl')).toMatch(
      new RegExp(`^${sandbox.baseUrl}/ui/${HUB_ID}/settings/inbox/connected\\?accountToken=`),
    );
    const pending = await page(
      new URL(url.searchParams.get('redirectUrl') ?? '').pathname +
        '?accountToken=' +
        encodeURIComponent(url.searchParams.get('accountToken') ?? ''),
    );
    expect(pending.body).toContain('Not connected yet');

    const withoutUrl = await sandbox.createChannel(OPAQUE_CAPABILITIES);
    const refused = await post(`/ui/${HUB_ID}/settings/inbox/connect`, {
      channelId: withoutUrl,
      inboxId: INBOX_ID,
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toContain(
      'channelAccountConnectionRedirectUrl',
    );
    const badInbox = await post(`/ui/${HUB_ID}/settings/inbox/connect`, {
      channelId: withUrl,
      inboxId: '999',
    });
    expect(badInbox.status).toBe(400);
  });

  it('lists only channels of apps installed in the portal (§1.6), and connects only those', async () => {
    const ours = await sandbox.createChannel(OPAQUE_CAPABILITIES, {
      channelAccountConnectionRedirectUrl: `${app.origin}/connect`,
    });
    await sandbox.control.registerApp({
      appId: 2_000_002,
      clientId: 'other-client',
      clientSecret: 'other-secret',
      developerApiKeys: ['other-key'],
      redirectUris: ['http://localhost:3000/cb'],
      scopes: ['conversations.custom_channels.read'],
    });
    const created = await sandbox.request(
      'POST',
      '/conversations/v3/custom-channels?hapikey=other-key&appId=2000002',
      {
        body: {
          name: 'Not installed',
          capabilities: OPAQUE_CAPABILITIES,
          channelAccountConnectionRedirectUrl: `${app.origin}/connect`,
        },
      },
    );
    const theirs = (created.body as { id: string }).id;
    const listedChannels = async () =>
      [...(await page(`/ui/${HUB_ID}/settings/inbox`)).body.matchAll(/data-channel-id="(\d+)"/g)].map(
        (match) => match[1],
      );
    expect(await listedChannels()).toEqual([ours]);
    const refused = await post(`/ui/${HUB_ID}/settings/inbox/connect`, {
      channelId: theirs,
      inboxId: INBOX_ID,
    });
    expect(refused.status).toBe(404);

    // Once the other app is installed in the portal, its channel appears too.
    await sandbox.control.issueTokens(HUB_ID, {
      appId: 2_000_002,
      userId: USER_ID,
      scopes: ['conversations.custom_channels.read'],
    });
    expect(await listedChannels()).toEqual([ours, theirs]);
    expect(
      (await post(`/ui/${HUB_ID}/settings/inbox/connect`, { channelId: theirs, inboxId: INBOX_ID })).status,
    ).toBe(201);
  });
});
