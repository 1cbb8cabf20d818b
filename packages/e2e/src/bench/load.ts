import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Percentile of an ascending array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function summarize(latenciesMs: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
  };
}

export interface LoadRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body: string;
}

export interface LoadResult {
  readonly elapsedMs: number;
  readonly perSecond: number;
  readonly statuses: ReadonlyMap<number, number>;
  readonly errors: number;
  /** Per-request time from when it was due to when its answer was read. */
  readonly ack: LatencySummary;
}

function post(agent: http.Agent, request: LoadRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      request.url,
      { method: 'POST', agent, headers: request.headers },
      (response) => {
        response.resume();
        response.once('end', () => {
          resolve(response.statusCode ?? 0);
        });
        response.once('error', reject);
      },
    );
    outgoing.once('error', reject);
    outgoing.end(request.body);
  });
}

/** Runs `work(i)` for every i below `count`, at most `concurrency` at once, in order of i. */
export async function inParallel(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        await work(i);
      }
    }),
  );
}

/**
 * Sends `count` requests made by `makeRequest(i)`, at most `concurrency` in flight. With `ratePerSecond`, request
 * i is due at start + i / rate and its latency counts from that due time (open loop: queueing shows instead of
 * being hidden by coordinated omission); without, as fast as answers come (closed loop).
 */
export async function runLoad(options: {
  readonly count: number;
  readonly concurrency: number;
  readonly ratePerSecond?: number;
  readonly makeRequest: (i: number) => LoadRequest;
}): Promise<LoadResult> {
  const { count, concurrency, ratePerSecond, makeRequest } = options;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = new Float64Array(count);
  const statuses = new Map<number, number>();
  let errors = 0;
  const started = performance.now();
  await inParallel(count, concurrency, async (i) => {
    const due = ratePerSecond === undefined ? performance.now() : started + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) {
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    try {
      const status = await post(agent, makeRequest(i));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    } catch {
      errors += 1;
    }
    latencies[i] = performance.now() - due;
  });
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { elapsedMs, perSecond: (count * 1000) / elapsedMs, statuses, errors, ack: summarize(latencies) };
}
