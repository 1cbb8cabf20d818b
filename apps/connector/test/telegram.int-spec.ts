import type { SandboxBot, TgUpdate } from '@inbox-bridge/provider-sandbox';
import { SecretBox } from '@inbox-bridge/service-kit';
import type {
  ConnectorCredentialsRejectedV1,
  GatewayOutboundMessageRequestedV1,
  ProviderMessageReceivedV1,
} from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChannelAccountRepository } from '../src/accounts/channel-account.repository.js';
import { InboundReconciler } from '../src/inbound/inbound-reconciler.js';
import { WebhookWatch } from '../src/inbound/webhook-watch.js';
import { ProviderAdapters } from '../src/providers/provider-adapters.js';
import { startConnectorHarness, type ConnectorHarness } from './support/connector-harness.js';

const RECEIVED = 'provider.message.received.v1';

describe('connector ↔ Telegram (provider sandbox): credentials, webhooks, media, replies', () => {
  let h: ConnectorHarness;
  let bot: SandboxBot;
  let chatId: number;
  const accountId = '9100001';

  const received = (providerMessageId: string) => h.received(providerMessageId);

  const customerSends = async (input: Parameters<ConnectorHarness['client']['customerSends']>[2]) => {
    const { message } = await h.client.customerSends(bot.id, chatId, input);
    return received(`${chatId}:${message.message_id}`);
  };

  /** A text reply whose first sendMessage gets a 429 with `retryAfter`; its status and the calls it made. */
  const replyAfterFloodControl = async (retryAfter: number, text: string) => {
    await h.client.setFault(bot.id, 'sendMessage', { status: 429, retryAfter, times: 1 });
    const before = (await h.client.calls(bot.id, 'sendMessage')).length;
    const status = await reply({ text, richText: undefined });
    return { ...status, calls: (await h.client.calls(bot.id, 'sendMessage')).slice(before) };
  };

  /** The customer sends a PDF; answers the `downloadRef` of its attachment. */
  const customerDocument = async (fileName: string, content: Buffer) => {
    const document = await customerSends({
      kind: 'document',
      file_name: fileName,
      mime_type: 'application/pdf',
      content_base64: content.toString('base64'),
    });
    return (document.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
  };

  const reply = async (overrides: Partial<GatewayOutboundMessageRequestedV1> = {}) =>
    h.firstStatus(
      await h.requestReply({
        channelAccountId: accountId,
        conversationKey: String(chatId),
        recipient: { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(chatId) } },
        ...overrides,
      }),
    );

  const validate = (botToken: string) => h.validate({ provider: 'telegram', botToken });

  /** What the gateway does once HubSpot created the account: connected.v1 with the checked credentials. */
  const connect = async (channelAccountId: string, botToken: string, name: string) => {
    const answer = await validate(botToken);
    await h.publish('gateway.channel-account.connected.v1', {
      channelAccountId,
      hubspotChannelId: '5001',
      inboxId: '311',
      provider: 'telegram',
      name,
      credentialsRequestId: answer.requestId,
    });
  };

  beforeAll(async () => {
    // The webhook checks run when a test asks for a round (no timer), and date failures from the round before.
    h = await startConnectorHarness('connector_tg', {
      env: { INBOUND_RECONCILE_INTERVAL_MS: '0', INBOUND_RECONCILE_SETTLE_MS: '0' },
    });
    bot = await h.client.createBot({ username: 'acme_support_bot', first_name: 'Acme Support' });
    chatId = (
      await h.client.createCustomer(bot.id, { first_name: 'Ana', last_name: 'Garcia', username: 'anagarcia' })
    ).chat.id;
  });

  afterAll(async () => {
    await h.dispose();
  });

  it('validates a bot token with getMe and answers with the bot as the account address', async () => {
    const answer = await validate(bot.token);
    expect(answer).toMatchObject({
      ok: true,
      accountName: 'Acme Support (@acme_support_bot)',
      deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(bot.id) },
    });
    const stored = await h.db.dataSource.query<{ credentials: string }[]>(
      `SELECT credentials FROM "${h.db.schema}".pending_credentials WHERE request_id = $1`,
      [answer.requestId],
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]?.credentials).not.toContain(bot.token.split(':')[1]);
  });

  it('answers invalid-credentials for a token Telegram does not know', async () => {
    const answer = await validate(`${bot.id + 1}:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0`);
    expect(answer).toMatchObject({ ok: false, error: { code: 'invalid-credentials' } });
  });

  it('answers provider-unavailable when Telegram is down during the check', async () => {
    await h.client.setFault(bot.id, 'getMe', { status: 502, times: 1 });
    const answer = await validate(bot.token);
    expect(answer).toMatchObject({ ok: false, error: { code: 'provider-unavailable' } });
  });

  it('binds the pending credentials on connected.v1 and sets the webhook with a secret token', async () => {
    await connect(accountId, bot.token, 'Acme Support');
    const webhook = await testing.expectEventually(async () => {
      const info = (await h.client.getBot(bot.id)).webhook;
      expect(info.url).toBe(`${h.baseUrl}/webhooks/telegram/${accountId}`);
      return info;
    });
    expect(webhook.allowed_updates).toEqual(['message', 'edited_message', 'my_chat_member']);
  });

  it('re-validating the credentials of an existing account sets its webhook up again', async () => {
    await testing.expectEventually(async () => {
      const rows = await h.db.dataSource.query<unknown[]>(
        `SELECT 1 FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
        [accountId],
      );
      expect(rows).toHaveLength(1);
    });
    const before = (await h.client.calls(bot.id, 'setWebhook')).length;
    const answer = await h.validate({ provider: 'telegram', botToken: bot.token }, accountId);
    expect(answer.ok).toBe(true);
    const calls = (await h.client.calls(bot.id, 'setWebhook')).slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.params).toMatchObject({ url: `${h.baseUrl}/webhooks/telegram/${accountId}` });
  });

  it('publishes a text message shaped like the reference example', async () => {
    const message = await customerSends({
      kind: 'text',
      text: '😊 Hi, my order https://shop.example.com/o/5531 arrived damaged',
    });
    expect(message).toMatchObject({
      provider: 'telegram',
      channelAccountId: accountId,
      conversationKey: String(chatId),
      sender: { id: String(chatId), name: 'Ana Garcia', username: 'anagarcia' },
      text: '😊 Hi, my order https://shop.example.com/o/5531 arrived damaged',
      attachments: [],
    });
    const envelope = h.published.messages.find(
      (m) => (m.payload as { providerMessageId?: string }).providerMessageId === message.providerMessageId,
    );
    expect(envelope?.portalId).toBe(424242);
  });

  it('turns the reference photo update (§1.9), posted with the secret token, into the contract', async () => {
    const [row] = await h.db.dataSource.query<{ webhook_secret: string }[]>(
      `SELECT webhook_secret FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
      [accountId],
    );
    const secretToken = SecretBox.fromConfig(h.config).decrypt(
      row?.webhook_secret ?? '',
      `connector.channel_accounts|${accountId}|webhook_secret`,
    );
    const ana = {
      id: 1111111,
      is_bot: false,
      first_name: 'Ana',
      last_name: 'Garcia',
      username: 'anagarcia',
      language_code: 'es',
    };
    const update = {
      update_id: 873456002,
      message: {
        message_id: 1366,
        from: ana,
        chat: { id: 1111111, first_name: 'Ana', last_name: 'Garcia', username: 'anagarcia', type: 'private' },
        date: 1735732860,
        photo: [
          {
            file_id: 'AgACAgIAAxkBAAIFVmdTEST_s',
            file_unique_id: 'AQADs7kxG0s',
            file_size: 1387,
            width: 90,
            height: 68,
          },
          {
            file_id: 'AgACAgIAAxkBAAIFVmdTEST_m',
            file_unique_id: 'AQADs7kxG0m',
            file_size: 19762,
            width: 320,
            height: 240,
          },
          {
            file_id: 'AgACAgIAAxkBAAIFVmdTEST_x',
            file_unique_id: 'AQADs7kxG0x',
            file_size: 84911,
            width: 800,
            height: 600,
          },
          {
            file_id: 'AgACAgIAAxkBAAIFVmdTEST_y',
            file_unique_id: 'AQADs7kxG0y',
            file_size: 167302,
            width: 1280,
            height: 960,
          },
        ],
        caption: 'Invoice #1042 — please check',
        caption_entities: [{ offset: 8, length: 5, type: 'hashtag' }],
      },
    };
    const response = await fetch(`${h.baseUrl}/webhooks/telegram/${accountId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secretToken },
      body: JSON.stringify(update),
    });
    expect(response.status).toBe(200);
    expect(await received('1111111:1366')).toEqual({
      provider: 'telegram',
      channelAccountId: accountId,
      conversationKey: '1111111',
      sender: { id: '1111111', name: 'Ana Garcia', username: 'anagarcia' },
      providerMessageId: '1111111:1366',
      sentAt: '2025-01-01T12:01:00.000Z',
      text: 'Invoice #1042 — please check',
      attachments: [
        {
          kind: 'image',
          media: {
            downloadRef: `media:${accountId}:AgACAgIAAxkBAAIFVmdTEST_y`,
            mimeType: 'image/jpeg',
            sizeBytes: 167302,
            width: 1280,
            height: 960,
          },
        },
      ],
    });
  });

  it('normalises every media kind, captions and replies', async () => {
    const photo = await customerSends({ kind: 'photo', caption: 'Invoice #1042 — please check' });
    expect(photo.text).toBe('Invoice #1042 — please check');
    expect(photo.attachments).toEqual([
      expect.objectContaining({
        kind: 'image',
        media: expect.objectContaining({ mimeType: 'image/jpeg', width: 1280, height: 960 }),
      }),
    ]);
    const voice = await customerSends({
      kind: 'voice',
      duration: 5,
      reply_to_message_id: Number(photo.providerMessageId.split(':')[1]),
    });
    expect(voice.replyToProviderMessageId).toBe(photo.providerMessageId);
    expect(voice.attachments[0]).toMatchObject({
      kind: 'voice-note',
      media: { mimeType: 'audio/ogg', durationSeconds: 5 },
    });
    expect((await customerSends({ kind: 'audio', file_name: 'song.mp3' })).attachments[0]).toMatchObject({
      kind: 'audio',
    });
    expect((await customerSends({ kind: 'video' })).attachments[0]).toMatchObject({ kind: 'video' });
    expect((await customerSends({ kind: 'video_note' })).attachments[0]).toMatchObject({ kind: 'video' });
    expect((await customerSends({ kind: 'animation' })).attachments).toEqual([
      expect.objectContaining({ kind: 'video' }),
    ]);
    const animated = await customerSends({ kind: 'sticker', sticker_format: 'animated', emoji: '👍' });
    expect(animated.attachments[0]).toMatchObject({
      kind: 'sticker',
      caption: '👍',
      media: { mimeType: 'image/webp' },
    });
    // What is forwarded for an animated sticker is its thumbnail, and the bytes are the WEBP they are labelled.
    const sticker = animated.attachments[0] as { media: { downloadRef: string } };
    const thumbnail = await fetch(h.mediaLink(sticker.media.downloadRef));
    expect(thumbnail.headers.get('content-type')).toMatch(/^image\/webp/);
    const bytes = Buffer.from(await thumbnail.arrayBuffer());
    expect([bytes.toString('latin1', 0, 4), bytes.toString('latin1', 8, 12)]).toEqual(['RIFF', 'WEBP']);
    const document = await customerSends({
      kind: 'document',
      file_name: 'factura.pdf',
      mime_type: 'application/pdf',
    });
    expect(document.attachments[0]).toMatchObject({
      kind: 'file',
      media: { fileName: 'factura.pdf', mimeType: 'application/pdf' },
    });
    expect(
      (await customerSends({ kind: 'location', latitude: 40.4168, longitude: -3.7038 })).attachments,
    ).toEqual([{ kind: 'location', latitude: 40.4168, longitude: -3.7038 }]);
    const venue = await customerSends({
      kind: 'venue',
      latitude: 40.4168,
      longitude: -3.7038,
      title: 'Puerta del Sol',
      address: 'Madrid',
    });
    expect(venue.attachments).toEqual([
      { kind: 'location', latitude: 40.4168, longitude: -3.7038, name: 'Puerta del Sol', address: 'Madrid' },
    ]);
    const contact = await customerSends({
      kind: 'contact',
      phone_number: '+34600333444',
      first_name: 'Carlos',
      last_name: 'Ruiz',
    });
    expect(contact.attachments).toEqual([
      { kind: 'contact-card', name: 'Carlos Ruiz', phoneNumbers: ['+34600333444'] },
    ]);
    const poll = await customerSends({ kind: 'poll', question: 'Which size?', options: ['S', 'M'] });
    expect(poll.attachments[0]).toMatchObject({ kind: 'unsupported' });
    expect((poll.attachments[0] as { description: string }).description).toContain('Which size?');
  });

  it('publishes an edit as edited:true and drops a redelivered message as a duplicate', async () => {
    const original = await customerSends({ kind: 'text', text: 'My order is 5531' });
    const messageId = Number(original.providerMessageId.split(':')[1]);
    await h.client.customerSends(bot.id, chatId, {
      kind: 'text',
      text: 'My order is 5532',
      edit_of_message_id: messageId,
    });
    const edited = await testing.expectEventually(() => {
      const found = h
        .messagesOf<ProviderMessageReceivedV1>(RECEIVED)
        .find((m) => m.edited === true && m.providerMessageId === original.providerMessageId);
      if (found === undefined) {
        throw new Error('no edit yet');
      }
      return found;
    });
    expect(edited.text).toBe('My order is 5532');

    const originalUpdate = (await h.client.deliveries(bot.id)).attempts.length;
    const { update } = await h.client.rawUpdate(
      bot.id,
      'message',
      {
        message_id: messageId,
        date: 1735732800,
        chat: { id: chatId, type: 'private', first_name: 'Ana' },
        from: { id: chatId, is_bot: false, first_name: 'Ana' },
        text: 'My order is 5531',
      },
      chatId,
    );
    expect(update).not.toBeNull();
    await testing.expectEventually(async () => {
      const attempts = (await h.client.deliveries(bot.id)).attempts;
      expect(attempts.length).toBeGreaterThan(originalUpdate);
      expect(attempts.find((a) => a.updateId === (update as TgUpdate).update_id)?.status).toBe(200);
    });
    const copies = h
      .messagesOf<ProviderMessageReceivedV1>(RECEIVED)
      .filter((m) => m.providerMessageId === original.providerMessageId && m.edited !== true);
    expect(copies).toHaveLength(1);
  });

  it('publishes an update Telegram delivers twice (same update_id) once', async () => {
    await h.client.setWebhookFaults(bot.id, { duplicate: true, times: 1 });
    const { message } = await h.client.customerSends(bot.id, chatId, {
      kind: 'text',
      text: 'sent once, delivered twice',
    });
    await received(`${chatId}:${message.message_id}`);
    await testing.expectEventually(async () => {
      const attempts = (await h.client.deliveries(bot.id)).attempts.filter(
        (attempt) => attempt.status === 200 && attempt.at !== '',
      );
      const ids = attempts.map((attempt) => attempt.updateId);
      expect(ids.filter((id) => id === ids.at(-1))).toHaveLength(2);
    });
    await h.client.clearWebhookFaults(bot.id);
    const copies = h
      .messagesOf<ProviderMessageReceivedV1>(RECEIVED)
      .filter((m) => m.providerMessageId === `${chatId}:${message.message_id}`);
    expect(copies).toHaveLength(1);
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/connector_inbound_total\{provider="telegram",result="duplicate"[^}]*\} [1-9]/);
  });

  it('answers 401 problem+json to a wrong secret token and 404 to an unknown account', async () => {
    const update = {
      update_id: 1,
      message: { message_id: 1, date: 1, chat: { id: 1, type: 'private' }, text: 'x' },
    };
    const wrong = await fetch(`${h.baseUrl}/webhooks/telegram/${accountId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'not-the-secret' },
      body: JSON.stringify(update),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toContain('application/problem+json');
    const unknown = await fetch(`${h.baseUrl}/webhooks/telegram/999`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(update),
    });
    expect(unknown.status).toBe(404);
  });

  it('answers 400 naming channelAccountId (not the body) to a path id that is no id', async () => {
    for (const path of ['telegram/a%00b', 'twilio/a%0Ab', 'twilio/a%00b/status', 'generic/a%00b']) {
      const response = await fetch(`${h.baseUrl}/webhooks/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({ errors: [{ field: 'channelAccountId' }] });
    }
  });

  it('answers 200 to update kinds it ignores on purpose and 400 naming the field to a malformed update', async () => {
    const before = h.messagesOf(RECEIVED).length;
    // allowed_updates keeps update kinds the bridge does not use from being sent at all...
    const filtered = await h.client.rawUpdate(bot.id, 'callback_query', {
      id: '4382bfdwdsb323b2d9',
      from: { id: chatId, is_bot: false, first_name: 'Ana' },
      chat_instance: '42',
      data: 'yes',
    });
    expect(filtered.update).toBeNull();
    // ...and a message without customer content (a service message) is answered 200 and not published.
    const { update } = await h.client.rawUpdate(
      bot.id,
      'message',
      {
        message_id: 999_001,
        date: 1735732800,
        chat: { id: chatId, type: 'private', first_name: 'Ana' },
        from: { id: chatId, is_bot: false, first_name: 'Ana' },
        pinned_message: { message_id: 1, date: 1735732800, chat: { id: chatId, type: 'private' }, text: 'x' },
      },
      chatId,
    );
    await testing.expectEventually(async () => {
      const attempt = (await h.client.deliveries(bot.id)).attempts.find(
        (a) => a.updateId === update?.update_id,
      );
      expect(attempt?.status).toBe(200);
    });
    expect(h.messagesOf(RECEIVED)).toHaveLength(before);

    const [row] = await h.db.dataSource.query<{ webhook_secret: string }[]>(
      `SELECT webhook_secret FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
      [accountId],
    );
    const secretToken = SecretBox.fromConfig(h.config).decrypt(
      row?.webhook_secret ?? '',
      `connector.channel_accounts|${accountId}|webhook_secret`,
    );
    const malformed = await fetch(`${h.baseUrl}/webhooks/telegram/${accountId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secretToken },
      body: JSON.stringify({ message: { text: 'no update id' } }),
    });
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(await malformed.json())).toContain('update_id');

    // Found by the fuzz run: fields of the wrong type behind a valid secret token were a 500.
    const message = {
      message_id: 999_002,
      date: 1735732800,
      chat: { id: chatId, type: 'private', first_name: 'Ana' },
      from: { id: chatId, is_bot: false, first_name: 'Ana' },
      text: 'hello',
    };
    for (const wrong of [
      { text: [] },
      { date: 1e20 },
      { from: { id: { toString: 'not callable' }, is_bot: false, first_name: 'Ana' } },
    ]) {
      const response = await fetch(`${h.baseUrl}/webhooks/telegram/${accountId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secretToken },
        body: JSON.stringify({ update_id: 999_002, message: { ...message, ...wrong } }),
      });
      expect({ wrong, status: response.status }).toEqual({ wrong, status: 400 });
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('records a block as not-a-message and keeps answering 200', async () => {
    const before = h.messagesOf(RECEIVED).length;
    const { update } = await h.client.setBlocked(bot.id, chatId, true);
    await testing.expectEventually(async () => {
      const attempt = (await h.client.deliveries(bot.id)).attempts.find(
        (a) => a.updateId === update?.update_id,
      );
      expect(attempt?.status).toBe(200);
    });
    await h.client.setBlocked(bot.id, chatId, false);
    await customerSends({ kind: 'text', text: 'back again' });
    expect(
      h
        .messagesOf<ProviderMessageReceivedV1>(RECEIVED)
        .slice(before)
        .map((m) => m.text),
    ).toEqual(['back again']);
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/connector_inbound_total\{provider="telegram",result="ignored"[^}]*\} [1-9]/);
  });

  it('streams customer media through /internal/media and refuses bad links and files over 20 MB', async () => {
    const content = Buffer.from('%PDF-1.4 customer invoice bytes');
    const ref = await customerDocument('inv.pdf', content);
    expect(ref).toMatch(new RegExp(`^media:${accountId}:`));
    const ok = await fetch(h.mediaLink(ref));
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(content)).toBe(true);

    const forged = new URL(h.mediaLink(ref));
    forged.searchParams.set('sig', 'AAAA');
    expect((await fetch(forged)).status).toBe(403);
    expect((await fetch(h.mediaLink(ref, -1000))).status).toBe(403);
    // getFile's 400 "wrong file_id or the file is temporarily unavailable" (one text for both): shown as unavailable.
    expect((await fetch(h.mediaLink(`media:${accountId}:unknown-file-id`))).status).toBe(404);

    const big = await customerSends({ kind: 'document', file_name: 'big.zip', file_size: 25 * 1024 * 1024 });
    const bigRef = (big.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
    const tooLarge = await fetch(h.mediaLink(bigRef));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('content-type')).toContain('application/problem+json');
  });

  it('sends a rich-text reply as Telegram HTML and reports SENT with the message id', async () => {
    const status = await reply({
      text: 'Hello there',
      richText: '<p>Hello <strong>there</strong></p><p>See <a href="https://acme.example/t">tracking</a></p>',
    });
    expect(status).toMatchObject({ status: 'SENT' });
    const sent = (await h.client.messages(bot.id, chatId, 'from_bot')).at(-1)?.message;
    expect(sent?.text).toBe('Hello there\nSee tracking');
    expect(status.providerMessageId).toBe(`${chatId}:${sent?.message_id}`);
    const call = (await h.client.calls(bot.id, 'sendMessage')).at(-1);
    expect(call?.params).toMatchObject({
      parse_mode: 'HTML',
      text: 'Hello <b>there</b>\nSee <a href="https://acme.example/t">tracking</a>',
    });
  });

  it('uploads attachments streamed from the gateway (photo with caption, document)', async () => {
    h.gatewayFiles.files.set('hubspot-file:71', {
      contentType: 'image/png',
      body: Buffer.from('89504e470d0a1a0a', 'hex'),
    });
    h.gatewayFiles.files.set('hubspot-file:72', {
      contentType: 'application/pdf',
      body: Buffer.from('%PDF-1.4 tracking'),
    });
    const status = await reply({
      text: 'Your label',
      richText: undefined,
      attachments: [
        {
          kind: 'image',
          downloadRef: 'hubspot-file:71',
          mimeType: 'image/png',
          fileName: 'label.png',
          sizeBytes: 8,
        },
        {
          kind: 'file',
          downloadRef: 'hubspot-file:72',
          mimeType: 'application/pdf',
          fileName: 'tracking.pdf',
        },
      ],
    });
    expect(status.status).toBe('SENT');
    const sent = (await h.client.messages(bot.id, chatId, 'from_bot')).slice(-3).map((m) => m.message);
    expect(sent[0]?.text).toBe('Your label');
    expect(sent[1]?.photo).toBeDefined();
    expect(sent[2]?.document).toMatchObject({ file_name: 'tracking.pdf' });
    const texts = (await h.client.messages(bot.id, chatId, 'from_bot')).filter(
      (m) => m.message.text === 'Your label',
    );
    expect(texts).toHaveLength(1);
  });

  it('sends voice notes, audio and video with their own Bot API methods', async () => {
    h.gatewayFiles.files.set('hubspot-file:76', {
      contentType: 'audio/ogg',
      body: Buffer.from('OggS voice'),
    });
    h.gatewayFiles.files.set('hubspot-file:77', {
      contentType: 'audio/mpeg',
      body: Buffer.from('ID3 audio'),
    });
    h.gatewayFiles.files.set('hubspot-file:78', {
      contentType: 'video/mp4',
      body: Buffer.from('ftypmp42 video'),
    });
    const status = await reply({
      text: undefined,
      richText: undefined,
      attachments: [
        { kind: 'voice-note', downloadRef: 'hubspot-file:76', mimeType: 'audio/ogg', fileName: 'note.ogg' },
        { kind: 'audio', downloadRef: 'hubspot-file:77', mimeType: 'audio/mpeg', fileName: 'song.mp3' },
        { kind: 'video', downloadRef: 'hubspot-file:78', mimeType: 'video/mp4', fileName: 'clip.mp4' },
      ],
    });
    expect(status.status).toBe('SENT');
    const sent = (await h.client.messages(bot.id, chatId, 'from_bot')).slice(-3).map((m) => m.message);
    expect(sent.map((m) => ['voice', 'audio', 'video'].find((kind) => m[kind] !== undefined))).toEqual([
      'voice',
      'audio',
      'video',
    ]);
  });

  it('fails an attachment that turns out larger than Telegram accepts while it streams, without retrying', async () => {
    h.gatewayFiles.files.set('hubspot-file:73', {
      contentType: 'image/jpeg',
      body: Buffer.alloc(11 * 1024 * 1024, 1),
    });
    const status = await reply({
      text: undefined,
      richText: undefined,
      attachments: [
        { kind: 'image', downloadRef: 'hubspot-file:73', mimeType: 'image/jpeg', fileName: 'huge.jpg' },
      ],
    });
    expect(status.status).toBe('FAILED');
    expect(status.failureReason).toMatch(/larger than telegram accepts/i);
  });

  it('reports FAILED with a reason the agent understands when the customer blocked the bot', async () => {
    await h.client.setBlocked(bot.id, chatId, true);
    const status = await reply({ text: 'Are you there?', richText: undefined });
    await h.client.setBlocked(bot.id, chatId, false);
    expect(status).toMatchObject({ status: 'FAILED', providerErrorCode: '403' });
    expect(status.failureReason).toContain('blocked the bot');
  });

  describe('a group upgraded to a supergroup', () => {
    /** A reply to the group's conversation as HubSpot addresses it (the group's chat id); its first status. */
    const replyToGroup = async (
      channelAccountId: string,
      groupId: number,
      overrides: Partial<GatewayOutboundMessageRequestedV1>,
    ) =>
      h.firstStatus(
        await h.requestReply({
          channelAccountId,
          conversationKey: String(groupId),
          recipient: { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(groupId) } },
          richText: undefined,
          ...overrides,
        }),
      );
    /** A customer's text in the chat, as Telegram delivers it. */
    const writes = async (botId: number, chatId: number, text: string) =>
      (await h.client.customerSends(botId, chatId, { kind: 'text', text })).message;
    const callsOf = async (botId: number, method: string, since: number) =>
      (await h.client.calls(botId, method)).slice(since).map((call) => [call.status, call.params['chat_id']]);
    const invoice = (ref: string) => {
      h.gatewayFiles.files.set(ref, { contentType: 'application/pdf', body: Buffer.from('%PDF-1.4 i') });
      return [
        { kind: 'file' as const, downloadRef: ref, mimeType: 'application/pdf', fileName: 'invoice.pdf' },
      ];
    };

    it("keeps the supergroup's messages in the group's conversation and replies there at once, told by the service messages", async () => {
      const group = await h.client.createGroup(bot.id, {
        title: 'Acme buyers',
        member: { first_name: 'Ana' },
      });
      const question = await writes(bot.id, group.chat.id, 'Where is my order?');
      expect(await received(`${group.chat.id}:${question.message_id}`)).toMatchObject({
        conversationKey: String(group.chat.id),
      });
      const supergroup = (await h.client.migrateGroup(bot.id, group.chat.id)).chat;
      const followUp = await writes(bot.id, supergroup.id, 'Any news?');
      const followUpId = `${supergroup.id}:${followUp.message_id}`;
      // One HubSpot thread: the supergroup's messages carry the group's conversation key.
      expect(await received(followUpId)).toMatchObject({
        conversationKey: String(group.chat.id),
        providerMessageId: followUpId,
      });

      const textCallsBefore = (await h.client.calls(bot.id, 'sendMessage')).length;
      const text = await replyToGroup(accountId, group.chat.id, {
        text: 'It ships today',
        inReplyToProviderMessageId: followUpId,
      });
      expect(await callsOf(bot.id, 'sendMessage', textCallsBefore)).toEqual([[200, String(supergroup.id)]]);
      const [sent] = (await h.client.messages(bot.id, supergroup.id, 'from_bot')).map((item) => item.message);
      // The customer's message in the supergroup can be quoted there.
      expect(sent).toMatchObject({
        chat: supergroup,
        text: 'It ships today',
        reply_to_message: { message_id: followUp.message_id },
      });
      expect(text).toMatchObject({
        status: 'SENT',
        providerMessageId: `${supergroup.id}:${sent?.message_id}`,
      });

      const uploadsBefore = (await h.client.calls(bot.id, 'sendDocument')).length;
      const file = await replyToGroup(accountId, group.chat.id, {
        text: undefined,
        attachments: invoice('hubspot-file:79'),
      });
      expect(file.status).toBe('SENT');
      expect(await callsOf(bot.id, 'sendDocument', uploadsBefore)).toEqual([[200, String(supergroup.id)]]);
      expect(await h.client.messages(bot.id, group.chat.id, 'from_bot')).toEqual([]);
    });

    it("told only by Telegram's refusal (migrate_to_chat_id): follows it once, leaving the quote behind, then replies and receives as the group's conversation", async () => {
      const quietBot = await h.client.createBot({ username: 'upgraded_group_bot', first_name: 'Upgraded' });
      const quietAccount = '9100031';
      const group = await h.client.createGroup(quietBot.id, {
        title: 'Acme resellers',
        member: { first_name: 'Rui' },
      });
      const question = await writes(quietBot.id, group.chat.id, 'Do you ship to Porto?');
      const supergroup = (await h.client.migrateGroup(quietBot.id, group.chat.id)).chat;
      // The bridge never sees the service messages: they were dropped before the bot was connected.
      const dropped = await fetch(`${h.sandbox.baseUrl}/bot${quietBot.token}/deleteWebhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ drop_pending_updates: true }),
      });
      expect(dropped.status).toBe(200);
      await h.connectTelegramBot(quietAccount, quietBot);

      const textCallsBefore = (await h.client.calls(quietBot.id, 'sendMessage')).length;
      const first = await replyToGroup(quietAccount, group.chat.id, {
        text: 'We do',
        inReplyToProviderMessageId: `${group.chat.id}:${question.message_id}`,
      });
      expect(await callsOf(quietBot.id, 'sendMessage', textCallsBefore)).toEqual([
        [400, String(group.chat.id)],
        [200, String(supergroup.id)],
      ]);
      const [sent] = (await h.client.messages(quietBot.id, supergroup.id, 'from_bot')).map(
        (item) => item.message,
      );
      // The question stays in the old group; its message id would quote another message of the supergroup.
      expect(sent?.reply_to_message).toBeUndefined();
      expect(first).toMatchObject({
        status: 'SENT',
        providerMessageId: `${supergroup.id}:${sent?.message_id}`,
      });

      // The move is remembered: the next reply goes to the supergroup at once, with one call.
      const secondCallsBefore = (await h.client.calls(quietBot.id, 'sendMessage')).length;
      const second = await replyToGroup(quietAccount, group.chat.id, { text: 'Delivery takes two days' });
      expect(second.status).toBe('SENT');
      expect(await callsOf(quietBot.id, 'sendMessage', secondCallsBefore)).toEqual([
        [200, String(supergroup.id)],
      ]);

      const thanks = await writes(quietBot.id, supergroup.id, 'Thanks!');
      expect(await received(`${supergroup.id}:${thanks.message_id}`)).toMatchObject({
        channelAccountId: quietAccount,
        conversationKey: String(group.chat.id),
      });
    });
  });

  it('retries through a Telegram outage and honours retry_after on 429', async () => {
    await h.client.setFault(bot.id, 'sendMessage', { status: 500, times: 1 });
    const afterOutage = await reply({ text: 'after the outage', richText: undefined });
    expect(afterOutage.status).toBe('SENT');

    // A partial failure (the text went out, the file hit an outage) resends only the file.
    h.gatewayFiles.files.set('hubspot-file:74', {
      contentType: 'application/pdf',
      body: Buffer.from('%PDF-1.4 a'),
    });
    h.gatewayFiles.files.set('hubspot-file:75', {
      contentType: 'application/pdf',
      body: Buffer.from('%PDF-1.4 b'),
    });
    await h.client.setFault(bot.id, 'sendDocument', { status: 502, times: 1 });
    const partial = await reply({
      text: 'two files after a hiccup',
      richText: undefined,
      attachments: [
        { kind: 'file', downloadRef: 'hubspot-file:74', mimeType: 'application/pdf', fileName: 'a.pdf' },
        { kind: 'file', downloadRef: 'hubspot-file:75', mimeType: 'application/pdf', fileName: 'b.pdf' },
      ],
    });
    expect(partial.status).toBe('SENT');
    const fromBot = (await h.client.messages(bot.id, chatId, 'from_bot')).map((m) => m.message);
    expect(fromBot.filter((m) => m.text === 'two files after a hiccup')).toHaveLength(1);
    expect(
      fromBot.slice(-2).map((m) => (m['document'] as { file_name?: string } | undefined)?.file_name),
    ).toEqual(['a.pdf', 'b.pdf']);

    const afterFlood = await replyAfterFloodControl(1, 'after flood control');
    expect(afterFlood.status).toBe('SENT');
    expect(afterFlood.calls.map((c) => c.status)).toEqual([429, 200]);
  });

  it('sends a batch of replies to different chats at once, and a batch redone after a failure sends nothing twice', async () => {
    const batchTotals = async () => {
      const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
      const total = (kind: 'sum' | 'count') =>
        [
          ...metrics.matchAll(
            new RegExp(
              `message_batch_size_${kind}\\{[^}]*queue="connector\\.outbound[^"]*"[^}]*\\} (\\d+)`,
              'g',
            ),
          ),
        ]
          .map((match) => Number(match[1]))
          .reduce((sum, value) => sum + value, 0);
      return { replies: total('sum'), batches: total('count') };
    };
    const customers = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        h.client.createCustomer(bot.id, { first_name: `Batch ${index}` }),
      ),
    );
    const before = await batchTotals();
    // The first reply to reach Telegram fails: its batch is rolled back and redone one reply at a time.
    await h.client.setFault(bot.id, 'sendMessage', { status: 500, times: 1 });
    const ids = await Promise.all(
      customers.map((customer, index) =>
        h.requestReply({
          channelAccountId: accountId,
          conversationKey: String(customer.chat.id),
          recipient: {
            deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(customer.chat.id) },
          },
          text: `batched reply ${index}`,
          richText: undefined,
        }),
      ),
    );
    const statuses = await Promise.all(ids.map((id) => h.firstStatus(id)));
    expect(statuses.map((status) => status.status)).toEqual(ids.map(() => 'SENT'));
    const calls = (await h.client.calls(bot.id, 'sendMessage')).filter((call) =>
      String(call.params['text']).startsWith('batched reply '),
    );
    const delivered = calls.filter((call) => call.status === 200).map((call) => call.params['text']);
    expect([...delivered].sort()).toEqual(customers.map((_, index) => `batched reply ${index}`).sort());
    expect(calls.filter((call) => call.status === 500)).toHaveLength(1);
    // Each reply's sent parts were forgotten with its outcome (one statement per committed batch).
    const [left] = await h.db.dataSource.query<{ parts: number }[]>(
      `SELECT count(*)::int AS parts FROM "${h.db.schema}".reply_parts_sent WHERE hubspot_message_id = ANY($1)`,
      [ids],
    );
    expect(left?.parts).toBe(0);
    // Replies shared transactions: fewer committed batches than replies.
    const after = await batchTotals();
    expect(after.replies - before.replies).toBeGreaterThan(after.batches - before.batches);
  });

  it('waits out a retry_after longer than the in-process budget in the delay tiers, without using an attempt', async () => {
    const { status, calls } = await replyAfterFloodControl(7, 'after a long flood wait');
    expect(status).toBe('SENT');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(Date.parse(calls[1]?.at ?? '') - Date.parse(calls[0]?.at ?? '')).toBeGreaterThanOrEqual(7_000);
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/connector_outbound_total\{provider="telegram",result="deferred"[^}]*\} [1-9]/);
  });

  it('keeps to one message per second per chat after a burst of 3, so Telegram never floods it', async () => {
    const before = (await h.client.calls(bot.id, 'sendMessage')).length;
    const ids: string[] = [];
    for (let index = 0; index < 6; index += 1) {
      ids.push(
        await h.requestReply({
          channelAccountId: accountId,
          conversationKey: String(chatId),
          recipient: { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(chatId) } },
          text: `paced ${index}`,
          richText: undefined,
        }),
      );
    }
    const sentAt: number[] = [];
    for (const id of ids) {
      const status = (await h.firstStatus(id)) as Awaited<ReturnType<typeof reply>> & { occurredAt: string };
      expect(status.status).toBe('SENT');
      sentAt.push(Date.parse(status.occurredAt));
    }
    expect(Math.max(...sentAt) - Math.min(...sentAt)).toBeGreaterThanOrEqual(2_000);
    const calls = (await h.client.calls(bot.id, 'sendMessage')).slice(before);
    expect(calls.map((call) => call.status)).toEqual(ids.map(() => 200));
  });

  it('answers 502 while Telegram cannot serve a customer file, and streams it once it can', async () => {
    const content = Buffer.from('%PDF-1.4 during an outage');
    const ref = await customerDocument('outage.pdf', content);
    await h.client.setFault(bot.id, 'getFile', { status: 502, times: 1 });
    const down = await fetch(h.mediaLink(ref));
    expect(down.status).toBe(502);
    expect(down.headers.get('content-type')).toContain('application/problem+json');
    const up = await fetch(h.mediaLink(ref));
    expect(up.status).toBe(200);
    expect(Buffer.from(await up.arrayBuffer()).equals(content)).toBe(true);
  });

  it('stops both directions while the account is switched off, and resumes', async () => {
    const activeFlag = async (expected: boolean) =>
      testing.expectEventually(async () => {
        const rows = await h.db.dataSource.query<{ active: boolean }[]>(
          `SELECT active FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
          [accountId],
        );
        expect(rows[0]?.active).toBe(expected);
      });
    await h.publish('gateway.channel-account.updated.v1', {
      channelAccountId: accountId,
      active: false,
      changes: ['deactivated'],
    });
    await activeFlag(false);
    const failed = await reply({ text: 'while off', richText: undefined });
    expect(failed.status).toBe('FAILED');
    expect(failed.failureReason).toContain('turned off');
    const { message: dropped } = await h.client.customerSends(bot.id, chatId, {
      kind: 'text',
      text: 'nobody home?',
    });
    await testing.expectEventually(async () => {
      const attempts = (await h.client.deliveries(bot.id)).attempts;
      expect(attempts.at(-1)?.status).toBe(200);
      expect((await h.client.deliveries(bot.id)).pending).toHaveLength(0);
    });
    await h.publish('gateway.channel-account.updated.v1', {
      channelAccountId: accountId,
      active: true,
      changes: ['activated'],
    });
    await activeFlag(true);
    await customerSends({ kind: 'text', text: 'on again' });
    expect(
      h
        .messagesOf<ProviderMessageReceivedV1>(RECEIVED)
        .some((m) => m.providerMessageId === `${chatId}:${dropped.message_id}`),
    ).toBe(false);
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /connector_inbound_total\{provider="telegram",result="account_disabled"[^}]*\} 1/,
    );
  });

  it('deauthorizes an account whose bot token was revoked, reports it once, fails its later replies without calling Telegram, and takes the new token of the same bot only', async () => {
    const revokedBot = await h.client.createBot({ username: 'revoked_support_bot', first_name: 'Revoked' });
    const customer = (await h.client.createCustomer(revokedBot.id, { first_name: 'Rui' })).chat.id;
    const revokedAccount = '9100077';
    await connect(revokedAccount, revokedBot.token, 'Revoked');
    await testing.expectEventually(async () => {
      expect((await h.client.getBot(revokedBot.id)).webhook.url).toContain(revokedAccount);
    });
    const replyToCustomer = async (text: string) =>
      h.firstStatus(
        await h.requestReply({
          channelAccountId: revokedAccount,
          conversationKey: String(customer),
          recipient: { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(customer) } },
          text,
          richText: undefined,
          attachments: [],
        }),
      );
    const rejections = () =>
      h
        .messagesOf<ConnectorCredentialsRejectedV1>('connector.channel-account.credentials-rejected.v1')
        .filter((event) => event.channelAccountId === revokedAccount);

    const { token: newToken } = await h.client.regenerateBotToken(revokedBot.id);
    const refused = await replyToCustomer('are you there?');
    expect(refused).toMatchObject({ status: 'FAILED', providerErrorCode: '401' });
    expect(refused.failureReason).toContain('no longer accepts the bot token');
    await testing.expectEventually(() => {
      expect(rejections()).toHaveLength(1);
    });
    expect(rejections()[0]).toMatchObject({ provider: 'telegram', providerErrorCode: '401' });
    const flags = await h.db.dataSource.query<{ authorized: boolean; active: boolean }[]>(
      `SELECT authorized, active FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
      [revokedAccount],
    );
    expect(flags).toEqual([{ authorized: false, active: true }]);

    const callsBefore = (await h.client.calls(revokedBot.id, 'sendMessage')).length;
    const later = await replyToCustomer('hello again');
    expect(later).toMatchObject({ status: 'FAILED', providerErrorCode: 'ACCOUNT_DEAUTHORIZED' });
    expect(later.failureReason).toContain('reconnect the account');
    expect(await h.client.calls(revokedBot.id, 'sendMessage')).toHaveLength(callsBefore);
    expect(rejections()).toHaveLength(1);

    // The customer's messages meanwhile are refused (503), so Telegram keeps them and tries again.
    const { message: waiting } = await h.client.customerSends(revokedBot.id, customer, {
      kind: 'text',
      text: 'written while the token was revoked',
    });
    await testing.expectEventually(async () => {
      const { attempts, pending } = await h.client.deliveries(revokedBot.id);
      expect(attempts.filter((attempt) => attempt.status === 503).length).toBeGreaterThanOrEqual(2);
      expect(pending).toHaveLength(1);
    });
    const waitingId = `${customer}:${waiting.message_id}`;
    expect(
      h.messagesOf<ProviderMessageReceivedV1>(RECEIVED).some((m) => m.providerMessageId === waitingId),
    ).toBe(false);

    // Reconnecting: another bot's token is refused; the new token of the same bot is taken, and once the
    // gateway says the account is authorized again, replies go out with it.
    expect(await h.validate({ provider: 'telegram', botToken: bot.token }, revokedAccount)).toMatchObject({
      ok: false,
      error: { code: 'different-account' },
    });
    expect(await h.validate({ provider: 'telegram', botToken: newToken }, revokedAccount)).toMatchObject({
      ok: true,
    });
    await h.publish('gateway.channel-account.updated.v1', {
      channelAccountId: revokedAccount,
      authorized: true,
      changes: ['authorized'],
    });
    await testing.expectEventually(async () => {
      const rows = await h.db.dataSource.query<{ authorized: boolean }[]>(
        `SELECT authorized FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
        [revokedAccount],
      );
      expect(rows[0]?.authorized).toBe(true);
    });
    expect(await replyToCustomer('back with a new token')).toMatchObject({ status: 'SENT' });
    // Telegram's next try of the waiting message is taken.
    expect(await h.received(waitingId)).toMatchObject({ text: 'written while the token was revoked' });
    expect(
      h.messagesOf<ProviderMessageReceivedV1>(RECEIVED).filter((m) => m.providerMessageId === waitingId),
    ).toHaveLength(1);
  });

  it("sets the bot's webhook back when another app takes it or sets it without our secret, so held messages arrive, and deauthorizes a revoked token", async () => {
    const reconciler = h.app.get(InboundReconciler);
    const watchedBot = await h.client.createBot({ username: 'watched_support_bot', first_name: 'Watched' });
    const customer = (await h.client.createCustomer(watchedBot.id, { first_name: 'Lia' })).chat.id;
    const watchedAccount = '9100088';
    const ourUrl = `${h.baseUrl}/webhooks/telegram/${watchedAccount}`;
    await connect(watchedAccount, watchedBot.token, 'Watched');
    await testing.expectEventually(async () => {
      expect((await h.client.getBot(watchedBot.id)).webhook.url).toBe(ourUrl);
    });
    /** What one round did, but for the healthy webhooks (every account of the suite is checked). */
    const roundCounting = async () => {
      const results = ['restored', 'delivery_failing', 'check_failed'] as const;
      const checks = () =>
        Promise.all(
          results.map((result) =>
            h.counter('connector_webhook_checks_total', { provider: 'telegram', result }),
          ),
        );
      const before = await checks();
      await reconciler.round();
      const after = await checks();
      return Object.fromEntries(results.map((result, i) => [result, (after[i] ?? 0) - (before[i] ?? 0)]));
    };
    const nothingDone = { restored: 0, delivery_failing: 0, check_failed: 0 };
    /** What another holder of the token does through the Bot API. */
    const setWebhookElsewhere = async (params: Record<string, string>) => {
      const response = await fetch(`${h.sandbox.baseUrl}/bot${watchedBot.token}/setWebhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
      });
      expect(response.status).toBe(200);
    };
    const customerWrites = async (text: string) => {
      const { message } = await h.client.customerSends(watchedBot.id, customer, { kind: 'text', text });
      return `${customer}:${message.message_id}`;
    };
    const failedAttempts = async (status: number) =>
      (await h.client.deliveries(watchedBot.id)).attempts.filter((attempt) => attempt.status === status)
        .length;

    // The first round dates every account's check; after it, each account's webhook is healthy.
    await reconciler.round();
    expect(await roundCounting()).toEqual(nothingDone);

    // Another app points the bot at itself: the customer's message goes there and fails, and Telegram holds it.
    await setWebhookElsewhere({ url: 'http://127.0.0.1:9/other-app?key=theirs' });
    const held = await customerWrites('written while another app had the webhook');
    await testing.expectEventually(async () => {
      expect((await h.client.getBot(watchedBot.id)).webhook).toMatchObject({
        url: 'http://127.0.0.1:9/other-app?key=theirs',
        pending_update_count: 1,
        last_error_message: expect.any(String),
      });
    });
    expect(await roundCounting()).toEqual({ ...nothingDone, restored: 1 });
    const { url, last_error_date: errorActedOn } = (await h.client.getBot(watchedBot.id)).webhook;
    expect(url).toBe(ourUrl);
    expect(await h.received(held)).toMatchObject({ text: 'written while another app had the webhook' });

    // Our URL set again without our secret: every delivery is refused here (401), the URL looks right.
    await setWebhookElsewhere({ url: ourUrl });
    const refused = await customerWrites('written while the secret was gone');
    // Telegram dates its last error to the second: a failure is new to the watch from the next second on.
    await testing.expectEventually(async () => {
      expect(await failedAttempts(401)).toBeGreaterThanOrEqual(1);
      expect((await h.client.getBot(watchedBot.id)).webhook.last_error_date).toBeGreaterThan(
        errorActedOn ?? 0,
      );
    });
    expect(await roundCounting()).toEqual({ ...nothingDone, delivery_failing: 1 });
    expect(await h.received(refused)).toMatchObject({ text: 'written while the secret was gone' });
    expect(
      h.messagesOf<ProviderMessageReceivedV1>(RECEIVED).filter((m) => m.providerMessageId === refused),
    ).toHaveLength(1);
    // Delivering again, the next round finds nothing new to report.
    expect(await roundCounting()).toEqual(nothingDone);

    // A revoked token is noticed by the check, before any reply fails with it.
    await h.client.revokeBot(watchedBot.id);
    expect(await roundCounting()).toEqual({ ...nothingDone, check_failed: 1 });
    await testing.expectEventually(() => {
      expect(
        h
          .messagesOf<ConnectorCredentialsRejectedV1>('connector.channel-account.credentials-rejected.v1')
          .filter((event) => event.channelAccountId === watchedAccount),
      ).toEqual([expect.objectContaining({ provider: 'telegram', providerErrorCode: '401' })]);
    });
    const [flags] = await h.db.dataSource.query<{ authorized: boolean }[]>(
      `SELECT authorized FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
      [watchedAccount],
    );
    expect(flags).toEqual({ authorized: false });
  });

  it("never sets the webhook up again for an account purged while its check ran (the purge's removal stands)", async () => {
    const goneBot = await h.client.createBot({ username: 'purged_watch_bot', first_name: 'Gone' });
    const goneAccount = '9100099';
    await connect(goneAccount, goneBot.token, 'Gone');
    await testing.expectEventually(async () => {
      expect((await h.client.getBot(goneBot.id)).webhook.url).toContain(goneAccount);
    });
    // The round has read the account; then the purge removes its webhook and its row.
    const read = await h.app.get(ChannelAccountRepository).find(goneAccount);
    expect(read).toBeDefined();
    await h.publish('gateway.channel-account.purged.v1', { channelAccountId: goneAccount });
    await testing.expectEventually(async () => {
      expect((await h.client.getBot(goneBot.id)).webhook.url).toBe('');
      expect(await h.app.get(ChannelAccountRepository).find(goneAccount)).toBeUndefined();
    });
    if (read !== undefined) {
      await h.app.get(WebhookWatch).check(read, h.app.get(ProviderAdapters).get('telegram'), undefined);
    }
    expect((await h.client.getBot(goneBot.id)).webhook.url).toBe('');
  });

  it('deletes the webhook, credentials and data on purged.v1', async () => {
    const rowsOf = async (table: string) =>
      (
        await h.db.dataSource.query<{ count: string }[]>(
          `SELECT count(*) FROM "${h.db.schema}".${table} WHERE channel_account_id = $1`,
          [accountId],
        )
      )[0]?.count;
    const tables = ['inbound_messages', 'outbound_messages', 'parked_status_reports', 'channel_accounts'];
    expect(Number(await rowsOf('inbound_messages'))).toBeGreaterThan(0);
    expect(Number(await rowsOf('outbound_messages'))).toBeGreaterThan(0);
    await h.publish('gateway.channel-account.purged.v1', { channelAccountId: accountId });
    await testing.expectEventually(async () => {
      expect((await h.client.getBot(bot.id)).webhook.url).toBe('');
    });
    await testing.expectEventually(async () => {
      for (const table of tables) {
        expect({ table, rows: await rowsOf(table) }).toEqual({ table, rows: '0' });
      }
    });
  });
});
