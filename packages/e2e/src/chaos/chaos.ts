// npm run chaos — customer messages and agent replies through every service while the services are SIGKILLed and
// restarted, RabbitMQ and PostgreSQL vanish (through proxies) and the sandboxes inject 5xx, 429 and timeouts; then
// an independent check of the sandboxes. Knobs: CHAOS_MESSAGES, CHAOS_CONVERSATIONS, CHAOS_PORTALS, CHAOS_REPLIES,
// CHAOS_KILLS, CHAOS_BROKER_OUTAGES, CHAOS_DB_OUTAGES, CHAOS_OUTAGE_SECONDS, CHAOS_SECONDS, CHAOS_SETTLE_SECONDS,
// CHAOS_SEED (see docs/chaos.md). Exits 1 on any violation.
import { chaosConfigFromEnv, defaultChaosConfig } from './config.js';
import { runChaos } from './run.js';

const report = await runChaos(chaosConfigFromEnv(defaultChaosConfig, process.env), (line) => {
  process.stdout.write(`${line}\n`);
});
process.stdout.write(report.passed ? 'chaos run passed\n' : 'chaos run FAILED\n');
process.exitCode = report.passed ? 0 : 1;
