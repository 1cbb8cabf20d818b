import { randomBytes } from 'node:crypto';
import { startStack, type ServiceName } from '../stack.js';
import { checkDelivery, diagnose, isComplete, summaryTable, type CheckResult } from './checker.js';
import { seededRandom, type ChaosConfig } from './config.js';
import { deadLetterViolations, readDeadLetters } from './dead-letters.js';
import { cycleFaults, describeDisruption, planDisruptions, runDisruptions } from './disruptions.js';
import { sendInbound, sendReplies, type SentTraffic } from './traffic.js';
import { buildWorld, chaosPortalIds } from './world.js';

export interface ChaosReport {
  readonly config: ChaosConfig;
  readonly result: CheckResult;
  readonly kills: Readonly<Record<string, number>>;
  readonly brokerOutages: number;
  readonly databaseOutages: number;
  readonly faultPhases: number;
  readonly unsentReplies: number;
  readonly trafficSeconds: number;
  readonly settleSeconds: number;
  readonly totalSeconds: number;
  /** Exactly once, in order, every status right, nothing missing. */
  readonly passed: boolean;
}

const FAULT_PHASE_MS = 4_000;
const QUIET_AFTER_COMPLETE_MS = 5_000;

/**
 * The whole stack, every bridge service behind proxies to PostgreSQL and RabbitMQ; customer messages and agent
 * replies while services are SIGKILLed and restarted, the broker and the database vanish and the sandboxes inject
 * faults; then the checker's verdict read from the sandboxes.
 */
