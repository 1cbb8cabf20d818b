/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- HubSpot JSON bodies are asserted with expect(), not typed */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  APP_ID,
  HAPIKEY,
  HUB_ID,
  INBOX_ID,
  OPAQUE_CAPABILITIES,
  SandboxHarness,
  USER_ID,
  incomingMessage,
} from './sandbox-harness.js';

const CC = '/conversations/v3/custom-channels';

describe('custom channels (§1)', () => {
  let sandbox: SandboxHarness;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.seed());

  describe('channel definitions with the developer API key', () => {
    it('creates, lists, reads, updates and archives a channel on both path families', async () => {
      const created = await sandbox.developer('POST', CC, {
        name: 'Bridge',
        capabilities: OPAQUE_CAPABILITIES,
        webhookUrl: 'https://bridge.example.com/hook',
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`${CC}/${created.body.id}`);
      expect(created.body).toEqual({
        id: expect.any(String),
        name: 'Bridge',
        capabilities: OPAQUE_CAPABILITIES,
        webhookUrl: 'https://bridge.example.com/hook',
        createdAt: expect.any(String),
      });

      const list = await sandbox.developer('GET', '/conversations/custom-channels/2026-03');
      expect(list.body).toEqual({ total: 1, results: [created.body] });
      // The whole definition (strict reading of §1.3): name and capabilities as on create.
      const partial = await sandbox.developer('PATCH', `${CC}/${created.body.id}`, {
        channelDescription: 'Telegram and SMS',
      });
      expect(partial.status).toBe(400);
      expect(
        (partial.body.errors as { code: string; context: { propertyName: string[] } }[])
          .map((error) => `${error.code} ${error.context.propertyName[0]}`)
          .sort(),
      ).toEqual(['MISSING_REQUIRED_FIELD capabilities', 'MISSING_REQUIRED_FIELD name']);
      const patched = await sandbox.developer('PATCH', `${CC}/${created.body.id}`, {
        name: 'Bridge',
        capabilities: OPAQUE_CAPABILITIES,
        channelDescription: 'Telegram and SMS',
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        name: 'Bridge',
        channelDescription: 'Telegram and SMS',
        webhookUrl: 'https://bridge.example.com/hook',
      });
      expect((await sandbox.developer('DELETE', `${CC}/${created.body.id}`)).status).toBe(204);
      expect((await sandbox.developer('GET', `${CC}/${created.body.id}`)).status).toBe(404);

      // Developer-key calls belong to no portal: the control API lists them with the key masked.
      const calls = await sandbox.control.allCalls();
      expect(calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
        `POST ${CC} 201`,
        'GET /conversations/custom-channels/2026-03 200',
        `PATCH ${CC}/${created.body.id} 400`,
        `PATCH ${CC}/${created.body.id} 200`,
        `DELETE ${CC}/${created.body.id} 204`,
        `GET ${CC}/${created.body.id} 404`,
      ]);
      expect(calls.every((call) => call.query.hapikey === '***' && call.portalId === undefined)).toBe(true);
      expect(JSON.stringify(calls)).not.toContain(HAPIKEY);
      expect(await sandbox.control.calls(HUB_ID)).toEqual([]);
    });

    it('answers 401 for a wrong hapikey and 400 without appId', async () => {
      const wrongKey = await sandbox.request('GET', `${CC}?hapikey=wrong&appId=1000001`);
      expect(wrongKey.status).toBe(401);
      expect(wrongKey.body).toMatchObject({
        status: 'error',
        category: 'INVALID_AUTHENTICATION',
        correlationId: expect.any(String),
      });
      const noAppId = await sandbox.request('GET', `${CC}?hapikey=sandbox-developer-api-key`);
      expect(noAppId.status).toBe(400);
      expect(noAppId.body.errors[0].context.propertyName).toEqual(['appId']);
    });

    it('rejects delivery identifier types given as objects with INVALID_CHANNEL_CAPABILITY_VALUES', async () => {
      const response = await sandbox.developer('POST', CC, {
        name: 'Bridge',
        capabilities: {
          deliveryIdentifierTypes: [{ type: 'HS_EMAIL_ADDRESS', value: 'x' }],
          unknownKey: true,
        },
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        status: 'error',
        category: 'VALIDATION_ERROR',
        subCategory: 'CustomChannelsError.INVALID_CHANNEL_CAPABILITY_VALUES',
        context: {
          capabilityKeysAndValues: [
            'deliveryIdentifierTypes=[{"type":"HS_EMAIL_ADDRESS","value":"x"}]',
            'unknownKey=true',
          ],
        },
      });
    });

    it('names unknown, missing and mistyped fields', async () => {
      const response = await sandbox.developer('POST', CC, { capabilities: [], colour: 'red' });
      expect(response.status).toBe(400);
      const codes = (response.body.errors as { code: string; context: { propertyName: string[] } }[]).map(
        (error) => [error.code, error.context.propertyName[0]],
      );
      expect(codes).toEqual(
        expect.arrayContaining([
          ['UNRECOGNIZED_FIELD', 'colour'],
          ['MISSING_REQUIRED_FIELD', 'name'],
          ['INVALID_TYPE', 'capabilities'],
        ]),
      );
      expect(response.body.message).toContain('"colour"');
    });
  });

  describe('channel accounts with the portal token', () => {
    it('answers 401 without a token and 403 MISSING_SCOPES without a custom-channels scope', async () => {
      const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
      const path = `${CC}/${channelId}/channel-accounts`;
      const anonymous = await sandbox.request('GET', path);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
      const narrow = await sandbox.request('GET', path, {
        token: await sandbox.token(['conversations.read']),
      });
      expect(narrow.status).toBe(403);
      expect(narrow.body).toMatchObject({
        status: 'error',
        category: 'MISSING_SCOPES',
        errors: [
          {
            message: 'One or more of the following scopes are required.',
            context: {
              requiredGranularScopes: [
                'conversations.custom_channels.read',
                'conversations.custom_channels.write',
              ],
            },
          },
        ],
      });
    });

    it('creates, lists, renames and reads an account; bad inbox and delivery identifier are named', async () => {
      const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
      const token = await sandbox.token();
      const accountId = await sandbox.createAccount(token, channelId, {
        type: 'CHANNEL_SPECIFIC_OPAQUE_ID',
        value: 'bot-1',
      });
      const path = `${CC}/${channelId}/channel-accounts`;
      expect((await sandbox.request('GET', path, { token })).body).toMatchObject({
        total: 1,
        results: [{ id: accountId, inboxId: INBOX_ID, active: true, authorized: true, archived: false }],
      });
      const renamed = await sandbox.request('PATCH', `${path}/${accountId}`, {
        token,
        body: { name: 'Renamed', authorized: false },
      });
      expect(renamed.body).toMatchObject({ name: 'Renamed', authorized: false });

      const badInbox = await sandbox.request('POST', path, {
        token,
        body: { inboxId: '999', name: 'x', authorized: true },
      });
      expect(badInbox.body.errors[0].context.propertyName).toEqual(['inboxId']);
      const badIdentifier = await sandbox.request('POST', path, {
        token,
        body: {
          inboxId: INBOX_ID,
          name: 'x',
          authorized: true,
          deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+4915112345678' },
        },
      });
      expect(badIdentifier.status).toBe(400);
      expect(badIdentifier.body.message).toContain('not declared');
      const badEnum = await sandbox.request('POST', path, {
        token,
        body: {
          inboxId: INBOX_ID,
          name: 'x',
          authorized: 'yes',
          deliveryIdentifier: { type: 'EMAIL', value: 'a@b.co' },
        },
      });
      expect(badEnum.body.errors.map((error: { code: string }) => error.code).sort()).toEqual([
        'INVALID_ENUM_VALUE',
        'INVALID_TYPE',
      ]);
    });

    it('finishes a staging token once (then 409) and creates the account from it', async () => {
      const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES, {
        channelAccountConnectionRedirectUrl: 'https://bridge.example.com/connect',
      });
      const staging = await sandbox.control.createStagingToken({
        portalId: HUB_ID,
        channelId,
        inboxId: INBOX_ID,
        userId: USER_ID,
      });
      const popup = new URL(staging.popupUrl!);
      expect(Object.fromEntries(popup.searchParams)).toEqual({
        accountToken: staging.accountToken,
        channelId,
        inboxId: INBOX_ID,
        portalId: String(HUB_ID),
        redirectUrl: `${sandbox.baseUrl}/ui/${HUB_ID}/settings/inbox/connected?accountToken=${encodeURIComponent(staging.accountToken)}`,
      });
      expect(`${popup.origin}${popup.pathname}`).toBe('https://bridge.example.com/connect');

      const token = await sandbox.token();
      const path = `${CC}/${channelId}/channel-account-staging-tokens/${staging.accountToken}`;
      const unknownField = await sandbox.request('PATCH', path, {
        token,
        body: { accountName: 'Telegram bot', botToken: 'secret' },
      });
      expect(unknownField.body.errors[0]).toMatchObject({
        code: 'UNRECOGNIZED_FIELD',
        context: { propertyName: ['botToken'] },
      });
      const body = {
        accountName: 'Telegram bot',
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'bot-9' },
      };
      // The token proves nothing for another portal or another channel (§1.6).
      await sandbox.control.seedPortal({ hubId: 5151, users: [{ id: 1, email: 'other@example.com' }] });
      const otherPortal = await sandbox.control.issueTokens(5151, {
        appId: APP_ID,
        userId: 1,
        scopes: ['conversations.custom_channels.write'],
      });
      expect((await sandbox.request('PATCH', path, { token: otherPortal.access_token, body })).status).toBe(
        404,
      );
      const otherChannel = await sandbox.createChannel(OPAQUE_CAPABILITIES);
      expect(
        (
          await sandbox.request(
            'PATCH',
            `${CC}/${otherChannel}/channel-account-staging-tokens/${staging.accountToken}`,
            { token, body },
          )
        ).status,
      ).toBe(404);
      const finished = await sandbox.request('PATCH', path, { token, body });
      expect(finished.status).toBe(200);
      expect(finished.body).toMatchObject({
        accountToken: staging.accountToken,
        genericChannelId: Number(channelId),
        inboxId: Number(INBOX_ID),
        userId: USER_ID,
        accountName: 'Telegram bot',
      });
      expect((await sandbox.request('PATCH', path, { token, body })).status).toBe(409);
      const accounts = await sandbox.request('GET', `${CC}/${channelId}/channel-accounts`, { token });
      expect(accounts.body.results).toEqual([
        expect.objectContaining({ name: 'Telegram bot', deliveryIdentifier: body.deliveryIdentifier }),
      ]);
      expect(
        (
          await sandbox.request('PATCH', `${CC}/${channelId}/channel-account-staging-tokens/unknown`, {
            token,
            body,
          })
        ).status,
      ).toBe(404);
    });
  });

  describe('staging-token body (§1.6, §7.10: optional in 2026-03 and before, required only in 2026-09)', () => {
    it('finishes a token with no body or with either field alone', async () => {
      const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
      const channel = await sandbox.developer('GET', `${CC}/${channelId}`);
      const token = await sandbox.token();
      const bot = { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'bot-10' };
      const cases: [string, Record<string, unknown> | undefined][] = [
        [CC, undefined],
        [CC, { accountName: 'Named only' }],
        ['/conversations/custom-channels/2026-03', { deliveryIdentifier: bot }],
      ];
      for (const [prefix, body] of cases) {
        const staging = await sandbox.control.createStagingToken({
          portalId: HUB_ID,
          channelId,
          inboxId: INBOX_ID,
          userId: USER_ID,
        });
        const finished = await sandbox.request(
          'PATCH',
          `${prefix}/${channelId}/channel-account-staging-tokens/${staging.accountToken}`,
          { token, ...(body === undefined ? {} : { body }) },
        );
        expect(finished.status).toBe(200);
        expect(finished.body).toEqual({
          accountToken: staging.accountToken,
          createdAt: expect.any(String),
          genericChannelId: Number(channelId),
          inboxId: Number(INBOX_ID),
          userId: USER_ID,
          ...body,
        });
      }
      const accounts = await sandbox.request('GET', `${CC}/${channelId}/channel-accounts`, { token });
      expect(
        accounts.body.results.map((account: Record<string, unknown>) => [
          account['name'],
          account['deliveryIdentifier'],
        ]),
      ).toEqual([
        [channel.body.name, null],
        ['Named only', null],
        [channel.body.name, bot],
      ]);
    });
  });

  describe('query parameters (strict reading)', () => {
    it('rejects query parameters an endpoint does not take and bad filter values with a 400 naming them', async () => {
      const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
      const token = await sandbox.token();
      const accountId = await sandbox.createAccount(token, channelId);
      const published = await sandbox.request('POST', `${CC}/${channelId}/messages`, {
        token,
        body: incomingMessage(accountId),
      });
      const accounts = `${CC}/${channelId}/channel-accounts`;
      const message = `${CC}/${channelId}/messages/${published.body.id}`;

      // The documented ones are accepted.
      expect((await sandbox.developer('GET', `${CC}?limit=10&after=0&sort=id`)).status).toBe(200);
      expect((await sandbox.developer('GET', `${CC}/${channelId}`)).status).toBe(200);
      const filtered = await sandbox.request(
        'GET',
        `${accounts}?archived=false&limit=5&deliveryIdentifierType=CHANNEL_SPECIFIC_OPAQUE_ID&deliveryIdentifierValue=x`,
        { token },
      );
      expect(filtered.status).toBe(200);
      expect((await sandbox.request('GET', `${accounts}/${accountId}?archived=true`, { token })).status).toBe(
        200,
      );

      const refused = [
        await sandbox.developer('GET', `${CC}?archived=true`),
        await sandbox.developer('GET', `${CC}/${channelId}?limit=1`),
        await sandbox.request('GET', `${accounts}?inboxId=311`, { token }),
        await sandbox.request('GET', `${accounts}/${accountId}?limit=1`, { token }),
        await sandbox.request('GET', `${message}?archived=true`, { token }),
        await sandbox.request('PATCH', `${message}?notify=1`, { token, body: { statusType: 'READ' } }),
      ];
      for (const response of refused) {
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({
          status: 'error',
          category: 'VALIDATION_ERROR',
          errors: [{ code: 'UNRECOGNIZED_FIELD', in: 'query' }],
        });
      }
      expect(refused.map((response) => String(response.body.errors[0].context.propertyName[0]))).toEqual([
        'archived',
        'limit',
        'inboxId',
        'limit',
        'archived',
        'notify',
      ]);

      const badType = await sandbox.request('GET', `${accounts}?deliveryIdentifierType=PHONE`, { token });
      expect(badType.status).toBe(400);
      expect(badType.body.errors[0]).toMatchObject({
        code: 'INVALID_ENUM_VALUE',
        context: { propertyName: ['deliveryIdentifierType'] },
      });
      const badArchived = await sandbox.request('GET', `${accounts}?archived=yes`, { token });
      expect(badArchived.status).toBe(400);
      for (const paging of ['limit=0', 'limit=ten', 'defaultPageLength=0', 'after=-1']) {
        const response = await sandbox.request('GET', `${accounts}?${paging}`, { token });
        expect({ paging, status: response.status }).toEqual({ paging, status: 400 });
      }
      expect((await sandbox.developer('GET', `${CC}?limit=0`)).status).toBe(400);
      // Authentication is checked first.
      expect((await sandbox.request('GET', `${CC}?hapikey=wrong&appId=1000001&colour=red`)).status).toBe(401);
      expect((await sandbox.request('GET', `${accounts}?colour=red`)).status).toBe(401);
    });
  });

  describe('messages', () => {
    async function channelWithAccount(capabilities: Record<string, unknown> = OPAQUE_CAPABILITIES) {
      const channelId = await sandbox.createChannel(capabilities);
      const token = await sandbox.token();
      const accountId = await sandbox.createAccount(token, channelId);
      return { channelId, token, accountId, path: `${CC}/${channelId}/messages` };
    }

    it('publishes every attachment kind and reads the message back', async () => {
      const { token, accountId, path } = await channelWithAccount();
      const uploaded = await sandbox.uploadFile(await sandbox.token(['files']));
      const attachments = [
        { type: 'FILE', fileId: uploaded.body.id, fileUsageType: 'VOICE_RECORDING' },
        { type: 'LOCATION', latitude: 52.52, longitude: 13.4, name: 'Berlin' },
        {
          type: 'CONTACT',
          contactProfile: { name: 'Ada', phones: [{ type: 'CELL', value: '+4915112345678' }] },
        },
        { type: 'UNSUPPORTED_CONTENT' },
        { type: 'MESSAGE_HEADER', fileId: 1, text: 'header' },
        { type: 'QUICK_REPLIES', quickReplies: [{ value: 'Yes', valueType: 'TEXT' }] },
        {
          type: 'SOCIAL_MEDIA_METADATA',
          socialMetadata: { mediaType: 'STORY', mediaUrl: 'https://x.example/s' },
        },
      ];
      const published = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, { attachments }),
      });
      expect(published.status).toBe(201);
      expect(published.body).toMatchObject({
        type: 'MESSAGE',
        direction: 'INCOMING',
        channelAccountId: accountId,
        attachments,
        status: { statusType: 'RECEIVED' },
        client: { clientType: 'INTEGRATION' },
      });
      // The response's FILE is HubSpot's PublicFile: the file's name and URL are added (§1.7).
      expect(published.body.attachments[0]).toEqual({
        type: 'FILE',
        fileId: uploaded.body.id,
        fileUsageType: 'VOICE_RECORDING',
        name: 'note.ogg',
        url: uploaded.body.url,
      });
      expect(published.body.senders[0].actorId).toMatch(/^V-\d+$/);
      const read = await sandbox.request('GET', `${path}/${published.body.id}`, { token });
      expect(read.body).toEqual(published.body);
    });

    it('counts the stored messages per channel account and direction for the control API', async () => {
      const { token, accountId, path } = await channelWithAccount();
      for (const text of ['one', 'two']) {
        expect(
          (await sandbox.request('POST', path, { token, body: incomingMessage(accountId, { text }) })).status,
        ).toBe(201);
      }
      expect((await sandbox.control.messageCounts(HUB_ID))[accountId]).toEqual({ INCOMING: 2, OUTGOING: 0 });
    });

    it('rejects bad attachment kinds, undeclared capabilities and bad delivery identifiers, naming the field', async () => {
      const { token, accountId, path } = await channelWithAccount();
      const badKind = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, { attachments: [{ type: 'STICKER', url: 'x' }] }),
      });
      expect(badKind.body.errors[0].context.propertyName).toEqual(['attachments.0.type']);
      const rawUrl = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, {
          attachments: [{ type: 'FILE', fileId: 'https://x/y.png', fileUsageType: 'IMAGE' }],
        }),
      });
      expect(rawUrl.body.errors[0].context.propertyName).toEqual(['attachments.0.fileId']);
      const tooManyFiles = Array.from({ length: 3 }, () => ({
        type: 'FILE',
        fileId: '1',
        fileUsageType: 'IMAGE',
      }));
      expect(
        (
          await sandbox.request('POST', path, {
            token,
            body: incomingMessage(accountId, { attachments: tooManyFiles }),
          })
        ).body.errors[0].code,
      ).toBe('CAPABILITY_EXCEEDED');
      const quickReplyOut = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, {
          messageDirection: 'OUTGOING',
          attachments: [{ type: 'QUICK_REPLIES', quickReplies: [{ value: 'a', valueType: 'TEXT' }] }],
        }),
      });
      expect(quickReplyOut.body.errors[0]).toMatchObject({
        code: 'CAPABILITY_NOT_DECLARED',
        context: { propertyName: ['attachments.0.type'] },
      });
      const emailSender = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, {
          senders: [{ deliveryIdentifier: { type: 'HS_EMAIL_ADDRESS', value: 'a@b.co' } }],
        }),
      });
      expect(emailSender.body.errors[0].context.propertyName).toEqual(['senders.0.deliveryIdentifier']);
      const missing = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, { timestamp: undefined, extra: 1 }),
      });
      expect(missing.body.context.propertyName.sort()).toEqual(['extra', 'timestamp']);
      const noThreadId = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, { integrationThreadId: undefined }),
      });
      expect(noThreadId.body.errors[0]).toMatchObject({
        code: 'MISSING_REQUIRED_FIELD',
        context: { propertyName: ['integrationThreadId'] },
      });
      const badEnum = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, { messageDirection: 'INBOUND' }),
      });
      expect(badEnum.body.errors[0]).toMatchObject({
        code: 'INVALID_ENUM_VALUE',
        context: { propertyName: ['messageDirection'] },
      });
      const badPhoneType = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, {
          attachments: [
            {
              type: 'CONTACT',
              contactProfile: {
                phones: [{ type: 'MOBILE', value: '+4915112345678' }],
                emails: [{ type: 'OTHER', value: 'a@b.co' }],
              },
            },
          ],
        }),
      });
      expect(badPhoneType.status).toBe(400);
      expect(
        (badPhoneType.body.errors as { code: string; context: { propertyName: string[] } }[]).map((error) => [
          error.code,
          error.context.propertyName[0],
        ]),
      ).toEqual([
        ['INVALID_ENUM_VALUE', 'attachments.0.contactProfile.emails.0.type'],
        ['INVALID_ENUM_VALUE', 'attachments.0.contactProfile.phones.0.type'],
      ]);
    });

    it('honours integrationIdempotencyId per channel account', async () => {
      const { channelId, token, accountId, path } = await channelWithAccount();
      const body = incomingMessage(accountId, { integrationIdempotencyId: 'tg:1:77' });
      const first = await sandbox.request('POST', path, { token, body });
      const second = await sandbox.request('POST', path, { token, body });
      expect(first.status).toBe(201);
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      const changed = await sandbox.request('POST', path, { token, body: { ...body, text: 'edited' } });
      expect(changed.status).toBe(200);
      expect(changed.body).toEqual(first.body);
      const threads = await sandbox.control.threads(HUB_ID);
      expect(threads.flatMap((thread) => thread.messages)).toHaveLength(1);

      // Unique per channel account: another account of the same channel may reuse the value.
      const otherAccountId = await sandbox.createAccount(token, channelId);
      const other = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(otherAccountId, { integrationIdempotencyId: 'tg:1:77' }),
      });
      expect(other.status).toBe(201);
      expect(other.body.id).not.toBe(first.body.id);
      expect(other.body.channelAccountId).toBe(otherAccountId);
      const after = await sandbox.control.threads(HUB_ID);
      expect(after.flatMap((thread) => thread.messages)).toHaveLength(2);
    });

    it('threads by integrationThreadId under INTEGRATION_THREAD_ID', async () => {
      const { token, accountId, path } = await channelWithAccount();
      const a1 = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, { integrationThreadId: 'chat-A' }),
      });
      const a2 = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, { integrationThreadId: 'chat-A', text: 'again' }),
      });
      const b = await sandbox.request('POST', path, {
        token,
        body: incomingMessage(accountId, { integrationThreadId: 'chat-B' }),
      });
      expect(a2.body.conversationsThreadId).toBe(a1.body.conversationsThreadId);
      expect(b.body.conversationsThreadId).not.toBe(a1.body.conversationsThreadId);
    });

    it('threads by the senders under DELIVERY_IDENTIFIER and accepts the generated integrationThreadId back', async () => {
      const { token, accountId, path } = await channelWithAccount({
        deliveryIdentifierTypes: ['HS_PHONE_NUMBER'],
        threadingModel: 'DELIVERY_IDENTIFIER',
      });
      const sms = (from: string, extra: Record<string, unknown> = {}) =>
        incomingMessage(accountId, {
          integrationThreadId: undefined,
          senders: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: from } }],
          recipients: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+15550000000' } }],
          ...extra,
        });
      const first = await sandbox.request('POST', path, { token, body: sms('+4915112345678') });
      expect(first.status).toBe(201);
      const same = await sandbox.request('POST', path, { token, body: sms('+4915112345678') });
      const other = await sandbox.request('POST', path, { token, body: sms('+4915199999999') });
      expect(same.body.conversationsThreadId).toBe(first.body.conversationsThreadId);
      expect(other.body.conversationsThreadId).not.toBe(first.body.conversationsThreadId);
      const thread = (await sandbox.control.threads(HUB_ID)).find(
        (candidate) => candidate.id === first.body.conversationsThreadId,
      )!;
      const byGeneratedId = await sandbox.request('POST', path, {
        token,
        body: sms('+4915199999999', { integrationThreadId: thread.integrationThreadId }),
      });
      expect(byGeneratedId.body.conversationsThreadId).toBe(first.body.conversationsThreadId);
      const badPhone = await sandbox.request('POST', path, { token, body: sms('0151-123') });
      expect(badPhone.body.errors[0].code).toBe('INVALID_DELIVERY_IDENTIFIER');
    });

    it('under DELIVERY_IDENTIFIER threads OUTGOING by recipients, starts anew after a close and on an unknown id', async () => {
      const { token, accountId, path } = await channelWithAccount({
        deliveryIdentifierTypes: ['HS_PHONE_NUMBER'],
        threadingModel: 'DELIVERY_IDENTIFIER',
      });
      const business = { deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+15550000000' } };
      const customer = { deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+4915112345678' } };
      const incoming = (extra: Record<string, unknown> = {}) =>
        incomingMessage(accountId, {
          integrationThreadId: undefined,
          senders: [customer],
          recipients: [business],
          ...extra,
        });
      const first = await sandbox.request('POST', path, { token, body: incoming() });
      const threadId = first.body.conversationsThreadId;
      // A reply sent from the messenger's own app: the customer is the recipient.
      const mirrored = await sandbox.request('POST', path, {
        token,
        body: incoming({ messageDirection: 'OUTGOING', senders: [business], recipients: [customer] }),
      });
      expect(mirrored.status).toBe(201);
      expect(mirrored.body.conversationsThreadId).toBe(threadId);

      const unknownId = await sandbox.request('POST', path, {
        token,
        body: incoming({ integrationThreadId: 'never-generated' }),
      });
      expect(unknownId.status).toBe(201);
      expect(unknownId.body.conversationsThreadId).not.toBe(threadId);

      const writer = await sandbox.token(['conversations.write']);
      const closed = await sandbox.request('PATCH', `/conversations/v3/conversations/threads/${threadId}`, {
        token: writer,
        body: { status: 'CLOSED' },
      });
      expect(closed.status).toBe(200);
      const afterClose = await sandbox.request('POST', path, { token, body: incoming() });
      expect(afterClose.status).toBe(201);
      expect([threadId, unknownId.body.conversationsThreadId]).not.toContain(
        afterClose.body.conversationsThreadId,
      );
      const old = await sandbox.request('GET', `/conversations/v3/conversations/threads/${threadId}`, {
        token: await sandbox.token(['conversations.read']),
      });
      expect(old.body.status).toBe('CLOSED');
    });

    it('under DELIVERY_IDENTIFIER a closed thread stays closed when its id comes back: the message threads by its participants', async () => {
      const { token, accountId, path } = await channelWithAccount({
        deliveryIdentifierTypes: ['HS_PHONE_NUMBER'],
        threadingModel: 'DELIVERY_IDENTIFIER',
      });
      const sms = (integrationThreadId?: string) =>
        incomingMessage(accountId, {
          integrationThreadId,
          senders: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+4915112345678' } }],
          recipients: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+15550000000' } }],
        });
      const generatedIdOf = async (threadId: string) =>
        (await sandbox.control.threads(HUB_ID)).find((thread) => thread.id === threadId)!.integrationThreadId;
      const first = await sandbox.request('POST', path, { token, body: sms() });
      const closedId = first.body.conversationsThreadId;
      const closedThreadsId = await generatedIdOf(closedId);
      const closed = await sandbox.request('PATCH', `/conversations/v3/conversations/threads/${closedId}`, {
        token: await sandbox.token(['conversations.write']),
        body: { status: 'CLOSED' },
      });
      expect(closed.status).toBe(200);

      const afterClose = await sandbox.request('POST', path, { token, body: sms(closedThreadsId) });
      expect(afterClose.status).toBe(201);
      const newId = afterClose.body.conversationsThreadId;
      expect(newId).not.toBe(closedId);
      const again = await sandbox.request('POST', path, { token, body: sms(closedThreadsId) });
      expect(again.body.conversationsThreadId).toBe(newId);
      const newThreadsId = await generatedIdOf(newId);
      expect(newThreadsId).not.toBe(closedThreadsId);
      const byNewId = await sandbox.request('POST', path, { token, body: sms(newThreadsId) });
      expect(byNewId.body.conversationsThreadId).toBe(newId);
      const old = await sandbox.request('GET', `/conversations/v3/conversations/threads/${closedId}`, {
        token: await sandbox.token(['conversations.read']),
      });
      expect(old.body.status).toBe('CLOSED');
    });

    it('updates the delivery status of outgoing messages only', async () => {
      const { token, accountId, path } = await channelWithAccount();
      const incoming = await sandbox.request('POST', path, { token, body: incomingMessage(accountId) });
      const reply = await sandbox.control.agentReply(incoming.body.conversationsThreadId, {
        userId: USER_ID,
        text: 'Hi, how can I help?',
      });
      const failed = await sandbox.request('PATCH', `${path}/${reply.id}`, {
        token,
        body: { statusType: 'FAILED', errorMessage: 'Bot was blocked by the user' },
      });
      expect(failed.body.status).toEqual({
        statusType: 'FAILED',
        failureDetails: { errorMessage: 'Bot was blocked by the user' },
      });
      expect(
        (await sandbox.request('PATCH', `${path}/${reply.id}`, { token, body: { statusType: 'READ' } })).body
          .status,
      ).toEqual({ statusType: 'READ' });
      expect(
        (await sandbox.request('PATCH', `${path}/${reply.id}`, { token, body: { statusType: 'RECEIVED' } }))
          .status,
      ).toBe(400);
      expect(
        (
          await sandbox.request('PATCH', `${path}/${reply.id}`, {
            token,
            body: { statusType: 'SENT', errorMessage: 'x' },
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await sandbox.request('PATCH', `${path}/${incoming.body.id}`, {
            token,
            body: { statusType: 'SENT' },
          })
        ).status,
      ).toBe(400);
      expect((await sandbox.request('GET', `${path}/nope`, { token })).body).toMatchObject({
        status: 'error',
        category: 'OBJECT_NOT_FOUND',
      });
    });
  });
  describe('ids after a reset', () => {
    const threadingModels = ['INTEGRATION_THREAD_ID', 'DELIVERY_IDENTIFIER'] as const;

    /** A channel, an account and a thread of a published message, with the thread's HubSpot-generated id. */
    async function publishedThread(threadingModel: (typeof threadingModels)[number]) {
      const channelId = await sandbox.createChannel({ ...OPAQUE_CAPABILITIES, threadingModel });
      const token = await sandbox.token();
      const accountId = await sandbox.createAccount(token, channelId);
      const published = await sandbox.request('POST', `${CC}/${channelId}/messages`, {
        token,
        body: incomingMessage(
          accountId,
          threadingModel === 'DELIVERY_IDENTIFIER' ? { integrationThreadId: undefined } : {},
        ),
      });
      expect(published.status).toBe(201);
      const threadId = published.body.conversationsThreadId as string;
      const thread = (await sandbox.control.threads(HUB_ID)).find((candidate) => candidate.id === threadId)!;
      return { channelId, accountId, threadId, integrationThreadId: thread.integrationThreadId };
    }

    it('never issues a channel, channel-account or thread id again, so an id kept from before names nothing new', async () => {
      const before = await Promise.all(threadingModels.map(publishedThread));
      await sandbox.seed();
      const after = await Promise.all(threadingModels.map(publishedThread));

      const idsBefore = before.flatMap((ids) => [ids.channelId, ids.accountId, ids.threadId]);
      for (const ids of after) {
        for (const id of [ids.channelId, ids.accountId, ids.threadId]) {
          expect(idsBefore).not.toContain(id);
        }
        // Channel ids are int32 in HubSpot (§1.3, the staging token's genericChannelId in §1.6).
        expect(Number(ids.channelId)).toBeLessThanOrEqual(2 ** 31 - 1);
        expect(Number.isSafeInteger(Number(ids.accountId))).toBe(true);
        expect(Number.isSafeInteger(Number(ids.threadId))).toBe(true);
      }
      const generatedBefore = before[1]!.integrationThreadId;
      expect(generatedBefore).toMatch(/^hs-thread-/);
      expect(after[1]!.integrationThreadId).not.toBe(generatedBefore);
      const reader = await sandbox.token(['conversations.read']);
      for (const ids of before) {
        expect((await sandbox.developer('GET', `${CC}/${ids.channelId}`)).status).toBe(404);
        const oldThread = await sandbox.request(
          'GET',
          `/conversations/v3/conversations/threads/${ids.threadId}`,
          {
            token: reader,
          },
        );
        expect(oldThread.status).toBe(404);
      }
    });
  });
});

describe('errors outside the routes', () => {
  let sandbox: SandboxHarness;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
  });
  afterAll(() => sandbox.stop());

  it('answers unknown paths and malformed JSON in HubSpot envelopes whose correlationId is the request id', async () => {
    const unknown = await sandbox.request('GET', '/crm/v3/not-emulated-yet');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });
    expect(unknown.body.correlationId).toBe(unknown.headers.get('x-correlation-id'));

    const response = await fetch(
      `${sandbox.baseUrl}/conversations/v3/custom-channels?hapikey=sandbox-developer-api-key&appId=1000001`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"name":',
      },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
  });
});
