import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { commonConfigSchema } from './common-config.js';
import { loadConfig } from './load-config.js';
import { maskUrlCredentials, redactConfig } from './redact-config.js';

describe('redactConfig', () => {
  it('replaces secrets and masks URL passwords, keeping everything else', () => {
    const keys = `k1:${randomBytes(32).toString('base64')}`;
    const config = loadConfig(commonConfigSchema, {
      DATABASE_URL: 'postgres://app:db-password-123@localhost:5432/app',
      DATABASE_SCHEMA: 'router',
      AMQP_URL: 'amqp://guest:amqp-password-456@localhost:5672',
      ENCRYPTION_KEYS: keys,
      ENCRYPTION_ACTIVE_KEY_ID: 'k1',
    });
    const redacted = redactConfig(config, commonConfigSchema);
    expect(redacted.ENCRYPTION_KEYS).toBe('[redacted]');
    expect(redacted.DATABASE_URL).toBe('postgres://app:***@localhost:5432/app');
    expect(redacted.AMQP_URL).toBe('amqp://guest:***@localhost:5672');
    expect(redacted.DATABASE_SCHEMA).toBe('router');
    expect(redacted.PORT).toBe(3000);
    const serialized = JSON.stringify(redacted);
    expect(serialized).not.toContain(keys.slice(3));
    expect(serialized).not.toContain('password-');
  });

  it('leaves values without credentials alone', () => {
    expect(maskUrlCredentials('postgres://localhost/db')).toBe('postgres://localhost/db');
    expect(maskUrlCredentials('not a url')).toBe('not a url');
  });
});
