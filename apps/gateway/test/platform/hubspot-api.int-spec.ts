import {
  SandboxControlClient,
  startHubSpotSandbox,
  type RecordedCall,
  type RunningHubSpotSandbox,
} from '@inbox-bridge/hubspot-sandbox';
import { DrainState } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { HubSpotApiError } from '../../src/hubspot/hubspot-api.js';
import {
  SANDBOX_CLIENT,
  TEST_SECRETS as TEST_SECRETS_REF,
  metricValue,
  startClientReplica,
  type ClientReplica,
} from './hubspot-client-harness.js';

const SCOPES = [
  'conversations.custom_channels.read',
  'conversations.custom_channels.write',
  'crm.objects.owners.read',
  'crm.objects.contacts.read',
  'files',
];
const USER_ID = 77;

describe('HttpHubSpotApi against the hubspot-sandbox (real HTTP, real PostgreSQL)', () => {
  let sandbox: RunningHubSpotSandbox;
  let control: SandboxControlClient;
  let db: testing.TestDatabase;
  let nextHubId = 7_100;
  const replicas: ClientReplica[] = [];

  const replica = async (options: Parameters<typeof startClientReplica>[1]): Promise<ClientReplica> => {
    const started = await startClientReplica(db, options);
    replicas.push(started);
    return started;
  };

  /** A seeded portal whose tokens are installed (encrypted) in the test schema. */
  const installedPortal = async (client: ClientReplica, target = control): Promise<string> => {
    nextHubId += 1;
    const hubId = nextHubId;
    await target.seedPortal({
      hubId,
      users: [{ id: USER_ID, email: `rep${hubId}@example.com` }],
      inboxes: [],
    });
    const issued = await target.issueTokens(hubId, {
      appId: Number(SANDBOX_CLIENT.appId),
      userId: USER_ID,
      scopes: SCOPES,
    });
    await client.dataSource.transaction((manager) =>
      client.tokens.install(manager, { portalId: String(hubId), tokens: issued, scopes: SCOPES }),
    );
    return String(hubId);
  };

  const callsOf = async (portalId: string, pathPrefix: string, target = control): Promise<RecordedCall[]> =>
    (await target.calls(Number(portalId))).filter((call) => call.path.startsWith(pathPrefix));

  beforeAll(async () => {
    db = await testing.createTestDatabase('gateway_hubspot_api', gatewayMigrations, { poolSize: 2 });
    sandbox = await startHubSpotSandbox({ LOG_LEVEL: 'silent' }, { port: 0 });
    control = new SandboxControlClient(sandbox.url);
  });

  afterEach(async () => {
    await control.setFaults([]);
    await control.setRateLimit(110, 10_000);
  });

  afterAll(async () => {
    for (const started of replicas) {
      await started.close();
    }
    await sandbox.close();
    await db.dispose();
  });

  it('calls with the portal bearer token and with the developer key; reports other 4xx with HubSpot category', async () => {
    const client = await replica({ sandboxUrl: sandbox.url });
    const portalId = await installedPortal(client);

    const owners = await client.api.forPortal(portalId).request<{ results: { userId: number }[] }>({
      method: 'GET',
      path: '/crm/v3/owners',
    });
    expect(owners.status).toBe(200);
    expect(owners.body.results.map((owner) => owner.userId)).toEqual([USER_ID]);

    const channels = await client.api.developer().request<{ results: unknown[] }>({
      method: 'GET',
      path: '/conversations/v3/custom-channels',
    });
    expect(channels.status).toBe(200);

    const missing = client.api.forPortal(portalId).request({ method: 'GET', path: '/crm/v3/owners/987654' });
    await expect(missing).rejects.toBeInstanceOf(HubSpotApiError);
    const error = (await missing.catch((caught: unknown) => caught)) as HubSpotApiError;
    expect(error.details).toMatchObject({ status: 404, category: 'OBJECT_NOT_FOUND', retryable: false });
    expect(error.details.correlationId).toEqual(expect.any(String));
    expect(await callsOf(portalId, '/crm/v3/owners/987654')).toHaveLength(1);
  });

  it('streams a multipart upload to the Files API without holding the file in memory', async () => {
    const client = await replica({ sandboxUrl: sandbox.url });
    const portalId = await installedPortal(client);
    const chunk = Buffer.alloc(64 * 1024, 7);
    let produced = 0;
    const content = Readable.from(
      (function* chunks() {
        for (let i = 0; i < 32; i += 1) {
          produced += chunk.length;
          yield chunk;
        }
      })(),
    );
    const uploaded = await client.api
      .forPortal(portalId)
      .upload<{ id: string; size: number; access: string }>({
        path: '/files/v3/files',
        fields: {
          folderPath: '/conversations/test',
          fileName: 'photo.jpg',
          options: JSON.stringify({ access: 'PRIVATE' }),
        },
        file: { fileName: 'photo.jpg', mimeType: 'image/jpeg', content },
      });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toMatchObject({ size: 32 * 64 * 1024, access: 'PRIVATE' });
    expect(produced).toBe(32 * 64 * 1024);
  });

  it('retries 5xx answers, timeouts and dropped connections with backoff, then succeeds', async () => {
    const client = await replica({ sandboxUrl: sandbox.url, timeoutMs: 400 });
    const portalId = await installedPortal(client);
    await control.setFaults([{ pathPrefix: '/crm/v3/owners', errorRate: 1, status: 503, times: 2 }]);
    const afterErrors = await client.api
      .forPortal(portalId)
      .request({ method: 'GET', path: '/crm/v3/owners' });
    expect(afterErrors.status).toBe(200);
    expect((await callsOf(portalId, '/crm/v3/owners')).map((call) => call.status)).toEqual([503, 503, 200]);

    await control.setFaults([{ pathPrefix: '/crm/v3/owners', timeoutRate: 1, holdMs: 3_000, times: 1 }]);
    await client.api.forPortal(portalId).request({ method: 'GET', path: '/crm/v3/owners' });
    await control.setFaults([{ pathPrefix: '/crm/v3/owners', dropRate: 1, times: 1 }]);
    await client.api.forPortal(portalId).request({ method: 'GET', path: '/crm/v3/owners' });
    expect(await metricValue(client.registry, 'hubspot_requests_total', { status: 'timeout' })).toBe(1);
    expect(await metricValue(client.registry, 'hubspot_requests_total', { status: 'network' })).toBe(1);

    await control.setFaults([{ pathPrefix: '/crm/v3/owners', errorRate: 1, status: 500 }]);
    const exhausted = await client.api
      .forPortal(portalId)
      .request({ method: 'GET', path: '/crm/v3/owners' })
      .catch((caught: unknown) => caught);
    expect(exhausted).toBeInstanceOf(HubSpotApiError);
    expect((exhausted as HubSpotApiError).details).toMatchObject({ status: 500, retryable: true });
  });

  it('retries a 423 (a concurrent write holds the object) no sooner than about 2 s later, as HubSpot advises', async () => {
    const client = await replica({ sandboxUrl: sandbox.url });
    const portalId = await installedPortal(client);
    await control.setFaults([{ pathPrefix: '/crm/v3/owners', errorRate: 1, status: 423, times: 1 }]);
    const answered = await client.api.forPortal(portalId).request({ method: 'GET', path: '/crm/v3/owners' });
    expect(answered.status).toBe(200);
    const [locked, retried] = await callsOf(portalId, '/crm/v3/owners');
    expect([locked?.status, retried?.status]).toEqual([423, 200]);
    const lockedEnded = Date.parse(locked?.at ?? '') + (locked?.durationMs ?? 0);
    expect(Date.parse(retried?.at ?? '') - lockedEnded).toBeGreaterThanOrEqual(1_990);
  });

  it('once the process drains, a failed call is not tried again here: a back-off in progress is cut short and the caller gets a retryable error at once', async () => {
    const drain = new DrainState();
    const client = await replica({ sandboxUrl: sandbox.url, maxAttempts: 4, retryBaseMs: 5_000, drain });
    const portalId = await installedPortal(client);
    await control.setFaults([{ pathPrefix: '/crm/v3/owners', errorRate: 1, status: 503 }]);
    const outcome = client.api
      .forPortal(portalId)
      .request({ method: 'GET', path: '/crm/v3/owners' })
      .then(
        () => 'answered',
        (caught: unknown) => caught,
      );
    await testing.expectEventually(async () => {
      expect(await callsOf(portalId, '/crm/v3/owners')).toHaveLength(1);
    });
    const drainedAt = performance.now();
    drain.startDraining();
    const failed = await outcome;
    // Not after the 5 s back-off and three more attempts.
    expect(performance.now() - drainedAt).toBeLessThan(1_000);
    expect(failed).toBeInstanceOf(HubSpotApiError);
    expect((failed as HubSpotApiError).details).toMatchObject({ status: 503, retryable: true });
    expect(await callsOf(portalId, '/crm/v3/owners')).toHaveLength(1);
  });

  it('a 429 storm: pauses the portal, honours the window and completes every call', async () => {
    const client = await replica({ sandboxUrl: sandbox.url, maxAttempts: 8, intervalMs: 1_000 });
    const portalId = await installedPortal(client);
    await control.setRateLimit(5, 1_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        client.api.forPortal(portalId).request({ method: 'GET', path: '/crm/v3/owners' }),
      ),
    );
    expect(results.every((result) => result.status === 200)).toBe(true);
    const calls = await callsOf(portalId, '/crm/v3/owners');
    expect(calls.filter((call) => call.status === 200)).toHaveLength(20);
    expect(calls.some((call) => call.status === 429)).toBe(true);
    expect(await metricValue(client.registry, 'hubspot_rate_limited_total')).toBeGreaterThan(0);
  });

  it('two replicas share one portal budget: together they never get a 429', async () => {
    const settings = { sandboxUrl: sandbox.url, maxPerInterval: 20, intervalMs: 1_000 };
    const first = await replica(settings);
    const second = await replica(settings);
    const portalId = await installedPortal(first);
    await control.setRateLimit(22, 1_000);
    const burst = (client: ClientReplica) =>
      Array.from({ length: 30 }, () =>
        client.api.forPortal(portalId).request({ method: 'GET', path: '/crm/v3/owners' }),
      );
    const results = await Promise.all([...burst(first), ...burst(second)]);
    expect(results).toHaveLength(60);
    const calls = await callsOf(portalId, '/crm/v3/owners');
    expect(calls.map((call) => call.status).filter((status) => status !== 200)).toEqual([]);
    expect(calls).toHaveLength(60);
  });

  it('is fair across portals: one flooding portal does not hold back another', async () => {
    const client = await replica({ sandboxUrl: sandbox.url, maxPerInterval: 10, intervalMs: 1_000 });
    const flooding = await installedPortal(client);
    const quiet = await installedPortal(client);
    let floodDone = 0;
    const flood = Array.from({ length: 40 }, () =>
      client.api
        .forPortal(flooding)
        .request({ method: 'GET', path: '/crm/v3/owners' })
        .then(() => {
          floodDone += 1;
        }),
    );
    await testing.expectEventually(() => floodDone > 0, { description: 'the flood has started' });
    await client.api.forPortal(quiet).request({ method: 'GET', path: '/crm/v3/owners' });
    expect(floodDone).toBeLessThan(40);
    await Promise.all(flood);
  });

  it('CRM search has its own budget: a burst of searches gets no SECONDLY 429', async () => {
    const client = await replica({ sandboxUrl: sandbox.url });
    const portalId = await installedPortal(client);
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        client.api.forPortal(portalId).request<{ total: number }>({
          method: 'POST',
          path: '/crm/v3/objects/contacts/search',
          body: {
            filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'x@example.com' }] }],
          },
        }),
      ),
    );
    expect(results.map((result) => result.status)).toEqual(Array.from({ length: 12 }, () => 200));
    const calls = await callsOf(portalId, '/crm/v3/objects/contacts/search');
    expect(calls.filter((call) => call.status === 429)).toEqual([]);
  });

  it('token expiry in the middle of traffic: a 401 refreshes once and the calls go on', async () => {
    const shortLived = await startHubSpotSandbox(
      { LOG_LEVEL: 'silent', SANDBOX_ACCESS_TOKEN_TTL_MS: '1500ms' },
      { port: 0 },
    );
    try {
      const shortControl = new SandboxControlClient(shortLived.url);
      const client = await replica({ sandboxUrl: shortLived.url });
      const portalId = await installedPortal(client, shortControl);
      // The stored expiry claims an hour: only HubSpot's 401 tells the client the token died.
      await client.dataSource.query(
        `UPDATE "${db.schema}".hubspot_portals SET access_token_expires_at = now() + interval '1 hour' WHERE portal_id = $1`,
        [portalId],
      );
      client.tokens.forget(portalId);
      const statuses: number[] = [];
      for (let round = 0; round < 8; round += 1) {
        const batch = await Promise.all(
          Array.from({ length: 5 }, () =>
            client.api.forPortal(portalId).request({ method: 'GET', path: '/crm/v3/owners' }),
          ),
        );
        statuses.push(...batch.map((result) => result.status));
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
      expect(statuses.every((status) => status === 200)).toBe(true);
      const calls = await callsOf(portalId, '/crm/v3/owners', shortControl);
      expect(calls.some((call) => call.status === 401)).toBe(true);
      expect(calls.filter((call) => call.status === 200)).toHaveLength(40);
    } finally {
      await shortLived.close();
    }
  });

  it('refreshes expiring tokens ahead of time, each portal by exactly one replica', async () => {
    const first = await replica({ sandboxUrl: sandbox.url });
    const second = await replica({ sandboxUrl: sandbox.url });
    const portalIds = [
      await installedPortal(first),
      await installedPortal(first),
      await installedPortal(first),
    ];
    await first.dataSource.query(
      `UPDATE "${db.schema}".hubspot_portals SET access_token_expires_at = now() + interval '1 minute'
        WHERE portal_id = ANY($1::bigint[])`,
      [portalIds],
    );
    const before = await first.dataSource.query<{ access_token: string }[]>(
      `SELECT access_token FROM "${db.schema}".hubspot_portals WHERE portal_id = ANY($1::bigint[]) ORDER BY portal_id`,
      [portalIds],
    );
    const counts = await Promise.all([
      first.tokens.refreshExpiring(300_000),
      second.tokens.refreshExpiring(300_000),
    ]);
    expect(counts[0] + counts[1]).toBe(3);
    const after = await first.dataSource.query<{ access_token: string; minutes: number | string }[]>(
      `SELECT access_token, extract(epoch FROM access_token_expires_at - now()) / 60 AS minutes
         FROM "${db.schema}".hubspot_portals WHERE portal_id = ANY($1::bigint[]) ORDER BY portal_id`,
      [portalIds],
    );
    after.forEach((row, index) => {
      expect(row.access_token).not.toBe(before[index]?.access_token);
      expect(Number(row.minutes)).toBeGreaterThan(25);
    });
    expect(
      await Promise.all([first.tokens.refreshExpiring(300_000), second.tokens.refreshExpiring(300_000)]),
    ).toEqual([0, 0]);
  });

  it('a rejected refresh token disconnects the portal: calls fail retryably until it is installed again', async () => {
    const client = await replica({ sandboxUrl: sandbox.url });
    const portalId = await installedPortal(client);
    const [row] = await client.dataSource.query<{ refresh_token: string }[]>(
      `SELECT refresh_token FROM "${db.schema}".hubspot_portals WHERE portal_id = $1`,
      [portalId],
    );
    expect(row?.refresh_token).toMatch(/^v1\./);
    const issued = await control.issueTokens(Number(portalId), {
      appId: Number(SANDBOX_CLIENT.appId),
      userId: USER_ID,
      scopes: SCOPES,
    });
    // Revoke the installed refresh token (HubSpot: app uninstalled or token revoked), then expire the access token.
    const stored = client.tokens;
    const refreshToken = TEST_DECRYPT(row?.refresh_token ?? '', portalId);
    const revoke = await fetch(`${sandbox.url}/oauth/v1/refresh-tokens/${refreshToken}`, {
      method: 'DELETE',
    });
    expect(revoke.status).toBeLessThan(300);
    await client.dataSource.query(
      `UPDATE "${db.schema}".hubspot_portals SET access_token_expires_at = now() - interval '1 minute' WHERE portal_id = $1`,
      [portalId],
    );
    stored.forget(portalId);

    const failed = await client.api
      .forPortal(portalId)
      .request({ method: 'GET', path: '/crm/v3/owners' })
      .catch((caught: unknown) => caught);
    expect(failed).toBeInstanceOf(HubSpotApiError);
    expect((failed as HubSpotApiError).details).toMatchObject({ portalDisconnected: true, retryable: true });
    const [after] = await client.dataSource.query<{ status: string; disconnected_reason: string }[]>(
      `SELECT status, disconnected_reason FROM "${db.schema}".hubspot_portals WHERE portal_id = $1`,
      [portalId],
    );
    expect(after?.status).toBe('disconnected');
    expect(
      await metricValue(client.registry, 'hubspot_token_refresh_failures_total', { reason: 'rejected' }),
    ).toBe(1);
    // Refused by the 2026-03 token endpoint with the §1.9 envelope, which still reads as a rejection.
    expect(after?.disconnected_reason).toBe('refresh token rejected: VALIDATION_ERROR');
    const refreshes = (await control.allCalls()).filter(
      (call) => call.path.startsWith('/oauth/') && call.path.endsWith('/token'),
    );
    expect(refreshes.map((call) => `${call.path} ${call.status}`)).toContain('/oauth/2026-03/token 400');
    expect(refreshes.every((call) => call.path === '/oauth/2026-03/token')).toBe(true);

    await client.dataSource.transaction((manager) =>
      client.tokens.install(manager, { portalId, tokens: issued, scopes: SCOPES }),
    );
    const resumed = await client.api.forPortal(portalId).request({ method: 'GET', path: '/crm/v3/owners' });
    expect(resumed.status).toBe(200);
  });
});

function TEST_DECRYPT(token: string, portalId: string): string {
  return TEST_SECRETS_REF.decrypt(token, `hubspot_portals|${portalId}|refresh_token`);
}
