import { ConfigValidationError, generateTransitKeyPair } from '@inbox-bridge/service-kit';
import { describe, expect, it } from '@jest/globals';
import { DEV_CREDENTIALS_TRANSIT_PUBLIC_KEY } from '../src/accounts/accounts.wiring.js';
import { DEV_SANDBOX_CLIENT_SECRET, loadGatewayConfig } from '../src/config/gateway.config.js';

const env = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  DATABASE_SCHEMA: 'gateway',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  ENCRYPTION_ACTIVE_KEY_ID: 'k1',
  // A real app's identity, so the HUBSPOT_CLIENT_SECRET cases below are about that variable alone.
  HUBSPOT_APP_ID: '2000002',
  HUBSPOT_CLIENT_ID: 'real-client-id',
  HUBSPOT_DEVELOPER_API_KEY: 'real-developer-api-key',
  MEDIA_LINK_SECRET: 'a-real-media-link-secret-of-40-characters',
  HUBSPOT_API_BASE_URL: 'https://api.hubapi.com',
  HUBSPOT_AUTHORIZE_BASE_URL: 'https://app.hubspot.com',
  PUBLIC_BASE_URL: 'https://bridge.example.com',
  CREDENTIALS_TRANSIT_PUBLIC_KEY: generateTransitKeyPair('k1').publicKey,
};

const origins = ['HUBSPOT_API_BASE_URL', 'HUBSPOT_AUTHORIZE_BASE_URL', 'PUBLIC_BASE_URL'];

function problemsOf(load: () => unknown): { variable: string; reason: string }[] {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return [...(error as ConfigValidationError).problems];
  }
  throw new Error('expected a ConfigValidationError');
}

describe('loadGatewayConfig: HUBSPOT_CLIENT_SECRET in production', () => {
  it.each([
    ['NODE_ENV=production', { NODE_ENV: 'production' }],
    ['NODE_ENV unset (production by default)', {}],
    ['NODE_ENV=production and an empty secret', { NODE_ENV: 'production', HUBSPOT_CLIENT_SECRET: '' }],
  ])('refuses to start without it (%s), naming the variable', (_name, overrides) => {
    const problems = problemsOf(() => loadGatewayConfig({ ...env, ...overrides }));
    expect(problems).toEqual([
      {
        variable: 'HUBSPOT_CLIENT_SECRET',
        reason: expect.stringMatching(/required when NODE_ENV is production/),
      },
    ]);
  });

  it("refuses the sandbox's development secret given explicitly", () => {
    const problems = problemsOf(() =>
      loadGatewayConfig({ ...env, NODE_ENV: 'production', HUBSPOT_CLIENT_SECRET: DEV_SANDBOX_CLIENT_SECRET }),
    );
    expect(problems.map((problem) => problem.variable)).toEqual(['HUBSPOT_CLIENT_SECRET']);
    expect(JSON.stringify(problems)).not.toContain(DEV_SANDBOX_CLIENT_SECRET);
  });

  it('reports it together with every other bad variable', () => {
    const problems = problemsOf(() => loadGatewayConfig({ ...env, PORT: 'eighty', DATABASE_SCHEMA: '' }));
    expect(problems.map((problem) => problem.variable).sort()).toEqual([
      'DATABASE_SCHEMA',
      'HUBSPOT_CLIENT_SECRET',
      'PORT',
    ]);
  });

  it('accepts an explicit secret in production', () => {
    const config = loadGatewayConfig({
      ...env,
      NODE_ENV: 'production',
      HUBSPOT_CLIENT_SECRET: 'real-secret',
    });
    expect(config.HUBSPOT_CLIENT_SECRET).toBe('real-secret');
  });

  it.each(['development', 'test'])('keeps the sandbox default when NODE_ENV=%s', (nodeEnv) => {
    const config = loadGatewayConfig({ ...env, NODE_ENV: nodeEnv });
    expect(config.HUBSPOT_CLIENT_SECRET).toBe(DEV_SANDBOX_CLIENT_SECRET);
  });
});

