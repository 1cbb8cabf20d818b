import { BotApiError } from './bot-api.error.js';

export interface FaultRule {
  /** HTTP status / `error_code` to answer with; omit for latency only. */
  readonly status?: number;
  /** Defaults to Telegram's text for the status (e.g. 429 → `Too Many Requests: retry after N`). */
  readonly description?: string;
  /** For 429: `parameters.retry_after` and the `Retry-After` header; default 5. */
  readonly retryAfter?: number;
  /** For 400 migrate errors: `parameters.migrate_to_chat_id`. */
  readonly migrateToChatId?: number;
  /** 0..1, default 1: the share of matching calls that fail. */
  readonly probability?: number;
  /** Fail only the next N matching calls, then remove the rule. */
  times?: number;
  /** Real milliseconds added before the call is answered. */
  readonly latencyMs?: number;
}

const DEFAULT_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Bad Request: chat not found',
  401: 'Unauthorized',
  403: 'Forbidden: bot was blocked by the user',
  404: 'Not Found',
  409: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Injected failures per bot and method (`*` = every method); method names are case-insensitive. */
export class FaultStore {
  private readonly rules = new Map<string, FaultRule>();

  set(botId: number, method: string, rule: FaultRule): void {
    this.rules.set(`${botId}:${method.toLowerCase()}`, { ...rule });
  }

  clear(botId: number): void {
    for (const key of [...this.rules.keys()]) {
      if (key.startsWith(`${botId}:`)) {
        this.rules.delete(key);
      }
    }
  }

  reset(): void {
    this.rules.clear();
  }

  /** The rule for this call (method first, then `*`), consuming one of its `times`. */
  match(botId: number, method: string): { latencyMs: number; error?: BotApiError } | undefined {
    const key = [`${botId}:${method.toLowerCase()}`, `${botId}:*`].find((candidate) =>
      this.rules.has(candidate),
    );
    const rule = key === undefined ? undefined : this.rules.get(key);
    if (key === undefined || rule === undefined) {
      return undefined;
    }
    const latencyMs = rule.latencyMs ?? 0;
    if (rule.status === undefined || Math.random() >= (rule.probability ?? 1)) {
      return { latencyMs };
    }
    if (rule.times !== undefined) {
      rule.times -= 1;
      if (rule.times <= 0) {
        this.rules.delete(key);
      }
    }
    return { latencyMs, error: faultError(rule, rule.status) };
  }
}

function faultError(rule: FaultRule, status: number): BotApiError {
  if (status === 429) {
    const retryAfter = rule.retryAfter ?? 5;
    return new BotApiError(429, rule.description ?? `Too Many Requests: retry after ${retryAfter}`, {
      retry_after: retryAfter,
    });
  }
  if (rule.migrateToChatId !== undefined) {
    return new BotApiError(
      status,
      rule.description ?? 'Bad Request: group chat was upgraded to a supergroup chat',
      { migrate_to_chat_id: rule.migrateToChatId },
    );
  }
  return new BotApiError(status, rule.description ?? DEFAULT_DESCRIPTIONS[status] ?? `Error ${status}`);
}
