import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFuzzStack, type FuzzStack } from '../src/fuzz/fuzz-stack.js';
import { poisonTheQueues } from '../src/fuzz/poison.js';
import { Random } from '../src/fuzz/random.js';
import { checkHealth, formatReport, fuzzEndpoints, poisonFailures, violationsOf } from '../src/fuzz/run.js';
import { endpoints } from '../src/fuzz/targets.js';

// A small run for CI (npm run fuzz runs the big one): a fresh seed each time unless FUZZ_SEED is set, printed
// on failure so the run can be replayed.
const options = {
  seed: Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31)),
  cases: Number(process.env['FUZZ_CASES'] ?? 30),
  concurrency: 6,
  timeoutMs: 20_000,
};

describe('fuzz: hostile input to every public endpoint, poison messages on the bus', () => {
  let fuzzStack: FuzzStack;
  let starting: Promise<FuzzStack> | undefined;

  // The stack start is most of the run (two vhosts, three migrations, five processes, OAuth, three accounts).
  beforeAll(async () => {
    starting = startFuzzStack();
    fuzzStack = await starting;
  }, 280_000);

  // Also when the start outlived its hook: stop whatever it brought up rather than leaving processes behind.
  afterAll(async () => {
    const started = await starting?.catch(() => undefined);
    await started?.stop();
  }, 120_000);

  it('never answers 5xx, resets or hangs; refuses with 4xx problems; dead-letters poison with its reason; stays ready', async () => {
    const targets = endpoints(fuzzStack.context);
    expect(targets.length).toBeGreaterThanOrEqual(24);
    const startedAt = Date.now();
    const reports = await fuzzEndpoints(targets, options);
    const fuzzedAt = Date.now();
    const poison = await poisonTheQueues(fuzzStack.amqpUrl, new Random(options.seed).fork('poison'), {
      keys: 4,
    });
    const health = await checkHealth(fuzzStack.stack.urls);
    process.stdout.write(
      `${formatReport(options, reports, poison, health)}\n\nrequests ${fuzzedAt - startedAt} ms, poison ${Date.now() - fuzzedAt} ms\n`,
    );

    expect(reports.every((report) => report.cases === options.cases)).toBe(true);
    expect({ seed: options.seed, violations: violationsOf(reports) }).toEqual({
      seed: options.seed,
      violations: [],
    });
    expect(poison.length).toBeGreaterThan(0);
    expect({ seed: options.seed, poison: poisonFailures(poison) }).toEqual({
      seed: options.seed,
      poison: [],
    });
    expect(health.filter((item) => !item.ok)).toEqual([]);
  }, 200_000);
});
