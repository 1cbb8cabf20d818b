import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SandboxControlClient } from './client/sandbox-control.client.js';
import { startHubSpotSandbox, type RunningHubSpotSandbox } from './start-sandbox.js';

describe('startHubSpotSandbox', () => {
  let sandbox: RunningHubSpotSandbox;

  beforeAll(async () => {
    sandbox = await startHubSpotSandbox(
      { LOG_LEVEL: 'silent', SANDBOX_WEBHOOK_TIME_SCALE: '0.001' },
      { port: 0 },
    );
  });
  afterAll(() => sandbox.close());

  it('listens on a free port of 127.0.0.1 with the given environment', async () => {
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.url).not.toMatch(/:0$/);
    expect((await fetch(`${sandbox.url}/health/live`)).status).toBe(200);
    const settings = await new SandboxControlClient(sandbox.url).settings();
    expect(settings.webhooks).toEqual({ timeScale: 0.001 });
  });
});
