import type { PoisonOutcome } from './poison.js';
import { Random } from './random.js';
import { judge, send } from './send.js';
import type { Endpoint, FuzzCase } from './targets.js';

export interface FuzzOptions {
  readonly seed: number;
  /** Cases per endpoint. */
  readonly cases: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
}

export interface Violation {
  readonly label: string;
  readonly detail: string;
  readonly method: string;
  readonly url: string;
}

export interface EndpointReport {
  readonly name: string;
  cases: number;
  readonly statuses: Map<string, number>;
  readonly violations: Violation[];
  /** 400 and 422 answers with a problem body, and how many of them name the offending field. */
  problems: number;
  namingField: number;
}

/** Sends `options.cases` hostile requests to every endpoint, endpoints interleaved, and judges every answer. */
export async function fuzzEndpoints(
  endpoints: readonly Endpoint[],
  options: FuzzOptions,
): Promise<EndpointReport[]> {
  const root = new Random(options.seed);
  const sources = endpoints.map((target) => root.fork(target.name));
  const reports = endpoints.map<EndpointReport>((target) => ({
    name: target.name,
    cases: 0,
    statuses: new Map(),
    violations: [],
    problems: 0,
    namingField: 0,
  }));
  const queue: number[] = [];
  for (let round = 0; round < options.cases; round++) {
    endpoints.forEach((_, index) => queue.push(index));
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queue.length) {
      const index = queue[next++] as number;
      const target = endpoints[index] as Endpoint;
      const report = reports[index] as EndpointReport;
      // Generated when dequeued, in order per endpoint, so a seed always yields the same cases.
      const fuzzCase: FuzzCase = target.makeCase(sources[index] as Random);
      const answer = await send(fuzzCase.request, options.timeoutMs);
      const verdict = judge(fuzzCase, target.refusal, answer);
      report.cases += 1;
      report.statuses.set(verdict.bucket, (report.statuses.get(verdict.bucket) ?? 0) + 1);
      if (verdict.namesField !== undefined) {
        report.problems += 1;
        report.namingField += verdict.namesField ? 1 : 0;
      }
      if (verdict.violation !== undefined) {
        report.violations.push({
          label: fuzzCase.label,
          detail: verdict.violation,
          method: fuzzCase.request.method,
          url: fuzzCase.request.url.slice(0, 300),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return reports;
}

export interface HealthReport {
  readonly service: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** `/health/ready` of every service: a crashed process answers nothing, a sick one not 200. */
export async function checkHealth(urls: Readonly<Record<string, string>>): Promise<HealthReport[]> {
  return Promise.all(
    Object.entries(urls).map(async ([service, url]) => {
      try {
        const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
        return {
          service,
          ok: response.status === 200,
          detail: `${response.status} ${(await response.text()).slice(0, 200)}`,
        };
      } catch (error) {
        return { service, ok: false, detail: `no answer: ${(error as Error).message}` };
      }
    }),
  );
}

/** Every poison message that did not reach the dead-letter queue of a group it was routed to, with a reason. */
export function poisonFailures(outcomes: readonly PoisonOutcome[]): string[] {
  return outcomes.flatMap((outcome) =>
    Object.entries(outcome.deadLetters)
      .filter(([, letter]) => letter === undefined || !letter.error || !letter.errorClass)
      .map(
        ([group, letter]) =>
          `${outcome.routingKey} "${outcome.label}" (${outcome.messageId}): ${
            letter === undefined ? `not in ${group}.dlq` : `in ${group}.dlq without a reason`
          }`,
      ),
  );
}

export function violationsOf(reports: readonly EndpointReport[]): string[] {
  return reports.flatMap((report) =>
    report.violations.map((violation) => `${report.name} [${violation.label}] → ${violation.detail}`),
  );
}

/** The per-endpoint summary `npm run fuzz` prints. */
export function formatReport(
  options: FuzzOptions,
  reports: readonly EndpointReport[],
  poison: readonly PoisonOutcome[],
  health: readonly HealthReport[],
): string {
  const lines: string[] = [`# fuzz run — seed ${options.seed}, ${options.cases} cases per endpoint`, ''];
  lines.push(
    '| endpoint | cases | answers | 400/422 problems naming a field | violations |',
    '|---|---|---|---|---|',
  );
  for (const report of reports) {
    const statuses = [...report.statuses.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]) => `${status}×${count}`)
      .join(' ');
    lines.push(
      `| ${report.name} | ${report.cases} | ${statuses} | ${report.namingField}/${report.problems} | ${report.violations.length} |`,
    );
  }
  const violations = violationsOf(reports);
  lines.push('', `## violations (${violations.length})`);
  lines.push(...violations.slice(0, 50).map((line) => `- ${line.slice(0, 400)}`));
  lines.push('', `## poison messages (${poison.length})`);
  const byLabel = new Map<string, { total: number; dead: number; reasons: Set<string> }>();
  for (const outcome of poison) {
    const entry = byLabel.get(outcome.label) ?? { total: 0, dead: 0, reasons: new Set<string>() };
    for (const letter of Object.values(outcome.deadLetters)) {
      entry.total += 1;
      if (letter?.error) {
        entry.dead += 1;
        entry.reasons.add(`${letter.errorClass ?? '?'}: ${letter.error.slice(0, 90)}`);
      }
    }
    byLabel.set(outcome.label, entry);
  }
  for (const [label, entry] of byLabel) {
    lines.push(
      `- ${label}: ${entry.dead}/${entry.total} dead-lettered; e.g. ${[...entry.reasons][0] ?? 'no reason'}`,
    );
  }
  const missing = poisonFailures(poison);
  lines.push(...missing.slice(0, 30).map((line) => `  - MISSING ${line}`));
  lines.push('', '## health after the run');
  lines.push(
    ...health.map((item) => `- ${item.service}: ${item.ok ? 'ready' : `NOT READY (${item.detail})`}`),
  );
  return lines.join('\n');
}
