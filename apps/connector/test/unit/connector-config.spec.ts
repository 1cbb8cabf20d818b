import { ConfigValidationError, generateTransitKeyPair } from '@inbox-bridge/service-kit';
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import {
  DEV_CREDENTIALS_TRANSIT_PRIVATE_KEYS,
  DEV_MEDIA_LINK_SECRET,
  loadConnectorConfig,
} from '../../src/config/connector.config.js';

const env = (overrides: Record<string, string> = {}) => ({
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  DATABASE_SCHEMA: 'connector',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  ENCRYPTION_ACTIVE_KEY_ID: 'k1',
  ...overrides,
});

const origins = [
  'CONNECTOR_PUBLIC_BASE_URL',
  'TELEGRAM_API_BASE_URL',
  'TWILIO_API_BASE_URL',
  'TWILIO_MESSAGING_API_BASE_URL',
];
const httpsOrigins = {
  CONNECTOR_PUBLIC_BASE_URL: 'https://bridge.example.com',
  TELEGRAM_API_BASE_URL: 'https://api.telegram.org',
  TWILIO_API_BASE_URL: 'https://api.twilio.com',
  TWILIO_MESSAGING_API_BASE_URL: 'https://messaging.twilio.com',
};

function problemsOf(load: () => unknown): readonly { variable: string }[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      return error.problems;
    }
    throw error;
  }
  return [];
}

const productionSecrets = {
  MEDIA_LINK_SECRET: 'x'.repeat(40),
  CREDENTIALS_TRANSIT_PRIVATE_KEYS: generateTransitKeyPair('k1').privateKey,
};

describe('connector config', () => {
  it('requires a real MEDIA_LINK_SECRET in production and names it', () => {
    expect(() => loadConnectorConfig(env())).toThrow(ConfigValidationError);
    expect(() => loadConnectorConfig(env({ MEDIA_LINK_SECRET: DEV_MEDIA_LINK_SECRET }))).toThrow(
      /MEDIA_LINK_SECRET/,
    );
    expect(() => loadConnectorConfig(env({ MEDIA_LINK_SECRET: 'short', NODE_ENV: 'development' }))).toThrow(
      /MEDIA_LINK_SECRET/,
    );
  });

  it('requires its own credentials transit keys in production, without the development key, and names them', () => {
    const own = generateTransitKeyPair('k1').privateKey;
    const production = { MEDIA_LINK_SECRET: 'x'.repeat(40), ...httpsOrigins };
    expect(() => loadConnectorConfig(env(production))).toThrow(/CREDENTIALS_TRANSIT_PRIVATE_KEYS: required/);
    const devKey = DEV_CREDENTIALS_TRANSIT_PRIVATE_KEYS.replace(/^dev:/, 'renamed:');
    expect(() =>
      loadConnectorConfig(env({ ...production, CREDENTIALS_TRANSIT_PRIVATE_KEYS: `${own},${devKey}` })),
    ).toThrow(/CREDENTIALS_TRANSIT_PRIVATE_KEYS: must not hold the development default/);
    expect(() =>
      loadConnectorConfig(env({ ...production, CREDENTIALS_TRANSIT_PRIVATE_KEYS: 'k1:c2hvcnQ=' })),
    ).toThrow(/CREDENTIALS_TRANSIT_PRIVATE_KEYS: key "k1" must decode to 32 bytes/);
    expect(
      loadConnectorConfig(env({ ...production, CREDENTIALS_TRANSIT_PRIVATE_KEYS: own }))
        .CREDENTIALS_TRANSIT_PRIVATE_KEYS,
    ).toBe(own);
  });

  it('keeps the message ledger 30 days by default and refuses a retention under 72 h, naming the variable', () => {
    const dev = env({ NODE_ENV: 'development' });
    expect(loadConnectorConfig(dev).MESSAGE_LEDGER_RETENTION_MS).toBe(30 * 24 * 3_600_000);
    expect(
      loadConnectorConfig({ ...dev, MESSAGE_LEDGER_RETENTION_MS: '72h' }).MESSAGE_LEDGER_RETENTION_MS,
    ).toBe(72 * 3_600_000);
    expect(() => loadConnectorConfig({ ...dev, MESSAGE_LEDGER_RETENTION_MS: '48h' })).toThrow(
      /MESSAGE_LEDGER_RETENTION_MS.*at least 72h/s,
    );
  });

  it('defaults to the provider sandbox and allows loopback only outside production', () => {
    const dev = loadConnectorConfig(env({ NODE_ENV: 'development' }));
    expect(dev.TELEGRAM_API_BASE_URL).toBe('http://127.0.0.1:4020');
    expect(dev.TWILIO_API_BASE_URL).toBe('http://127.0.0.1:4020');
    expect(dev.SSRF_ALLOWED_HOSTS).toContain('127.0.0.1');
    const prod = loadConnectorConfig(env({ ...productionSecrets, ...httpsOrigins }));
    expect(prod.SSRF_ALLOWED_HOSTS).toEqual([]);
    expect(
      loadConnectorConfig(
        env({ ...productionSecrets, ...httpsOrigins, SSRF_ALLOWED_HOSTS: 'Sandbox.Local, 10.0.0.5' }),
      ).SSRF_ALLOWED_HOSTS,
    ).toEqual(['sandbox.local', '10.0.0.5']);
  });

  it('keeps 0 where it means something (reconciliation off, at once) and refuses it for a timeout', () => {
    const dev = env({ NODE_ENV: 'development' });
    const config = loadConnectorConfig({
      ...dev,
      INBOUND_RECONCILE_INTERVAL_MS: '0',
      INBOUND_RECONCILE_SETTLE_MS: '0',
      DELIVERY_STATUS_CHECK_AFTER_MS: '0',
    });
    expect([
      config.INBOUND_RECONCILE_INTERVAL_MS,
      config.INBOUND_RECONCILE_SETTLE_MS,
      config.DELIVERY_STATUS_CHECK_AFTER_MS,
    ]).toEqual([0, 0, 0]);
    expect(() => loadConnectorConfig({ ...dev, PROVIDER_REQUEST_TIMEOUT_MS: '0' })).toThrow(
      /PROVIDER_REQUEST_TIMEOUT_MS.*at least 1 ms/s,
    );
    expect(() => loadConnectorConfig({ ...dev, INBOUND_RECONCILE_INTERVAL_MS: '600h' })).toThrow(
      /INBOUND_RECONCILE_INTERVAL_MS.*at most 2147483647 ms/s,
    );
  });

  it('in production, requires https provider and public origins: unset (the sandbox, this machine) or http, each is named', () => {
    const production = env(productionSecrets);
    const variablesOf = (overrides: Record<string, string>) =>
      problemsOf(() => loadConnectorConfig({ ...production, ...overrides })).map(
        (problem) => problem.variable,
      );
    expect(variablesOf({})).toEqual(origins);
    expect(
      variablesOf({
        CONNECTOR_PUBLIC_BASE_URL: 'http://bridge.example.com',
        TELEGRAM_API_BASE_URL: 'http://127.0.0.1:4020',
        TWILIO_API_BASE_URL: 'http://api.twilio.com',
        TWILIO_MESSAGING_API_BASE_URL: 'http://messaging.twilio.com',
      }),
    ).toEqual(origins);
    expect(variablesOf({ ...httpsOrigins, TWILIO_API_BASE_URL: 'http://api.twilio.com' })).toEqual([
      'TWILIO_API_BASE_URL',
    ]);
  });
});
