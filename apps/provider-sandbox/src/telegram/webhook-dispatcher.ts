import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { appendBounded } from '../common/bounded-log.js';
import { BotApiError } from './bot-api.error.js';
import type { BotRecord } from './stores/bot.store.js';
import type { PendingUpdate } from './stores/webhook.store.js';
import { TelegramState } from './telegram.state.js';
import type { TgUpdate } from './telegram.types.js';

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_AFTER_MS = 3_600_000;

interface Poller {
  readonly wake: () => void;
  readonly conflict: () => void;
}

/**
 * Delivers queued updates like Telegram's WebhookActor (docs/providers-api.md §1.4): one JSON `Update`
 * per POST, per-chat FIFO with at most one update in flight per chat, chats in parallel up to
 * `max_connections`, retry after 1 s doubling up to a random 60–120 s cap (or the receiver's
 * `Retry-After`, clamped to 1 h), all delays multiplied by the time scale; expired updates are dropped.
 * Without a webhook the queue waits for `getUpdates`.
 */
@Injectable()
export class WebhookDispatcher implements OnModuleDestroy {
  private readonly logger = new Logger('WebhookDispatcher');
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly pollers = new Map<number, Poller>();
  private closed = false;

  constructor(private readonly state: TelegramState) {}

  /** Queues an update of `kind` (unless filtered by `allowed_updates`); returns it with its `update_id`. */
  publish(bot: BotRecord, kind: string, payload: unknown, queueKey: string): TgUpdate | undefined {
    if (!this.state.webhooks.accepts(bot.id, kind)) {
      return undefined;
    }
    const update: TgUpdate = { update_id: bot.nextUpdateId++, [kind]: payload };
    const now = this.state.clock.nowMs();
    this.state.webhooks.enqueue(bot.id, {
      update,
      kind,
      queueKey,
      expiresAt: now + this.state.clock.scaled(this.state.config.TELEGRAM_UPDATE_TTL_MS),
      attempts: 0,
      nextAttemptAt: now,
      inFlight: false,
    });
    this.pollers.get(bot.id)?.wake();
    this.kick(bot.id);
    return update;
  }

  /** Starts every delivery that may start now and schedules a wake-up for the next retry. */
  kick(botId: number): void {
    const existing = this.timers.get(botId);
    if (existing !== undefined) {
      clearTimeout(existing);
      this.timers.delete(botId);
    }
    const { settings, pending } = this.state.webhooks.state(botId);
    if (this.closed || settings.url === '') {
      return;
    }
    const now = this.state.clock.nowMs();
    for (const expired of pending.filter((item) => !item.inFlight && item.expiresAt <= now)) {
      this.state.webhooks.remove(botId, expired.update.update_id);
    }
    let inFlight = pending.filter((item) => item.inFlight).length;
    const heads = new Set<string>();
    let nextWake = Number.POSITIVE_INFINITY;
    for (const item of [...pending]) {
      if (heads.has(item.queueKey)) {
        continue;
      }
      heads.add(item.queueKey);
      if (item.inFlight) {
        continue;
      }
      if (item.nextAttemptAt > now) {
        nextWake = Math.min(nextWake, item.nextAttemptAt);
        continue;
      }
      if (inFlight >= settings.maxConnections) {
        break;
      }
      inFlight += 1;
      item.inFlight = true;
      void this.deliver(botId, item, settings.url, settings.secretToken);
    }
    if (Number.isFinite(nextWake)) {
      const timer = setTimeout(() => {
        this.timers.delete(botId);
        this.kick(botId);
      }, nextWake - now);
      timer.unref();
      this.timers.set(botId, timer);
    }
  }

