// npm run fuzz — malformed and hostile input to every public endpoint of a whole stack (HubSpot webhooks,
// provider webhooks, the popup, the admin APIs, the media links), then poison messages straight onto the bus.
// Passes when no answer is a 5xx, a reset or a hang, every refusal is a 4xx problem (or a page, for pages a person
// sees), every poison message is dead-lettered with its reason, and every service is still ready.
// Knobs: FUZZ_SEED (random), FUZZ_CASES per endpoint (300), FUZZ_CONCURRENCY (8), FUZZ_TIMEOUT_MS (20000).
import { startFuzzStack } from './fuzz-stack.js';
import { poisonTheQueues } from './poison.js';
import { Random } from './random.js';
import { checkHealth, formatReport, fuzzEndpoints, poisonFailures, violationsOf } from './run.js';
import { endpoints } from './targets.js';

const options = {
  seed: Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31)),
  cases: Number(process.env['FUZZ_CASES'] ?? 300),
  concurrency: Number(process.env['FUZZ_CONCURRENCY'] ?? 8),
  timeoutMs: Number(process.env['FUZZ_TIMEOUT_MS'] ?? 20_000),
};
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

log(`starting the stack (seed ${options.seed}; replay with FUZZ_SEED=${options.seed})`);
const bootedAt = Date.now();
const fuzzStack = await startFuzzStack();
log(`stack ready with a portal and three accounts in ${((Date.now() - bootedAt) / 1000).toFixed(1)} s`);
// Interrupted: stop the services and drop the schemas and vhosts rather than leaving them behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the stack`);
    void fuzzStack.stop().finally(() => process.exit(130));
  });
}
let failed: boolean;
try {
  const targets = endpoints(fuzzStack.context);
  log(`fuzzing ${targets.length} endpoints × ${options.cases} cases`);
  const startedAt = Date.now();
  const reports = await fuzzEndpoints(targets, options);
  log(
    `sent ${targets.length * options.cases} requests in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; poisoning the queues`,
  );
  const poisonedAt = Date.now();
  const poison = await poisonTheQueues(fuzzStack.amqpUrl, new Random(options.seed).fork('poison'));
  log(`poison messages dead-lettered (or given up on) in ${((Date.now() - poisonedAt) / 1000).toFixed(1)} s`);
  const health = await checkHealth(fuzzStack.stack.urls);
  log(formatReport(options, reports, poison, health));
  failed =
    violationsOf(reports).length > 0 || poisonFailures(poison).length > 0 || health.some((item) => !item.ok);
  if (failed) {
    for (const item of health.filter((entry) => !entry.ok)) {
      log(`\n--- last log lines of ${item.service} ---\n${fuzzStack.stack.logs(item.service as never)}`);
    }
  }
} finally {
  await fuzzStack.stop();
}
log(failed ? '\nFUZZ FAILED' : '\nfuzz passed');
process.exitCode = failed ? 1 : 0;