describe("loadGatewayConfig: the sandbox app's identity in production", () => {
  const appVariables = [
    'HUBSPOT_APP_ID',
    'HUBSPOT_CLIENT_ID',
    'HUBSPOT_DEVELOPER_API_KEY',
    'MEDIA_LINK_SECRET',
  ];
  const withoutApp = Object.fromEntries(Object.entries(env).filter(([name]) => !appVariables.includes(name)));

  it('refuses to start with the development defaults, naming each variable', () => {
    const problems = problemsOf(() =>
      loadGatewayConfig({ ...withoutApp, NODE_ENV: 'production', HUBSPOT_CLIENT_SECRET: 'real-secret' }),
    );
    expect(problems.map((problem) => problem.variable).sort()).toEqual([
      'HUBSPOT_APP_ID',
      'HUBSPOT_CLIENT_ID',
      'HUBSPOT_DEVELOPER_API_KEY',
      'MEDIA_LINK_SECRET',
    ]);
  });

  it('refuses the development values given explicitly, without printing them', () => {
    const problems = problemsOf(() =>
      loadGatewayConfig({
        ...env,
        NODE_ENV: 'production',
        HUBSPOT_CLIENT_SECRET: 'real-secret',
        HUBSPOT_DEVELOPER_API_KEY: 'sandbox-developer-api-key',
      }),
    );
    expect(problems).toEqual([
      { variable: 'HUBSPOT_DEVELOPER_API_KEY', reason: expect.stringMatching(/development default/) },
    ]);
    expect(JSON.stringify(problems)).not.toContain('sandbox-developer-api-key');
  });

  it('keeps them in development', () => {
    const config = loadGatewayConfig({ ...withoutApp, NODE_ENV: 'development' });
    expect([config.HUBSPOT_APP_ID, config.HUBSPOT_CLIENT_ID]).toEqual(['1000001', 'sandbox-client-id']);
  });
});

describe('loadGatewayConfig: the key provider credentials are sealed with', () => {
  const production = { ...env, NODE_ENV: 'production', HUBSPOT_CLIENT_SECRET: 'real-secret' };

  it('is required in production and may not be the development key under any id', () => {
    const { CREDENTIALS_TRANSIT_PUBLIC_KEY: _own, ...withoutKey } = production;
    expect(problemsOf(() => loadGatewayConfig(withoutKey))).toEqual([
      { variable: 'CREDENTIALS_TRANSIT_PUBLIC_KEY', reason: expect.stringMatching(/required when NODE_ENV/) },
    ]);
    const renamedDevKey = DEV_CREDENTIALS_TRANSIT_PUBLIC_KEY.replace(/^dev:/, 'prod:');
    expect(
      problemsOf(() => loadGatewayConfig({ ...production, CREDENTIALS_TRANSIT_PUBLIC_KEY: renamedDevKey })),
    ).toEqual([
      { variable: 'CREDENTIALS_TRANSIT_PUBLIC_KEY', reason: expect.stringMatching(/development default/) },
    ]);
  });

  it('is one keyId:base64-32-bytes entry', () => {
    const twoKeys = `${generateTransitKeyPair('a').publicKey},${generateTransitKeyPair('b').publicKey}`;
    expect(
      problemsOf(() => loadGatewayConfig({ ...production, CREDENTIALS_TRANSIT_PUBLIC_KEY: twoKeys })),
    ).toMatchObject([
      { variable: 'CREDENTIALS_TRANSIT_PUBLIC_KEY', reason: expect.stringMatching(/exactly one key/) },
    ]);
    expect(
      problemsOf(() => loadGatewayConfig({ ...production, CREDENTIALS_TRANSIT_PUBLIC_KEY: 'k1:c2hvcnQ=' })),
    ).toMatchObject([
      { variable: 'CREDENTIALS_TRANSIT_PUBLIC_KEY', reason: expect.stringMatching(/32 bytes/) },
    ]);
  });

  it('is the development key outside production', () => {
    const { CREDENTIALS_TRANSIT_PUBLIC_KEY: _own, ...withoutKey } = production;
    expect(loadGatewayConfig({ ...withoutKey, NODE_ENV: 'development' }).CREDENTIALS_TRANSIT_PUBLIC_KEY).toBe(
      DEV_CREDENTIALS_TRANSIT_PUBLIC_KEY,
    );
  });
});

