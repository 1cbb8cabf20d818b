import { ConfigValidationError } from '@inbox-bridge/service-kit';
import { describe, expect, it } from '@jest/globals';
import { loadRouterConfig } from '../src/config/router.config.js';

const env = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  DATABASE_SCHEMA: 'router',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  ENCRYPTION_ACTIVE_KEY_ID: 'k1',
};

function problemsOf(overrides: Record<string, string>): { variable: string; reason: string }[] {
  try {
    loadRouterConfig({ ...env, ...overrides });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return [...(error as ConfigValidationError).problems];
  }
  throw new Error('expected a ConfigValidationError');
}

describe('loadRouterConfig', () => {
  it('defaults: admin API closed, settings links off, 5 s poll interval', () => {
    expect(loadRouterConfig(env)).toMatchObject({
      PORT: 3002,
      ADMIN_TOKENS: '',
      SETTINGS_LINK_SECRET: '',
      SETTINGS_LINK_TTL_MS: 3_600_000,
      ROUTER_TIMER_POLL_INTERVAL_MS: 5_000,
      ROUTER_ASSIGNMENT_RETRY_DELAY_MS: 30_000,
    });
  });

  it('names a malformed admin token entry without printing the token', () => {
    const problems = problemsOf({
      ADMIN_TOKENS: '123:a-long-enough-token-1,notaportal:secret-token-value-2',
    });
    expect(problems).toEqual([
      { variable: 'ADMIN_TOKENS', reason: expect.stringMatching(/^entry 2 must start/) },
    ]);
    expect(JSON.stringify(problems)).not.toContain('secret-token-value-2');
  });

  it('refuses a short settings link secret and a relative public URL', () => {
    const problems = problemsOf({ SETTINGS_LINK_SECRET: 'too-short', ROUTER_PUBLIC_URL: '/router' });
    expect(problems.map((problem) => problem.variable).sort()).toEqual([
      'ROUTER_PUBLIC_URL',
      'SETTINGS_LINK_SECRET',
    ]);
  });
});
