/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-class-instance-assignment -- HubSpot JSON bodies are asserted with expect(); the SDK models are plain data, so literals stand in for its classes */
import { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  APP_ID,
  CLIENT_ID,
  CLIENT_SECRET,
  CONTACT_ID,
  HUB_ID,
  INBOX_ID,
  OPAQUE_CAPABILITIES,
  OWNER_ID,
  REDIRECT_URI,
  SandboxHarness,
  USER_ID,
  incomingMessage,
} from './sandbox-harness.js';

const SCOPE = [
  'oauth',
  'conversations.custom_channels.read',
  'conversations.custom_channels.write',
  'conversations.read',
  'files',
  'crm.objects.contacts.read',
  'crm.objects.owners.read',
].join(' ');

/** `@hubspot/api-client` 13.5.0 with `basePath` at the sandbox: the wire compatibility the gateway relies on. */
describe('@hubspot/api-client 13.5.0 against the sandbox (engineering notes §6.3)', () => {
  let sandbox: SandboxHarness;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.seed());

  async function authorizationCode(): Promise<string> {
    const response = await sandbox.request('POST', '/oauth/authorize/decision', {
      form: {
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        scope: SCOPE,
        state: 's',
        portalId: String(HUB_ID),
        userId: String(USER_ID),
        decision: 'grant',
      },
    });
    return new URL(response.headers.get('location') ?? '').searchParams.get('code') ?? '';
  }

  it('exchanges, refreshes, reads and revokes tokens, then uses owners, contacts, files and apiRequest with them', async () => {
    const oauth = new Client({ basePath: sandbox.baseUrl });
    const tokens = await oauth.oauth.tokensApi.create(
      'authorization_code',
      await authorizationCode(),
      REDIRECT_URI,
      CLIENT_ID,
      CLIENT_SECRET,
    );
    expect(tokens).toMatchObject({ tokenType: 'bearer', expiresIn: 1800 });
    const refresh = () =>
      oauth.oauth.tokensApi.create(
        'refresh_token',
        undefined,
        undefined,
        CLIENT_ID,
        CLIENT_SECRET,
        tokens.refreshToken,
      );
    const refreshed = await refresh();
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    // Which portal installed the app (§4.3), and the refresh token's metadata and revocation.
    const info = await oauth.oauth.accessTokensApi.get(refreshed.accessToken);
    expect(info).toMatchObject({ hubId: HUB_ID, userId: USER_ID, appId: APP_ID, tokenType: 'access' });
    expect(info.scopes).toEqual(SCOPE.split(' '));
    expect(await oauth.oauth.refreshTokensApi.get(tokens.refreshToken)).toMatchObject({
      hubId: HUB_ID,
      clientId: CLIENT_ID,
    });
    await oauth.oauth.refreshTokensApi.archive(tokens.refreshToken);
    await expect(refresh()).rejects.toMatchObject({ code: 400, body: { status: 'BAD_REFRESH_TOKEN' } });

    const client = new Client({ basePath: sandbox.baseUrl, accessToken: refreshed.accessToken });
    const owners = await client.crm.owners.ownersApi.getPage('rep@example.com');
    expect(owners.results).toHaveLength(1);
    expect(owners.results[0]).toMatchObject({ id: OWNER_ID, userId: USER_ID });
    expect(owners.results[0]?.teams?.[0]).toMatchObject({ id: '11', name: 'Support team', primary: true });
    expect(owners.results[0]?.createdAt).toBeInstanceOf(Date);
    const owner = await client.crm.owners.ownersApi.getById(USER_ID, 'userId');
    expect(owner.id).toBe(OWNER_ID);

    const contact = await client.crm.contacts.basicApi.getById(CONTACT_ID, ['hubspot_owner_id']);
    expect(contact.properties.hubspot_owner_id).toBe(OWNER_ID);
    const found = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        { filters: [{ propertyName: 'email', operator: 'EQ' as never, value: 'ada@example.com' }] },
      ],
      properties: ['hubspot_owner_id'],
      limit: 10,
      after: '0',
      sorts: [],
    });
    expect(found.total).toBe(1);
    expect(found.results[0]?.id).toBe(CONTACT_ID);

    const uploaded: { id: string } = await client.files.filesApi.upload(
      { data: Buffer.from('voice'), name: 'note.ogg' },
      undefined,
      '/conversations/bridge',
      'note.ogg',
      undefined,
      JSON.stringify({ access: 'PRIVATE' }),
    );
    expect(uploaded).toMatchObject({ name: 'note', extension: 'ogg', access: 'PRIVATE' });
    const signed = await client.files.filesApi.getSignedUrl(uploaded.id, undefined, 120);
    expect(await (await fetch(signed.url)).text()).toBe('voice');

    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
    const account = await client.apiRequest({
      method: 'POST',
      path: `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
      body: { inboxId: INBOX_ID, name: 'Bot', authorized: true },
    });
    expect(account.status).toBe(201);
    const accountBody = (await account.json()) as { id: string };
    const published = await client.apiRequest({
      method: 'POST',
      path: `/conversations/v3/custom-channels/${channelId}/messages`,
      body: incomingMessage(accountBody.id, {
        attachments: [{ type: 'FILE', fileId: uploaded.id, fileUsageType: 'VOICE_RECORDING' }],
      }),
    });
    expect(published.status).toBe(201);
    const invalid = await client.apiRequest({
      method: 'POST',
      path: `/conversations/v3/custom-channels/${channelId}/messages`,
      body: { channelAccountId: accountBody.id },
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { category: string }).category).toBe('VALIDATION_ERROR');

    const calls = await sandbox.control.calls(HUB_ID);
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual(
      expect.arrayContaining([
        'GET /crm/v3/owners/',
        `GET /crm/v3/objects/contacts/${CONTACT_ID}`,
        'POST /files/v3/files',
        `POST /conversations/v3/custom-channels/${channelId}/messages`,
      ]),
    );
  });

  it('surfaces HubSpot errors through the typed clients', async () => {
    const token = await sandbox.token(['crm.objects.contacts.read']);
    const client = new Client({ basePath: sandbox.baseUrl, accessToken: token });
    await expect(client.crm.owners.ownersApi.getPage()).rejects.toMatchObject({
      code: 403,
      body: { category: 'MISSING_SCOPES' },
    });
    await expect(client.crm.contacts.basicApi.getById('999')).rejects.toMatchObject({
      code: 404,
      body: { category: 'OBJECT_NOT_FOUND' },
    });
  });
});