describe("loadGatewayConfig: the popup's link to the router's settings page", () => {
  const dev = { ...env, NODE_ENV: 'development', HUBSPOT_CLIENT_SECRET: 'real-secret' };
  const linkSecret = 'a-settings-link-secret-of-40-characters!';

  it('is off when neither ROUTER_PUBLIC_URL nor SETTINGS_LINK_SECRET is set', () => {
    const config = loadGatewayConfig(dev);
    expect(config.ROUTER_PUBLIC_URL).toBeUndefined();
    expect(config.SETTINGS_LINK_SECRET).toBeUndefined();
    expect(config.SETTINGS_LINK_TTL_MS).toBe(3_600_000);
  });

  it('is on with both', () => {
    const config = loadGatewayConfig({
      ...dev,
      ROUTER_PUBLIC_URL: 'https://router.example.com',
      SETTINGS_LINK_SECRET: linkSecret,
      SETTINGS_LINK_TTL_MS: '10m',
    });
    expect(config.ROUTER_PUBLIC_URL).toBe('https://router.example.com');
    expect(config.SETTINGS_LINK_SECRET).toBe(linkSecret);
    expect(config.SETTINGS_LINK_TTL_MS).toBe(600_000);
  });

  it('names the missing one when only one is set', () => {
    expect(
      problemsOf(() => loadGatewayConfig({ ...dev, ROUTER_PUBLIC_URL: 'https://router.example.com' })),
    ).toEqual([
      {
        variable: 'SETTINGS_LINK_SECRET',
        reason: expect.stringMatching(/required when ROUTER_PUBLIC_URL is set/),
      },
    ]);
    expect(problemsOf(() => loadGatewayConfig({ ...dev, SETTINGS_LINK_SECRET: linkSecret }))).toEqual([
      {
        variable: 'ROUTER_PUBLIC_URL',
        reason: expect.stringMatching(/required when SETTINGS_LINK_SECRET is set/),
      },
    ]);
  });

  it('refuses a short secret and a URL that is not http(s), without printing the secret', () => {
    const problems = problemsOf(() =>
      loadGatewayConfig({
        ...dev,
        ROUTER_PUBLIC_URL: 'ftp://router.example.com',
        SETTINGS_LINK_SECRET: 'short',
      }),
    );
    expect(problems.map((problem) => problem.variable).sort()).toEqual([
      'ROUTER_PUBLIC_URL',
      'SETTINGS_LINK_SECRET',
    ]);
    expect(problems.find((problem) => problem.variable === 'SETTINGS_LINK_SECRET')?.reason).toMatch(
      /at least 32/,
    );
    expect(JSON.stringify(problems)).not.toContain('short');
  });
});

describe('loadGatewayConfig: the admin tokens of the portal endpoints', () => {
  const dev = { ...env, NODE_ENV: 'development', HUBSPOT_CLIENT_SECRET: 'real-secret' };

  it('reads portalId:token pairs, empty by default', () => {
    expect(loadGatewayConfig(dev).ADMIN_TOKENS).toBe('');
    expect(loadGatewayConfig({ ...dev, ADMIN_TOKENS: '101:a-long-enough-token-1' }).ADMIN_TOKENS).toBe(
      '101:a-long-enough-token-1',
    );
  });

  it('names a malformed entry without printing the tokens', () => {
    const problems = problemsOf(() =>
      loadGatewayConfig({ ...dev, ADMIN_TOKENS: '101:a-long-enough-token-1,0:secret-token-value-2' }),
    );
    expect(problems).toEqual([
      { variable: 'ADMIN_TOKENS', reason: expect.stringMatching(/^entry 2 must start/) },
    ]);
    expect(JSON.stringify(problems)).not.toContain('secret-token-value-2');
  });

  it('refuses an ops token that is also a portal admin token (it would open that portal)', () => {
    const shared = 'a-token-used-for-both-0123456789';
    const problems = problemsOf(() =>
      loadGatewayConfig({ ...dev, OPS_API_TOKEN: shared, ADMIN_TOKENS: `101:${shared}` }),
    );
    expect(problems).toEqual([{ variable: 'OPS_API_TOKEN', reason: expect.stringMatching(/must differ/) }]);
    expect(JSON.stringify(problems)).not.toContain(shared);
  });
});

