import { ConfigValidationError } from '@inbox-bridge/service-kit';
import { describe, expect, it } from '@jest/globals';
import { loadSandboxConfig } from './sandbox.config.js';

describe('loadSandboxConfig', () => {
  it('has working defaults: port 4020, real time, strict webhooks, rate limits on', () => {
    expect(loadSandboxConfig({})).toMatchObject({
      PORT: 4020,
      SANDBOX_TIME_SCALE: 1,
      SANDBOX_ALLOW_HTTP_WEBHOOKS: false,
      TELEGRAM_ALLOW_INSECURE_WEBHOOKS: false,
      TELEGRAM_RATE_LIMITS: true,
      TELEGRAM_CHAT_RATE_PER_SECOND: 1,
      TELEGRAM_GLOBAL_RATE_PER_SECOND: 30,
      TELEGRAM_UPDATE_TTL_MS: 86_400_000,
      TWILIO_WEBHOOK_TIMEOUT_MS: 15_000,
      TWILIO_SEND_DELAY_MS: 1_000,
      TWILIO_DELIVERY_DELAY_MS: 3_000,
    });
  });

  it('parses the knobs and names every bad variable', () => {
    expect(
      loadSandboxConfig({ SANDBOX_TIME_SCALE: '0.01', TELEGRAM_WEBHOOK_TIMEOUT_MS: '5s' }),
    ).toMatchObject({
      SANDBOX_TIME_SCALE: 0.01,
      TELEGRAM_WEBHOOK_TIMEOUT_MS: 5000,
    });
    expect(() => loadSandboxConfig({ SANDBOX_TIME_SCALE: '0', TELEGRAM_RATE_LIMITS: 'yes' })).toThrow(
      ConfigValidationError,
    );
  });
});
