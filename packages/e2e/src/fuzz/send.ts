import { request as httpRequest } from 'node:http';
import type { FuzzCase, FuzzRequest, Refusal } from './targets.js';

export interface FuzzAnswer {
  /** Undefined when no answer came (the connection failed or the request timed out). */
  readonly status?: number;
  readonly contentType: string;
  readonly body: string;
  readonly failure?: string;
}

/**
 * Sends the bytes exactly as built (no fetch normalization), on a fresh connection. An answer that arrives while
 * the body is still being written counts (servers may refuse an oversized body early and close).
 */
export function send(request: FuzzRequest, timeoutMs: number): Promise<FuzzAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: FuzzAnswer): void => {
      if (!settled) {
        settled = true;
        resolve(answer);
      }
    };
    let outgoing;
    try {
      outgoing = httpRequest(request.url, {
        method: request.method,
        headers: {
          ...request.headers,
          ...(request.body === undefined ? {} : { 'content-length': String(request.body.length) }),
        },
        agent: false,
        timeout: timeoutMs,
      });
    } catch (error) {
      finish({ contentType: '', body: '', failure: `unsendable: ${(error as Error).message}` });
      return;
    }
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 8 * 1024 * 1024) {
          chunks.push(chunk);
        }
      });
      const done = (): void => {
        finish({
          status: response.statusCode,
          contentType: response.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
      };
      response.on('end', done);
      response.on('error', done);
      response.on('aborted', done);
    });
    outgoing.on('timeout', () => {
      finish({ contentType: '', body: '', failure: `no answer within ${timeoutMs} ms (hang)` });
      outgoing.destroy();
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      finish({ contentType: '', body: '', failure: `connection failed: ${error.code ?? error.message}` });
    });
    outgoing.end(request.body);
  });
}

export interface Verdict {
  /** What the answer proves wrong, or undefined when it is an acceptable answer. */
  readonly violation?: string;
  /** The status, or `reset`/`hang`/`unsendable` when there was none. */
  readonly bucket: string;
  /** For a 400 or 422 problem: whether it names the offending field (`errors[].field`, or a name in its detail). */
  readonly namesField?: boolean;
  /** The problem `code`, for the summary. */
  readonly code?: string;
}

/** Node's HTTP parser refuses some requests itself (too-large headers, malformed framing) with a bare status. */
const PARSER_REFUSALS = new Set([400, 413, 414, 431]);

function problemOf(answer: FuzzAnswer): Record<string, unknown> | undefined {
  if (!/^application\/(problem\+)?json/i.test(answer.contentType)) {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(answer.body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Checks one answer against the standard: never a 5xx, a hang or a reset; every refusal a clear 4xx. */
export function judge(fuzzCase: FuzzCase, refusal: Refusal, answer: FuzzAnswer): Verdict {
  if (answer.failure !== undefined) {
    if (answer.failure.startsWith('unsendable')) {
      return { bucket: 'unsendable' };
    }
    return { bucket: answer.failure.includes('hang') ? 'hang' : 'reset', violation: answer.failure };
  }
  const status = answer.status ?? 0;
  const bucket = String(status);
  if (status >= 500) {
    return { bucket, violation: `answered ${status}: ${answer.body.slice(0, 200)}` };
  }
  if (fuzzCase.mustConceal !== undefined && status < 400 && answer.body.includes(fuzzCase.mustConceal.text)) {
    return {
      bucket,
      violation: `revealed "${fuzzCase.mustConceal.text}" to a request with ${fuzzCase.mustConceal.reason}`,
    };
  }
  if (fuzzCase.mustRefuse !== undefined && status < 400) {
    return { bucket, violation: `accepted a request with ${fuzzCase.mustRefuse} (${status})` };
  }
  if (status < 400) {
    return { bucket };
  }
  if (answer.contentType === '' && answer.body === '' && PARSER_REFUSALS.has(status)) {
    return { bucket: `${bucket} (HTTP parser)` };
  }
  const problem = problemOf(answer);
  if (problem !== undefined) {
    if (
      problem['status'] !== status ||
      typeof problem['detail'] !== 'string' ||
      typeof problem['code'] !== 'string'
    ) {
      return {
        bucket,
        violation: `a ${status} whose JSON body is not a problem: ${answer.body.slice(0, 200)}`,
      };
    }
    const errors = Array.isArray(problem['errors']) ? (problem['errors'] as { field?: unknown }[]) : [];
    const namesField =
      errors.some((error) => typeof error.field === 'string' && error.field !== '') ||
      /(["'`])[A-Za-z_][\w.[\]]*\1|\b\w+(\.\w+)+\b/.test(problem['detail']);
    // Only a refusal of the input (400, 422) is expected to name a field; 401, 403 and 404 name none.
    return { bucket, code: problem['code'], ...(status === 400 || status === 422 ? { namesField } : {}) };
  }
  if (refusal === 'page' && /^text\/html/i.test(answer.contentType) && answer.body.trim() !== '') {
    return { bucket: `${bucket} (page)` };
  }
  return {
    bucket,
    violation: `a ${status} without a problem body (${answer.contentType || 'no content type'}): ${answer.body.slice(0, 200)}`,
  };
}
