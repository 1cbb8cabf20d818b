import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { commonConfigSchema } from './common-config.js';
import { ConfigValidationError } from './config-validation.error.js';
import { booleanFlag, durationMs, port, secret } from './fields.js';
import { loadConfig } from './load-config.js';

const key1 = randomBytes(32).toString('base64');
const key2 = randomBytes(32).toString('base64');

function validEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    DATABASE_URL: 'postgres://app:db-password-123@localhost:5432/app',
    DATABASE_SCHEMA: 'gateway',
    AMQP_URL: 'amqp://guest:amqp-password-456@localhost:5672',
    ENCRYPTION_KEYS: `k1:${key1},k2:${key2}`,
    ENCRYPTION_ACTIVE_KEY_ID: 'k2',
    ...overrides,
  };
}

function configError(fn: () => unknown): ConfigValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('loadConfig', () => {
  it('returns typed config with defaults applied', () => {
    const config = loadConfig(commonConfigSchema, validEnv());
    expect(config).toEqual({
      NODE_ENV: 'production',
      PORT: 3000,
      LOG_LEVEL: 'info',
      DATABASE_URL: 'postgres://app:db-password-123@localhost:5432/app',
      DATABASE_SCHEMA: 'gateway',
      DATABASE_POOL_SIZE: 10,
      AMQP_URL: 'amqp://guest:amqp-password-456@localhost:5672',
      AMQP_PREFETCH: 20,
      SHUTDOWN_DRAIN_TIMEOUT_MS: 20_000,
      ENCRYPTION_KEYS: `k1:${key1},k2:${key2}`,
      ENCRYPTION_ACTIVE_KEY_ID: 'k2',
    });
  });

  it('parses explicit values', () => {
    const config = loadConfig(
      commonConfigSchema,
      validEnv({
        PORT: '8080',
        DATABASE_POOL_SIZE: '3',
        SHUTDOWN_DRAIN_TIMEOUT_MS: '30s',
        LOG_LEVEL: 'debug',
      }),
    );
    expect(config.PORT).toBe(8080);
    expect(config.DATABASE_POOL_SIZE).toBe(3);
    expect(config.SHUTDOWN_DRAIN_TIMEOUT_MS).toBe(30_000);
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it('names every bad or missing variable at once, with reasons', () => {
    const error = configError(() =>
      loadConfig(
        commonConfigSchema,
        validEnv({
          DATABASE_URL: undefined,
          PORT: 'abc',
          AMQP_URL: 'http://broker',
          DATABASE_SCHEMA: 'Bad-Schema',
          LOG_LEVEL: 'loud',
          AMQP_PREFETCH: '0',
        }),
      ),
    );
    expect(error.problems.map((problem) => problem.variable).sort()).toEqual([
      'AMQP_PREFETCH',
      'AMQP_URL',
      'DATABASE_SCHEMA',
      'DATABASE_URL',
      'LOG_LEVEL',
      'PORT',
    ]);
    expect(error.message).toContain('Invalid configuration:\n');
    expect(error.message).toContain('  - DATABASE_URL: required');
    expect(error.message).toContain('  - PORT: expected a number between 1 and 65535, got "abc"');
    expect(error.message).toContain('  - AMQP_URL: expected a URL starting with amqp:// or amqps://');
    expect(error.message).toContain(
      '  - LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent',
    );
  });

  it('treats empty strings as unset', () => {
    const error = configError(() => loadConfig(commonConfigSchema, validEnv({ DATABASE_SCHEMA: '' })));
    expect(error.message).toContain('  - DATABASE_SCHEMA: required');
    expect(loadConfig(commonConfigSchema, validEnv({ PORT: '' })).PORT).toBe(3000);
  });

  it('never prints secret values, and masks URL passwords', () => {
    const short = randomBytes(16).toString('base64');
    const error = configError(() =>
      loadConfig(
        commonConfigSchema,
        validEnv({ ENCRYPTION_KEYS: `k1:${short}`, DATABASE_URL: 'mysql://u:db-password-123@h/db' }),
      ),
    );
    expect(error.message).toContain('ENCRYPTION_KEYS: key "k1" must decode to 32 bytes, got 16');
    expect(error.message).not.toContain(short);
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).not.toContain('db-password-123');
    expect(JSON.stringify(error.problems)).not.toContain(short);
  });

  it('rejects an active key id that is not in the key ring', () => {
    const error = configError(() =>
      loadConfig(commonConfigSchema, validEnv({ ENCRYPTION_ACTIVE_KEY_ID: 'k9' })),
    );
    expect(error.problems).toEqual([
      {
        variable: 'ENCRYPTION_ACTIVE_KEY_ID',
        reason: 'must be one of the key ids in ENCRYPTION_KEYS (k1, k2)',
        received: 'k9',
      },
    ]);
  });

  it('supports service schemas extending the common one', () => {
    const schema = commonConfigSchema.extend({
      HUBSPOT_CLIENT_SECRET: secret(z.string().min(10, { error: 'must be at least 10 characters' })),
      TELEGRAM_ENABLED: booleanFlag().default(false),
      HUBSPOT_TIMEOUT_MS: durationMs().default(5000),
      ADMIN_PORT: port().optional(),
    });
    const config = loadConfig(
      schema,
      validEnv({ HUBSPOT_CLIENT_SECRET: 'a-long-client-secret', TELEGRAM_ENABLED: 'true' }),
    );
    expect(config.TELEGRAM_ENABLED).toBe(true);
    expect(config.HUBSPOT_TIMEOUT_MS).toBe(5000);
    expect(config.ADMIN_PORT).toBeUndefined();

    const error = configError(() =>
      loadConfig(schema, validEnv({ HUBSPOT_CLIENT_SECRET: 'short-sec', TELEGRAM_ENABLED: 'yes' })),
    );
    expect(error.message).toContain('  - HUBSPOT_CLIENT_SECRET: must be at least 10 characters\n');
    expect(error.message).not.toContain('short-sec');
    expect(error.message).toContain('  - TELEGRAM_ENABLED: expected "true" or "false", got "yes"');
  });
});