describe('loadGatewayConfig: durations', () => {
  const dev = { ...env, NODE_ENV: 'development' };

  it('refuses a poll interval of 0 (the worker would spin) and one longer than a timer takes, naming them', () => {
    const problems = problemsOf(() =>
      loadGatewayConfig({ ...dev, WEBHOOK_WORKER_POLL_MS: '0', PLATFORM_SCHEDULER_TICK_MS: '600h' }),
    );
    expect(problems).toEqual([
      {
        variable: 'PLATFORM_SCHEDULER_TICK_MS',
        reason: expect.stringMatching(/^must be at most 2147483647 ms/),
        received: '600h',
      },
      { variable: 'WEBHOOK_WORKER_POLL_MS', reason: 'must be at least 1 ms', received: '0' },
    ]);
  });

  it('keeps processed webhooks longer than a timer could wait (a retention is no timer)', () => {
    expect(loadGatewayConfig({ ...dev, WEBHOOK_EVENT_RETENTION: '720h' }).WEBHOOK_EVENT_RETENTION).toBe(
      720 * 3_600_000,
    );
  });
});

describe('loadGatewayConfig: HubSpot and public origins in production', () => {
  const production = { ...env, NODE_ENV: 'production', HUBSPOT_CLIENT_SECRET: 'real-secret' };
  const withoutOrigins = Object.fromEntries(
    Object.entries(production).filter(([name]) => !origins.includes(name)),
  );

  it('refuses the sandbox defaults and a public origin left to the Host header, naming each variable', () => {
    const problems = problemsOf(() => loadGatewayConfig(withoutOrigins));
    expect(problems).toEqual(
      origins.map((variable) => ({
        variable,
        reason: expect.stringMatching(/^required when NODE_ENV is production/),
      })),
    );
  });

  it('refuses plain HTTP (the sandbox, or a public origin given as http), naming each variable', () => {
    const problems = problemsOf(() =>
      loadGatewayConfig({
        ...production,
        HUBSPOT_API_BASE_URL: 'http://127.0.0.1:4010',
        HUBSPOT_AUTHORIZE_BASE_URL: 'http://app.hubspot.com',
        PUBLIC_BASE_URL: 'http://bridge.example.com',
      }),
    );
    expect(problems.map((problem) => [problem.variable, problem.reason])).toEqual(
      origins.map((variable) => [variable, 'must be an https:// URL when NODE_ENV is production']),
    );
  });

  it('names each of them once, next to a value that is no URL at all', () => {
    const problems = problemsOf(() =>
      loadGatewayConfig({ ...withoutOrigins, HUBSPOT_API_BASE_URL: 'ftp://x' }),
    );
    expect(problems.map((problem) => problem.variable).sort()).toEqual(origins);
  });

  it('starts with https origins', () => {
    const config = loadGatewayConfig(production);
    expect([config.HUBSPOT_API_BASE_URL, config.HUBSPOT_AUTHORIZE_BASE_URL, config.PUBLIC_BASE_URL]).toEqual([
      'https://api.hubapi.com',
      'https://app.hubspot.com',
      'https://bridge.example.com',
    ]);
  });

  it('keeps the sandbox over HTTP and the derived public origin in development', () => {
    const config = loadGatewayConfig({ ...withoutOrigins, NODE_ENV: 'development' });
    expect(config.HUBSPOT_API_BASE_URL).toBe('http://127.0.0.1:4010');
    expect(config.PUBLIC_BASE_URL).toBeUndefined();
  });
});