  /**
   * Long polling: resolves when an update arrives or after `timeoutMs`. A newer poll for the same bot
   * makes the older one fail with Telegram's 409 "terminated by other getUpdates request".
   */
  waitForUpdates(botId: number, timeoutMs: number): Promise<void> {
    this.terminateWaitingPoll(botId);
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: BotApiError) => {
        clearTimeout(timer);
        if (this.pollers.get(botId) === poller) {
          this.pollers.delete(botId);
        }
        if (error === undefined) {
          resolve();
        } else {
          reject(error);
        }
      };
      const poller: Poller = {
        wake: () => {
          finish();
        },
        conflict: () => {
          finish(
            BotApiError.conflict(
              'terminated by other getUpdates request; make sure that only one bot instance is running',
            ),
          );
        },
      };
      const timer = setTimeout(() => {
        finish();
      }, timeoutMs);
      timer.unref();
      this.pollers.set(botId, poller);
    });
  }

  /** Any new `getUpdates` ends a long poll still waiting for the same bot (409). */
  terminateWaitingPoll(botId: number): void {
    this.pollers.get(botId)?.conflict();
  }

  reset(): void {
    for (const timer of this.timers.values()) {
      clearTimeout(timer);
    }
    this.timers.clear();
    for (const poller of this.pollers.values()) {
      poller.wake();
    }
  }

  onModuleDestroy(): void {
    this.closed = true;
    this.reset();
  }

  private async deliver(
    botId: number,
    item: PendingUpdate,
    url: string,
    secretToken?: string,
  ): Promise<void> {
    item.attempts += 1;
    const target = new URL(url);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (secretToken !== undefined) {
      headers['X-Telegram-Bot-Api-Secret-Token'] = secretToken;
    }
    if (target.username !== '' || target.password !== '') {
      const credentials = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
      headers.Authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
      target.username = '';
      target.password = '';
    }
    let failure: { message: string; retryAfterMs?: number } | undefined;
    let status: number | undefined;
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers,
        body: JSON.stringify(item.update),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.state.config.TELEGRAM_WEBHOOK_TIMEOUT_MS),
      });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
      if (status < 200 || status > 299) {
        const reason = response.statusText === '' ? (STATUS_CODES[status] ?? '') : response.statusText;
        const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
        failure = {
          message: `Wrong response from the webhook: ${status} ${reason}`.trim(),
          ...(Number.isFinite(retryAfter) && retryAfter > 0
            ? { retryAfterMs: Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS) }
            : {}),
        };
      }
    } catch (error) {
      failure = { message: connectionErrorMessage(error) };
    }
    this.recordAttempt(botId, item, status, failure?.message);
    if (this.closed) {
      return;
    }
    item.inFlight = false;
    if (failure === undefined && this.takeDuplicate(botId, item)) {
      // The same update (same update_id) goes out once more, as Telegram's at-least-once delivery can do.
      item.duplicated = true;
      item.nextAttemptAt = this.state.clock.nowMs();
    } else if (failure === undefined) {
      this.state.webhooks.remove(botId, item.update.update_id);
    } else {
      const settings = this.state.webhooks.state(botId).settings;
      settings.lastErrorDate = this.state.clock.unixSeconds();
      settings.lastErrorMessage = failure.message;
      const backoff = failure.retryAfterMs ?? retryDelayMs(item.attempts);
      item.nextAttemptAt = this.state.clock.nowMs() + this.state.clock.scaled(backoff);
      this.logger.debug(
        { updateId: item.update.update_id, attempt: item.attempts, backoff },
        failure.message,
      );
    }
    this.kick(botId);
  }

  private takeDuplicate(botId: number, item: PendingUpdate): boolean {
    const faults = this.state.webhooks.state(botId).faults;
    if (faults?.duplicate !== true || item.duplicated === true || faults.remaining === 0) {
      return false;
    }
    if (faults.remaining !== undefined) {
      faults.remaining -= 1;
    }
    return true;
  }

  private recordAttempt(botId: number, item: PendingUpdate, status?: number, error?: string): void {
    appendBounded(
      this.state.webhooks.state(botId).attempts,
      {
        updateId: item.update.update_id,
        attempt: item.attempts,
        at: new Date().toISOString(),
        ...(status === undefined ? {} : { status }),
        ...(error === undefined ? {} : { error }),
      },
      this.state.config.SANDBOX_RECORD_LIMIT,
    );
  }
}

/** 1 s, 2 s, 4 s, … capped at a random 60–120 s (Telegram's WebhookActor). */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const exponential = FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1);
  const cap = 60_000 + Math.floor(random() * 60_000);
  return Math.min(exponential, cap);
}

function connectionErrorMessage(error: unknown): string {
  // Duck-typed: fetch errors may come from another realm (e.g. under Jest's VM modules).
  const fields = (value: unknown): { name?: unknown; code?: unknown; message?: unknown; cause?: unknown } =>
    typeof value === 'object' && value !== null ? value : {};
  const { name, message, cause } = fields(error);
  if (name === 'TimeoutError' || name === 'AbortError') {
    return 'Read timeout expired';
  }
  const code = fields(cause).code ?? fields(error).code;
  if (code === 'ECONNREFUSED') {
    return 'Connection refused';
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return 'Failed to resolve host: Name or service not known';
  }
  return `Connection failed: ${typeof message === 'string' ? message : String(error)}`;
}
