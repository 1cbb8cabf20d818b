import { DEFAULT_EXCLUDED_UPDATES, type TgUpdate, type TgWebhookInfo } from '../telegram.types.js';

export interface WebhookSettings {
  url: string;
  secretToken?: string;
  /** `undefined` = never set (all types but the default-excluded ones). */
  allowedUpdates?: string[];
  maxConnections: number;
  ipAddress?: string;
  hasCustomCertificate: boolean;
  lastErrorDate?: number;
  lastErrorMessage?: string;
}

export interface PendingUpdate {
  readonly update: TgUpdate;
  readonly kind: string;
  /** Per-chat FIFO key: only one update of a queue is in flight at a time. */
  readonly queueKey: string;
  /** When it stops being worth delivering (Telegram keeps undelivered updates 24 h), real ms. */
  readonly expiresAt: number;
  attempts: number;
  nextAttemptAt: number;
  inFlight: boolean;
  /** Set once a duplicate-delivery fault re-queued it after a successful delivery. */
  duplicated?: boolean;
}

/** Webhook delivery faults of one bot (control API): each matching update is delivered twice. */
export interface WebhookFaults {
  readonly duplicate: boolean;
  /** Updates still to duplicate; `undefined` = every update until cleared. */
  remaining?: number;
}

export interface DeliveryAttempt {
  readonly updateId: number;
  readonly attempt: number;
  readonly at: string;
  readonly status?: number;
  readonly error?: string;
}

interface BotWebhookState {
  settings: WebhookSettings;
  faults?: WebhookFaults;
  readonly pending: PendingUpdate[];
  readonly attempts: DeliveryAttempt[];
}

/** Per bot: webhook settings, updates not yet delivered (webhook) or confirmed (getUpdates), attempt log. */
export class WebhookStore {
  private readonly states = new Map<number, BotWebhookState>();

  state(botId: number): BotWebhookState {
    let state = this.states.get(botId);
    if (state === undefined) {
      state = {
        settings: { url: '', maxConnections: 40, hasCustomCertificate: false },
        pending: [],
        attempts: [],
      };
      this.states.set(botId, state);
    }
    return state;
  }

  /** Whether Telegram would generate this update kind under the bot's `allowed_updates`. */
  accepts(botId: number, kind: string): boolean {
    const allowed = this.state(botId).settings.allowedUpdates;
    if (allowed === undefined || allowed.length === 0) {
      return !DEFAULT_EXCLUDED_UPDATES.includes(kind);
    }
    return allowed.includes(kind);
  }

  enqueue(botId: number, pending: PendingUpdate): void {
    this.state(botId).pending.push(pending);
  }

  remove(botId: number, updateId: number): void {
    const pending = this.state(botId).pending;
    const index = pending.findIndex((item) => item.update.update_id === updateId);
    if (index >= 0) {
      pending.splice(index, 1);
    }
  }

  dropPending(botId: number): void {
    this.state(botId).pending.length = 0;
  }

  info(botId: number): TgWebhookInfo {
    const { settings, pending } = this.state(botId);
    const info: TgWebhookInfo = {
      url: settings.url,
      has_custom_certificate: settings.hasCustomCertificate,
      pending_update_count: pending.length,
    };
    if (settings.url !== '') {
      if (settings.ipAddress !== undefined) {
        info.ip_address = settings.ipAddress;
      }
      info.max_connections = settings.maxConnections;
      if (settings.allowedUpdates !== undefined && settings.allowedUpdates.length > 0) {
        info.allowed_updates = settings.allowedUpdates;
      }
    }
    if (settings.lastErrorDate !== undefined && settings.lastErrorMessage !== undefined) {
      info.last_error_date = settings.lastErrorDate;
      info.last_error_message = settings.lastErrorMessage;
    }
    return info;
  }

  reset(): void {
    this.states.clear();
  }
}
