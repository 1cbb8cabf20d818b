import { Inject, Injectable } from '@nestjs/common';
import { appendBounded } from '../common/bounded-log.js';
import { SandboxClock } from '../common/clock.js';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config/sandbox.config.js';
import { FaultStore } from './fault.store.js';
import { FloodControl } from './rate-limiter.js';
import { BotStore } from './stores/bot.store.js';
import { ChatStore } from './stores/chat.store.js';
import { FileStore } from './stores/file.store.js';
import { WebhookStore } from './stores/webhook.store.js';

export interface RecordedCall {
  readonly method: string;
  readonly httpMethod: string;
  readonly params: Record<string, unknown>;
  readonly status: number;
  readonly response: unknown;
  readonly at: string;
}

/** Everything the Telegram emulator keeps, in memory, in one place so `reset()` is complete. */
@Injectable()
export class TelegramState {
  readonly bots = new BotStore();
  readonly chats = new ChatStore();
  readonly files = new FileStore();
  readonly webhooks = new WebhookStore();
  readonly faults = new FaultStore();
  readonly flood: FloodControl;
  readonly clock: SandboxClock;
  private readonly calls = new Map<number, RecordedCall[]>();
  /** `botId:chatId:messageId` → the update that carried a customer page message (null: filtered). */
  readonly customerPageUpdates = new Map<string, number | null>();

  constructor(@Inject(SANDBOX_CONFIG) readonly config: SandboxConfig) {
    this.clock = new SandboxClock(config.SANDBOX_TIME_SCALE);
    this.flood = new FloodControl({
      enabled: config.TELEGRAM_RATE_LIMITS,
      chatPerSecond: config.TELEGRAM_CHAT_RATE_PER_SECOND,
      chatBurst: config.TELEGRAM_CHAT_BURST,
      globalPerSecond: config.TELEGRAM_GLOBAL_RATE_PER_SECOND,
    });
  }

  recordCall(botId: number, call: RecordedCall): void {
    const calls = this.calls.get(botId) ?? [];
    appendBounded(calls, call, this.config.SANDBOX_RECORD_LIMIT);
    this.calls.set(botId, calls);
  }

  callsOf(botId: number): RecordedCall[] {
    return this.calls.get(botId) ?? [];
  }

  reset(): void {
    this.bots.reset();
    this.chats.reset();
    this.files.reset();
    this.webhooks.reset();
    this.faults.reset();
    this.flood.reset();
    this.calls.clear();
    this.customerPageUpdates.clear();
  }
}
