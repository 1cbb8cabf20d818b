import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AppStub } from './app-stub.js';
import {
  APP_ID,
  CLIENT_ID,
  CLIENT_SECRET,
  CONTACT_ID,
  HUB_ID,
  INBOX_ID,
  REDIRECT_URI,
  SandboxHarness,
  USER_ID,
  incomingMessage,
} from './sandbox-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SCOPE =
  'conversations.custom_channels.read conversations.custom_channels.write conversations.read conversations.write files';
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/** A real OAuth install: the consent decision, then the code exchange. */
async function oauthAccessToken(sandbox: SandboxHarness): Promise<string> {
  const decision = await sandbox.request('POST', '/oauth/authorize/decision', {
    form: {
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state: 'e2e',
      portalId: String(HUB_ID),
      userId: String(USER_ID),
      decision: 'grant',
    },
  });
  const code = new URL(decision.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const tokens = await sandbox.request('POST', '/oauth/v1/token', {
    form: {
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT_URI,
      code,
    },
  });
  return (tokens.body as { access_token: string }).access_token;
}

describe('web inbox in headless Chromium', () => {
  let sandbox: SandboxHarness;
  let app: AppStub;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
    await sandbox.seed();
    await sandbox.control.setWebhookTimeScale(0.001);
    app = new AppStub(sandbox.baseUrl);
    await app.start();
    await sandbox.control.setAppWebhooks(APP_ID, {
      targetUrl: `${app.origin}/events`,
      subscriptions: [{ subscriptionType: 'conversation.propertyChange', propertyName: 'assignedTo' }],
    });
    app.accessToken = await oauthAccessToken(sandbox);
    profileDir = await mkdtemp(join(tmpdir(), 'sandbox-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context.close();
    await rm(profileDir, { recursive: true, force: true });
    await app.stop();
    await sandbox.stop();
  });

  it('connects a channel through the pop-up, renders every media kind, reassigns, replies and shows a failure', async () => {
    const channelId = await sandbox.createChannel(
      {
        deliveryIdentifierTypes: ['CHANNEL_SPECIFIC_OPAQUE_ID'],
        threadingModel: 'INTEGRATION_THREAD_ID',
        allowOutgoingMessages: true,
        outgoingAttachmentTypes: ['FILE'],
        maxFileAttachmentCount: 1,
        maxFileAttachmentSizeBytes: 1_000_000,
        maxTotalFileAttachmentSizeBytes: 1_000_000,
      },
      {
        name: 'Telegram',
        channelDescription: 'Chat with customers on Telegram',
        channelLogoUrl: `${app.origin}/logo.png`,
        webhookUrl: `${app.origin}/hook`,
        channelAccountConnectionRedirectUrl: `${app.origin}/connect`,
      },
    );

    // Settings → Inbox → Connect a channel.
    await page.goto(`${sandbox.baseUrl}/ui/${HUB_ID}/settings/inbox`);
    const card = page.locator(`[data-channel-id="${channelId}"]`);
    await expect(card.textContent()).resolves.toContain('Chat with customers on Telegram');
    await expect(
      card
        .locator('img.logo')
        .evaluate((img: { naturalWidth: number; complete: boolean }) => img.naturalWidth),
    ).resolves.toBe(1);
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      card.getByRole('button', { name: 'Continue with Telegram' }).click(),
    ]);
    await popup.waitForURL(/\/connect\?/);
    const popupUrl = new URL(popup.url());
    expect(popupUrl.searchParams.get('channelId')).toBe(channelId);
    expect(popupUrl.searchParams.get('inboxId')).toBe(INBOX_ID);
    expect(popupUrl.searchParams.get('portalId')).toBe(String(HUB_ID));
    expect(popupUrl.searchParams.get('accountToken')).toMatch(/\S+/);
    expect(popupUrl.searchParams.get('redirectUrl')).toContain(`/ui/${HUB_ID}/settings/inbox/connected`);
    await popup.fill('input[name=botName]', 'Support bot');
    await Promise.all([popup.waitForEvent('close'), popup.click('#connect')]);
    expect(app.stagingAnswers).toEqual([200]);
    await page.waitForSelector('#accounts .account-name:has-text("Support bot")');
    await expect(page.locator('.flash').textContent()).resolves.toContain('Support bot');

    const created = await expectEventually(() => {
      const [event] = app.ofType('CHANNEL_ACCOUNT_CREATED');
      if (event === undefined) {
        throw new Error('no CHANNEL_ACCOUNT_CREATED yet');
      }
      return event;
    });
    expect(created.validSignature).toBe(true);
    const accountId = String(created.payload.channelAccountId);

    // One inbound message per media kind, in one thread.
    const upload = async (name: string, type: string, bytes: Uint8Array = new TextEncoder().encode(name)) => {
      const response = await sandbox.uploadFile(app.accessToken, { name, type, bytes });
      return (response.body as { id: string }).id;
    };
    const file = (fileId: string, fileUsageType: string) => [{ type: 'FILE', fileId, fileUsageType }];
    const kinds: [string, Record<string, unknown>[]][] = [
      ['image', file(await upload('photo.png', 'image/png', PNG_1X1), 'IMAGE')],
      ['audio', file(await upload('song.mp3', 'audio/mpeg'), 'AUDIO')],
      ['voice', file(await upload('voice.ogg', 'audio/ogg'), 'VOICE_RECORDING')],
      ['sticker', file(await upload('sticker.webp', 'image/webp', PNG_1X1), 'STICKER')],
      ['video', file(await upload('clip.mp4', 'video/mp4'), 'OTHER')],
      ['file', file(await upload('invoice.pdf', 'application/pdf'), 'OTHER')],
      [
        'location',
        [{ type: 'LOCATION', latitude: 52.52, longitude: 13.405, name: 'Office', address: 'Berlin' }],
      ],
      [
        'contact',
        [{ type: 'CONTACT', contactProfile: { name: 'Grace Hopper', phones: [{ phone: '+15550100' }] } }],
      ],
      [
        'quick-replies',
        [{ type: 'QUICK_REPLIES', quickReplies: [{ value: 'yes', valueType: 'TEXT', label: 'Yes please' }] }],
      ],
      ['unsupported', [{ type: 'UNSUPPORTED_CONTENT' }]],
    ];
    for (const [index, [kind, attachments]] of kinds.entries()) {
      const response = await sandbox.request(
        'POST',
        `/conversations/v3/custom-channels/${channelId}/messages`,
        {
          token: app.accessToken,
          body: incomingMessage(accountId, {
            text: `message ${index} ${kind}`,
            attachments,
            integrationThreadId: 'chat-media',
            timestamp: new Date(Date.UTC(2026, 10, 25, 10, 0, index)).toISOString(),
            ...(index === 0 ? { associateWithContactId: Number(CONTACT_ID) } : {}),
          }),
        },
      );
      expect(response.status).toBe(201);
    }
    const [thread] = await sandbox.control.threads(HUB_ID);
    const threadUrl = `${sandbox.baseUrl}/ui/${HUB_ID}/inbox/threads/${thread?.id ?? ''}`;

    // The inbox lists it, the search finds it.
    await page.goto(`${sandbox.baseUrl}/ui/${HUB_ID}/inbox?q=unsupported&channelId=${channelId}`);
    await expect(page.locator('.thread-row').count()).resolves.toBe(1);

    await page.goto(threadUrl);
    const texts = await page.locator('article.msg .text').allTextContents();
    expect(texts).toEqual(kinds.map(([kind], index) => `message ${index} ${kind}`));
    const selectors: Record<string, string> = {
      image: 'img[data-kind=image]',
      audio: 'audio[data-kind=audio]',
      voice: 'audio[data-kind=voice]',
      sticker: 'img[data-kind=sticker]',
      video: 'video[data-kind=video]',
      file: 'a[data-kind=file]',
      location: '[data-kind=location]',
      contact: '[data-kind=contact]',
      'quick-replies': '[data-kind=quick-replies] .chip',
      unsupported: '[data-kind=unsupported]',
    };
    for (const [index, [kind]] of kinds.entries()) {
      await expect(
        page
          .locator(`article.msg >> nth=${index}`)
          .locator(selectors[kind] ?? '')
          .count(),
      ).resolves.toBe(1);
    }
    await expect(
      page
        .locator('img[data-kind=image]')
        .evaluate((img: { naturalWidth: number; complete: boolean }) => img.complete && img.naturalWidth),
    ).resolves.toBe(1);
    await expect(page.locator('[data-kind=contact]').textContent()).resolves.toContain('Grace Hopper');
    await expect(page.locator('[data-kind=quick-replies]').textContent()).resolves.toContain('Yes please');
    await expect(page.locator('a[data-kind=file]').textContent()).resolves.toContain('invoice.pdf');
    await expect(page.locator('#contact').textContent()).resolves.toContain('Ada Lovelace');

    // Reassign from the owner dropdown.
    await Promise.all([page.waitForURL(threadUrl), page.selectOption('#assignee', `A-${USER_ID}`)]);
    await expectEventually(async () => {
      const response = await sandbox.request(
        'GET',
        `/conversations/v3/conversations/threads/${thread?.id ?? ''}`,
        {
          token: app.accessToken,
        },
      );
      expect((response.body as { assignedTo?: string }).assignedTo).toBe(`A-${USER_ID}`);
    });
    await expect(page.locator('#assignee').inputValue()).resolves.toBe(`A-${USER_ID}`);
    // What HubSpot tells the app about a manual assignment (§2.6), v1-signed (checked by the stub).
    const assignment = await expectEventually(() => {
      const [event] = app.events;
      if (event === undefined) {
        throw new Error('no assignment event yet');
      }
      return event;
    });
    expect(assignment).toMatchObject({
      subscriptionType: 'conversation.propertyChange',
      objectId: Number(thread?.id),
      propertyName: 'assignedTo',
      propertyValue: `A-${USER_ID}`,
      portalId: HUB_ID,
      appId: APP_ID,
    });

    // Reply from the editor, with a file.
    await page.fill('#reply-text', 'Thanks, here is the form');
    await page.setInputFiles('#reply input[type=file]', {
      name: 'form.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.4 form'),
    });
    await Promise.all([page.waitForURL(threadUrl), page.click('#reply button[type=submit]')]);
    const outgoing = await expectEventually(() => {
      const [event] = app.ofType('OUTGOING_CHANNEL_MESSAGE_CREATED');
      if (event === undefined) {
        throw new Error('no OUTGOING_CHANNEL_MESSAGE_CREATED yet');
      }
      return event;
    });
    expect(outgoing.validSignature).toBe(true);
    const message = outgoing.payload.message as {
      id: string;
      text: string;
      attachments: { name?: string }[];
    };
    expect(message.text).toBe('Thanks, here is the form');
    expect(message.attachments).toEqual([expect.objectContaining({ type: 'FILE', name: 'form.pdf' })]);
    await expect(
      page.locator('article.msg.OUTGOING [data-status]').getAttribute('data-status'),
    ).resolves.toBe('SENT');

    // The app reports a delivery failure; the rep sees why.
    const failed = await sandbox.request(
      'PATCH',
      `/conversations/v3/custom-channels/${channelId}/messages/${message.id}`,
      {
        token: app.accessToken,
        body: { statusType: 'FAILED', errorMessage: 'Telegram: bot was blocked by the user' },
      },
    );
    expect(failed.status).toBe(200);
    // No reload: the page polls the thread's version and refreshes itself while the editor is empty.
    await page.waitForSelector('article.msg.OUTGOING .status.FAILED', { timeout: 10_000 });
    await expect(page.locator('article.msg.OUTGOING .status.FAILED').textContent()).resolves.toContain(
      'bot was blocked by the user',
    );

    // The rep closes the conversation from the sidebar; the thread's status follows.
    await Promise.all([page.waitForURL(threadUrl), page.click('#status-button')]);
    await expect(page.locator('#status-button').textContent()).resolves.toContain('Reopen conversation');
    const closed = await sandbox.request(
      'GET',
      `/conversations/v3/conversations/threads/${thread?.id ?? ''}`,
      {
        token: app.accessToken,
      },
    );
    expect((closed.body as { status: string }).status).toBe('CLOSED');
    const screenshot = process.env.SANDBOX_SCREENSHOT;
    if (screenshot !== undefined && screenshot !== '') {
      await page.screenshot({ path: screenshot, fullPage: true });
    }
  });
});
