/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access -- HubSpot JSON bodies are asserted with expect(), not typed */
import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  HUB_ID,
  REDIRECT_URI,
  SandboxHarness,
  USER_ID,
} from './sandbox-harness.js';

const SCOPE = 'conversations.custom_channels.read conversations.custom_channels.write';

describe('OAuth (§4)', () => {
  let sandbox: SandboxHarness;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start({ SANDBOX_ACCESS_TOKEN_TTL_MS: '1500' });
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.seed());

  const authorizeQuery = (overrides: Record<string, string> = {}) =>
    new URLSearchParams({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state: 'csrf-123',
      ...overrides,
    }).toString();

  async function grantCode(): Promise<string> {
    const response = await sandbox.request('POST', '/oauth/authorize/decision', {
      form: {
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        scope: SCOPE,
        state: 'csrf-123',
        portalId: String(HUB_ID),
        userId: String(USER_ID),
        decision: 'grant',
      },
    });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe('csrf-123');
    return location.searchParams.get('code')!;
  }

  it('renders the consent page with the seeded portal and user, and refuses unregistered redirect URIs', async () => {
    const page = await sandbox.request('GET', `/oauth/authorize?${authorizeQuery()}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('rep@example.com');
    expect(page.body).toContain('conversations.custom_channels.write');

    const badRedirect = await sandbox.request(
      'GET',
      `/oauth/authorize?${authorizeQuery({ redirect_uri: `${REDIRECT_URI}/` })}`,
    );
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.body).toContain('redirect_uri does not match');
    expect(
      (await sandbox.request('GET', `/oauth/authorize?${authorizeQuery({ client_id: 'nope' })}`)).status,
    ).toBe(400);
    expect(
      (await sandbox.request('GET', `/oauth/authorize?${authorizeQuery({ scope: 'not.a.scope' })}`)).status,
    ).toBe(400);
  });

  it('redirects a denial with error=access_denied and the state', async () => {
    const response = await sandbox.request('POST', '/oauth/authorize/decision', {
      form: {
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        scope: SCOPE,
        state: 'xyz',
        portalId: String(HUB_ID),
        userId: String(USER_ID),
        decision: 'deny',
      },
    });
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('xyz');
    expect(location.searchParams.has('code')).toBe(false);
  });

  it('exchanges a code once, introspects, refreshes and revokes', async () => {
    const code = await grantCode();
    const exchange = {
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT_URI,
      code,
    };
    const tokens = await sandbox.request('POST', '/oauth/v1/token', { form: exchange });
    expect(tokens.status).toBe(200);
    expect(tokens.body).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      expires_in: 1,
      token_type: 'bearer',
    });

    const reused = await sandbox.request('POST', '/oauth/v1/token', { form: exchange });
    expect(reused.status).toBe(400);
    expect(reused.body).toEqual({
      status: 'BAD_AUTH_CODE',
      message: 'missing or unknown auth code',
      correlationId: expect.any(String),
    });

    const info = await sandbox.request('GET', `/oauth/v1/access-tokens/${tokens.body.access_token}`);
    expect(info.body).toMatchObject({
      hub_id: HUB_ID,
      user: 'rep@example.com',
      user_id: USER_ID,
      scopes: SCOPE.split(' '),
      token_type: 'access',
    });

    const introspected = await sandbox.request('POST', '/oauth/2026-03/token/introspect', {
      form: { token: tokens.body.access_token, client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
    });
    expect(introspected.body).toMatchObject({
      active: true,
      hub_id: HUB_ID,
      user_id: USER_ID,
      token_use: 'access_token',
    });

    const refresh = {
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      refresh_token: tokens.body.refresh_token,
    };
    const refreshed = await sandbox.request('POST', '/oauth/v1/token', { form: refresh });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(tokens.body.access_token);
    expect(refreshed.body.refresh_token).toBe(tokens.body.refresh_token);

    const refreshInfo = await sandbox.request('GET', `/oauth/v1/refresh-tokens/${tokens.body.refresh_token}`);
    expect(refreshInfo.body).toMatchObject({ hub_id: HUB_ID, client_id: CLIENT_ID, token_type: 'refresh' });
    expect(
      (await sandbox.request('DELETE', `/oauth/v1/refresh-tokens/${tokens.body.refresh_token}`)).status,
    ).toBe(204);
    const afterRevoke = await sandbox.request('POST', '/oauth/v1/token', { form: refresh });
    expect(afterRevoke.status).toBe(400);
    expect(afterRevoke.body.status).toBe('BAD_REFRESH_TOKEN');
  });

  it('revokes a refresh token with POST …/token/revoke; access tokens already issued keep working', async () => {
    const tokens = await sandbox.request('POST', '/oauth/2026-03/token', {
      form: {
        grant_type: 'authorization_code',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uri: REDIRECT_URI,
        code: await grantCode(),
      },
    });
    expect(tokens.status).toBe(200);
    const { access_token: accessToken, refresh_token: refreshToken } = tokens.body as {
      access_token: string;
      refresh_token: string;
    };
    const client = { client_id: CLIENT_ID, client_secret: CLIENT_SECRET };
    const wrongSecret = await sandbox.request('POST', '/oauth/2026-03/token/revoke', {
      form: { token: tokens.body.refresh_token, client_id: CLIENT_ID, client_secret: 'x' },
    });
    expect(wrongSecret.status).toBe(400);
    expect(wrongSecret.body).toEqual({
      message: 'missing or invalid client secret',
      correlationId: expect.any(String),
      category: 'VALIDATION_ERROR',
    });

    const revoked = await sandbox.request('POST', '/oauth/2026-03/token/revoke', {
      form: { token: tokens.body.refresh_token, token_type_hint: 'refresh_token', ...client },
    });
    expect(revoked.status).toBe(200);
    const refreshed = await sandbox.request('POST', '/oauth/2026-03/token', {
      form: { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, ...client },
    });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body).toMatchObject({
      message: 'missing or unknown refresh token',
      category: 'VALIDATION_ERROR',
    });
    const introspect = (token: string) =>
      sandbox.request('POST', '/oauth/2026-03/token/introspect', { form: { token, ...client } });
    expect((await introspect(refreshToken)).body).toEqual({ active: false });
    // §4.2: revoking a refresh token does not invalidate access tokens already issued.
    expect((await introspect(accessToken)).body).toMatchObject({ active: true, hub_id: HUB_ID });
    const stillAuthenticated = await sandbox.request(
      'GET',
      '/conversations/v3/custom-channels/1001/channel-accounts',
      {
        token: tokens.body.access_token,
      },
    );
    expect(stillAuthenticated.status).toBe(404); // authenticated: the channel does not exist
  });

  it('rejects a wrong client secret, redirect URI and grant type with HubSpot statuses', async () => {
    const code = await grantCode();
    const base = {
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT_URI,
      code,
    };
    expect(
      (await sandbox.request('POST', '/oauth/v1/token', { form: { ...base, client_secret: 'x' } })).body
        .status,
    ).toBe('BAD_CLIENT_SECRET');
    expect(
      (await sandbox.request('POST', '/oauth/v1/token', { form: { ...base, client_id: 'x' } })).body.status,
    ).toBe('BAD_CLIENT_ID');
    expect(
      (
        await sandbox.request('POST', '/oauth/v1/token', {
          form: { ...base, redirect_uri: 'http://localhost:3001/other' },
        })
      ).body.status,
    ).toBe('BAD_REDIRECT_URI');
    expect(
      (await sandbox.request('POST', '/oauth/v1/token', { form: { ...base, grant_type: 'password' } })).body
        .status,
    ).toBe('BAD_GRANT_TYPE');
  });

  it('answers the §1.9 envelope on the v3 and 2026-03 token endpoints, where v1 answers BAD_…', async () => {
    const code = await grantCode();
    const wrongSecret = {
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      client_secret: 'x',
      redirect_uri: REDIRECT_URI,
      code,
    };
    for (const path of ['/oauth/v3/token', '/oauth/2026-03/token']) {
      const refused = await sandbox.request('POST', path, { form: wrongSecret });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        message: 'missing or invalid client secret',
        correlationId: refused.headers.get('x-correlation-id'),
        category: 'VALIDATION_ERROR',
      });
    }
    expect((await sandbox.request('POST', '/oauth/v1/token', { form: wrongSecret })).body).toMatchObject({
      status: 'BAD_CLIENT_SECRET',
    });
    const unknownRefresh = await sandbox.request('POST', '/oauth/2026-03/token', {
      form: {
        grant_type: 'refresh_token',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        refresh_token: 'x',
      },
    });
    expect(unknownRefresh.body).toMatchObject({ category: 'VALIDATION_ERROR' });
    expect(unknownRefresh.body.status).toBeUndefined();
  });

  it('keeps no token, code or client secret in the call log: not in paths, queries or bodies', async () => {
    await sandbox.control.setCallLog(100, true);
    const code = await grantCode();
    const client = { client_id: CLIENT_ID, client_secret: CLIENT_SECRET };
    const tokens = await sandbox.request('POST', '/oauth/2026-03/token', {
      form: { grant_type: 'authorization_code', redirect_uri: REDIRECT_URI, code, ...client },
    });
    const { access_token: accessToken, refresh_token: refreshToken } = tokens.body as {
      access_token: string;
      refresh_token: string;
    };
    await sandbox.request('POST', '/oauth/2026-03/token/introspect', {
      form: { token: accessToken, token_type_hint: 'access_token', ...client },
    });
    await sandbox.request('GET', `/oauth/v1/access-tokens/${accessToken}`);
    await sandbox.request('GET', `/oauth/v1/refresh-tokens/${refreshToken}?client_secret=${CLIENT_SECRET}`);
    await sandbox.request('POST', '/oauth/v1/token', {
      form: { grant_type: 'refresh_token', refresh_token: refreshToken, ...client },
    });

    const calls = await sandbox.control.allCalls();
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      'POST /oauth/authorize/decision',
      'POST /oauth/2026-03/token',
      'POST /oauth/2026-03/token/introspect',
      'GET /oauth/v1/access-tokens/***',
      'GET /oauth/v1/refresh-tokens/***',
      'POST /oauth/v1/token',
    ]);
    const logged = JSON.stringify(calls);
    for (const secret of [accessToken, refreshToken, code, CLIENT_SECRET]) {
      expect(logged).not.toContain(secret);
    }
    expect(calls[1]?.body).toMatchObject({
      grant_type: 'authorization_code',
      code: '***',
      client_secret: '***',
    });
  });

  it('answers 401 EXPIRED_AUTHENTICATION once the access token lifetime has passed', async () => {
    const token = await sandbox.token();
    const channels = '/conversations/v3/custom-channels/1001/channel-accounts';
    expect((await sandbox.request('GET', channels, { token })).status).toBe(404);
    const expired = await expectEventually(
      async () => {
        const response = await sandbox.request('GET', channels, { token });
        if (response.status !== 401) {
          throw new Error(`still ${response.status}`);
        }
        return response;
      },
      { timeoutMs: 5_000, description: 'token expiry' },
    );
    expect(expired.body).toMatchObject({
      status: 'error',
      category: 'EXPIRED_AUTHENTICATION',
      correlationId: expect.any(String),
    });
  });
});
