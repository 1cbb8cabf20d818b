// HTTP load generation for the benchmarks: keep-alive sockets, closed loop (as fast as answers come) or open loop
// (a fixed rate, so queueing shows in the latency instead of being hidden by coordinated omission).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** Percentile of an ascending array of numbers (nearest rank). */
export function percentile(sorted, p) {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summarize(latenciesMs) {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN,
  };
}

/** One request; resolves with the status code once the whole answer has been read. */
export function send(agent, url, { method = 'POST', headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, agent, headers }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('error', reject);
    });
    request.once('error', reject);
    request.end(body);
  });
}

/**
 * Sends `count` requests made by `makeRequest(i)`, at most `concurrency` in flight; when `ratePerSecond` is set,
 * request i is due at start + i / rate and its latency counts from that due time (open loop).
 * Returns per-request acknowledgement latencies, status counts and the elapsed time.
 */
export async function runLoad({ count, concurrency = 64, ratePerSecond, makeRequest }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = new Float64Array(count);
  const statuses = new Map();
  let next = 0;
  let errors = 0;
  const started = performance.now();
  async function worker() {
    for (;;) {
      const i = next++;
      if (i >= count) {
        return;
      }
      const due = ratePerSecond === undefined ? performance.now() : started + (i * 1000) / ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) {
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const { url, ...options } = makeRequest(i);
      try {
        const status = await send(agent, url, options);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      } catch {
        errors += 1;
      }
      latencies[i] = performance.now() - due;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { elapsedMs, perSecond: (count * 1000) / elapsedMs, statuses, errors, ack: summarize(latencies) };
}
