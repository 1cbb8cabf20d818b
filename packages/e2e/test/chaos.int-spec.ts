import { describe, expect, it } from '@jest/globals';
import { chaosConfigFromEnv, ciChaosConfig } from '../src/chaos/config.js';
import { runChaos } from '../src/chaos/run.js';

describe('chaos: services killed, broker and database cut, sandboxes faulting', () => {
  it('delivers every customer message once and in order, and every reply once and SENT', async () => {
    const report = await runChaos(chaosConfigFromEnv(ciChaosConfig, process.env), (line) => {
      process.stdout.write(`${line}\n`);
    });
    expect(report.result.violations).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.result.inbound.once).toBe(report.config.messages);
    expect(report.result.replies.once).toBeGreaterThan(0);
    expect(report.brokerOutages).toBe(report.config.brokerOutages);
    expect(report.databaseOutages).toBe(report.config.databaseOutages);
  }, 235_000);
});