export async function runChaos(config: ChaosConfig, log: (line: string) => void): Promise<ChaosReport> {
  const began = Date.now();
  const runId = randomBytes(3).toString('hex');
  log(
    `chaos run ${runId}: ${config.messages} customer messages in ${config.conversations} conversations over ` +
      `${config.portals} portals, ${config.replies} agent replies, ${config.kills} kills, ` +
      `${config.brokerOutages} RabbitMQ and ${config.databaseOutages} PostgreSQL outages of ${config.outageSeconds} s, ` +
      `for ${config.seconds} s (seed ${config.seed})`,
  );
  const stack = await startStack(
    5100,
    {
      'hubspot-sandbox': {
        SANDBOX_RATE_LIMIT_INTERVAL_MS: '1000',
        // The checker reads the status PATCHes from the call log.
        SANDBOX_CALL_LOG_MAX: '200000',
        SANDBOX_REQUEST_LOGS: 'false',
      },
      'provider-sandbox': { SANDBOX_TIME_SCALE: '0.1', SANDBOX_REQUEST_LOGS: 'false' },
      gateway: {
        HUBSPOT_RATE_LIMIT_INTERVAL_MS: '1000',
        HUBSPOT_REQUEST_TIMEOUT_MS: '2000',
        HUBSPOT_CONTACT_LOOKUP: 'false',
      },
      connector: { PROVIDER_REQUEST_TIMEOUT_MS: '2000' },
    },
    { viaProxies: true, adminPortalIds: chaosPortalIds(config.portals) },
  );
  try {
    const world = await buildWorld(stack, runId, config.portals, config.conversations);
    log(
      `stack up and ${config.portals} portals connected after ${((Date.now() - began) / 1000).toFixed(1)} s`,
    );

    const plan = planDisruptions(config, seededRandom(config.seed));
    const traffic: SentTraffic = { inbound: new Map(), updateIds: new Map(), replies: [], unsentReplies: 0 };
    const durationMs = config.seconds * 1000;
    const trafficStarted = Date.now();
    const work = Promise.all([
      sendInbound(world, config.messages, durationMs, traffic),
      sendReplies(world, config.replies, durationMs * 0.15, durationMs * 0.8, traffic),
      runDisruptions(stack, plan, trafficStarted, log),
    ]);
    const [phases, [, , done]] = await Promise.all([cycleFaults(world, FAULT_PHASE_MS, work, log), work]);
    const trafficSeconds = (Date.now() - trafficStarted) / 1000;
    log(
      `traffic and disruptions done after ${trafficSeconds.toFixed(1)} s; faults cleared; ` +
        `waiting up to ${config.settleSeconds} s for every message`,
    );

    const settleStarted = Date.now();
    let result = await checkDelivery(world, traffic);
    let lastProgress = Date.now();
    while (!isComplete(result) && Date.now() - settleStarted < config.settleSeconds * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      result = await checkDelivery(world, traffic);
      if (Date.now() - lastProgress > 10_000) {
        lastProgress = Date.now();
        log(
          `  still missing: ${result.inbound.missing} customer messages, ${result.replies.missing} replies, ` +
            `${result.replies.otherStatus} reply statuses`,
        );
      }
    }
    const settleSeconds = (Date.now() - settleStarted) / 1000;
    if (isComplete(result)) {
      // A duplicate may still be on its way: look again once everything has been quiet for a moment.
      await new Promise((resolve) => setTimeout(resolve, QUIET_AFTER_COMPLETE_MS));
      result = await checkDelivery(world, traffic);
    }
    const kills: Record<string, number> = {};
    for (const { disruption } of done) {
      if (disruption.kind === 'kill') {
        kills[disruption.service] = (kills[disruption.service] ?? 0) + 1;
      }
    }
    const deadLetters = await readDeadLetters(stack);
    result.violations.push(...deadLetterViolations(deadLetters));
    for (const { disruption, startedAtMs, failure } of done) {
      if (failure !== undefined) {
        result.violations.unshift(
          `${disruption.kind === 'kill' ? disruption.service : disruption.kind} restarted at t+${(startedAtMs / 1000).toFixed(1)} s did not recover: ${failure}`,
        );
      }
    }
    const report: ChaosReport = {
      config,
      result,
      kills,
      brokerOutages: done.filter(({ disruption }) => disruption.kind === 'broker-outage').length,
      databaseOutages: done.filter(({ disruption }) => disruption.kind === 'database-outage').length,
      faultPhases: phases.length,
      unsentReplies: traffic.unsentReplies,
      trafficSeconds,
      settleSeconds,
      totalSeconds: (Date.now() - began) / 1000,
      passed: result.violations.length === 0 && isComplete(result),
    };
    log(`\n${summaryTable(result)}\n`);
    log(
      `kills ${JSON.stringify(kills)}, RabbitMQ outages ${report.brokerOutages}, PostgreSQL outages ` +
        `${report.databaseOutages}, fault phases ${report.faultPhases}; traffic ${trafficSeconds.toFixed(0)} s, ` +
        `settled in ${settleSeconds.toFixed(0)} s, total ${report.totalSeconds.toFixed(0)} s; ` +
        `${deadLetters.reduce((sum, { letters }) => sum + letters.length, 0)} dead letters` +
        (traffic.unsentReplies > 0 ? `; ${traffic.unsentReplies} replies not sent (no thread yet)` : ''),
    );
    if (!report.passed) {
      log(`\n${result.violations.length} violations:`);
      for (const violation of result.violations.slice(0, 100)) {
        log(`  - ${violation}`);
      }
      log('\nwhat the sandboxes saw of them (times relative to the start of the traffic):');
      for (const line of await diagnose(world, traffic, result, trafficStarted)) {
        log(`  ${line}`);
      }
      log(
        `\ndisruptions: ${done.map(({ disruption, startedAtMs }) => `t+${(startedAtMs / 1000).toFixed(1)} s ${describeDisruption(disruption)}`).join('; ')}`,
      );
      for (const name of ['gateway', 'connector', 'router'] satisfies ServiceName[]) {
        const tail = stack
          .logs(name)
          .split('\n')
          .slice(-15)
          .map((line) => line.slice(0, 400));
        log(`\n--- last output of ${name} ---\n${tail.join('\n')}`);
      }
    }
    return report;
  } finally {
    await stack.stop();
  }
}
