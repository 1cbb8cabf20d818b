import {
  startHubSpotSandbox,
  type RecordedCall,
  type RunningHubSpotSandbox,
} from '@inbox-bridge/hubspot-sandbox';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { startPlatformGateway, type PlatformGateway } from './platform-gateway.js';

const OPS_TOKEN = 'ops-token-for-channel-registration-tests';
const PUBLIC_BASE_URL = 'https://bridge.example.com';

describe('channel registration: POST /admin/channel/register (real sandbox, developer key)', () => {
  let sandbox: RunningHubSpotSandbox;
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  const gateways: PlatformGateway[] = [];

  const gateway = async (env: Record<string, string> = {}): Promise<PlatformGateway> => {
    const started = await startPlatformGateway(db, vhost, {
      HUBSPOT_API_BASE_URL: sandbox.url,
      PUBLIC_BASE_URL,
      OPS_API_TOKEN: OPS_TOKEN,
      ...env,
    });
    gateways.push(started);
    return started;
  };

  const register = (target: PlatformGateway, token: string | null = OPS_TOKEN): Promise<Response> =>
    fetch(`${target.baseUrl}/admin/channel/register`, {
      method: 'POST',
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });

  const channelCalls = async (): Promise<RecordedCall[]> => {
    const response = await fetch(`${sandbox.url}/__sandbox/calls`);
    const calls = (await response.json()) as RecordedCall[];
    return calls.filter((call) => call.path.startsWith('/conversations/v3/custom-channels'));
  };

  const channel = async (channelId: string): Promise<Record<string, unknown>> => {
    const response = await fetch(
      `${sandbox.url}/conversations/v3/custom-channels/${channelId}?hapikey=sandbox-developer-api-key&appId=1000001`,
    );
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    vhost = await testing.createTestVhost('gateway_channel');
    db = await testing.createTestDatabase('gateway_channel', gatewayMigrations, { poolSize: 2 });
    sandbox = await startHubSpotSandbox({ LOG_LEVEL: 'silent' }, { port: 0 });
  });

  afterAll(async () => {
    for (const started of gateways) {
      await started.app.close();
    }
    await sandbox.close();
    await db.dispose();
    await vhost.dispose();
  });

  it('refuses callers without the ops token, in constant time, with a problem body', async () => {
    const target = await gateway();
    for (const token of [null, 'wrong-token-of-some-length-000000', `${OPS_TOKEN}x`]) {
      const refused = await register(target, token);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(await channelCalls()).toHaveLength(0);
  });

  it('creates the channel once; a second run changes nothing; a changed setting is PATCHed', async () => {
    const target = gateways[0] ?? (await gateway());
    const first = await register(target);
    expect(first.status).toBe(200);
    const created = (await first.json()) as { channelId: string; outcome: string };
    expect(created.outcome).toBe('created');

    const stored = await channel(created.channelId);
    expect(stored).toMatchObject({
      name: 'Inbox Bridge',
      webhookUrl: `${PUBLIC_BASE_URL}/webhooks/hubspot`,
      channelAccountConnectionRedirectUrl: `${PUBLIC_BASE_URL}/connect`,
      capabilities: expect.objectContaining({
        threadingModel: 'INTEGRATION_THREAD_ID',
        allowOutgoingMessages: true,
        outgoingAttachmentTypes: ['FILE'],
        deliveryIdentifierTypes: ['CHANNEL_SPECIFIC_OPAQUE_ID', 'HS_EMAIL_ADDRESS', 'HS_PHONE_NUMBER'],
      }),
    });

    const second = (await (await register(target)).json()) as { channelId: string; outcome: string };
    expect(second).toEqual({ channelId: created.channelId, outcome: 'unchanged' });
    const methods = (await channelCalls()).map((call) => call.method);
    expect(methods.filter((method) => method === 'POST')).toHaveLength(1);
    expect(methods.filter((method) => method === 'PATCH')).toHaveLength(0);

    // Another deployment (same database) with Telegram only and a new description: one PATCH, same channel.
    const telegramOnly = await gateway({
      ENABLED_PROVIDERS: 'telegram',
      CHANNEL_DESCRIPTION: 'Telegram in HubSpot',
    });
    const third = (await (await register(telegramOnly)).json()) as { channelId: string; outcome: string };
    expect(third).toEqual({ channelId: created.channelId, outcome: 'updated' });
    expect(await channel(created.channelId)).toMatchObject({
      channelDescription: 'Telegram in HubSpot',
      capabilities: expect.objectContaining({ deliveryIdentifierTypes: ['CHANNEL_SPECIFIC_OPAQUE_ID'] }),
    });
    expect((await channelCalls()).filter((call) => call.method === 'PATCH')).toHaveLength(1);
    const [row] = await db.dataSource.query<{ channel_id: string }[]>(
      `SELECT channel_id FROM "${db.schema}".hubspot_channel`,
    );
    expect(row?.channel_id).toBe(created.channelId);
  });

  it("a fresh database adopts the app's existing channel by name instead of creating another", async () => {
    const otherDb = await testing.createTestDatabase('gateway_channel_b', gatewayMigrations, { poolSize: 2 });
    try {
      const other = await startPlatformGateway(otherDb, vhost, {
        HUBSPOT_API_BASE_URL: sandbox.url,
        PUBLIC_BASE_URL,
        OPS_API_TOKEN: OPS_TOKEN,
        ENABLED_PROVIDERS: 'telegram',
        CHANNEL_DESCRIPTION: 'Telegram in HubSpot',
      });
      try {
        const adopted = (await (await register(other)).json()) as { outcome: string };
        expect(adopted.outcome).toBe('unchanged');
        expect((await channelCalls()).filter((call) => call.method === 'POST')).toHaveLength(1);
      } finally {
        await other.app.close();
      }
    } finally {
      await otherDb.dispose();
    }
  });
});
