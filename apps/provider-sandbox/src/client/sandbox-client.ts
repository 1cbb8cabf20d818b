import type { CustomerMessageInput } from '../telegram/customer-simulator.js';
import type { FaultRule } from '../telegram/fault.store.js';
import type { RateLimitSettings } from '../telegram/rate-limiter.js';
import type { TgChat, TgMessage, TgUpdate, TgUser, TgWebhookInfo } from '../telegram/telegram.types.js';

export interface SandboxBot {
  readonly id: number;
  readonly token: string;
  readonly username: string;
  readonly first_name: string;
  readonly revoked: boolean;
}

export interface SandboxCustomer {
  readonly user: TgUser;
  readonly chat: TgChat;
}

export interface SandboxCall {
  readonly method: string;
  readonly httpMethod: string;
  readonly params: Record<string, unknown>;
  readonly status: number;
  readonly response: unknown;
  readonly at: string;
}

export interface SandboxDeliveryAttempt {
  readonly updateId: number;
  readonly attempt: number;
  readonly at: string;
  readonly status?: number;
  readonly error?: string;
}

export interface SandboxChatMessage {
  readonly direction: 'from_customer' | 'from_bot';
  readonly message: TgMessage;
}

export class SandboxClientError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`provider sandbox answered ${status}: ${body}`);
    this.name = 'SandboxClientError';
  }
}

/** Typed client for the sandbox control API (`/__sandbox/*`). */
export class ProviderSandboxClient {
  constructor(readonly baseUrl: string) {}

  /** The origin to configure as the Telegram API base URL (`/bot<token>/<method>` lives there). */
  get telegramApiBaseUrl(): string {
    return this.baseUrl;
  }

  reset(): Promise<void> {
    return this.request('POST', '/__sandbox/reset');
  }

  createBot(input: { token?: string; username?: string; first_name?: string } = {}): Promise<SandboxBot> {
    return this.request('POST', '/__sandbox/telegram/bots', input);
  }

  getBot(botId: number): Promise<SandboxBot & { webhook: TgWebhookInfo }> {
    return this.request('GET', `/__sandbox/telegram/bots/${botId}`);
  }

  revokeBot(botId: number): Promise<void> {
    return this.request('POST', `/__sandbox/telegram/bots/${botId}/revoke`);
  }

  createCustomer(
    botId: number,
    input: {
      id?: number;
      first_name: string;
      last_name?: string;
      username?: string;
      language_code?: string;
      started?: boolean;
    },
  ): Promise<SandboxCustomer> {
    return this.request('POST', `/__sandbox/telegram/bots/${botId}/customers`, input);
  }

  /** The customer sends (or edits) a message; `update` is null when `allowed_updates` filters it out. */
  customerSends(
    botId: number,
    chatId: number,
    input: CustomerMessageInput,
  ): Promise<{ update: TgUpdate | null; message: TgMessage }> {
    return this.request('POST', `/__sandbox/telegram/bots/${botId}/chats/${chatId}/messages`, input);
  }

  setBlocked(botId: number, chatId: number, blocked: boolean): Promise<{ update: TgUpdate | null }> {
    return this.request('POST', `/__sandbox/telegram/bots/${botId}/chats/${chatId}/block`, { blocked });
  }

  /** Every message of the chat, or only one direction (`from_bot` = what the bot sent). */
  messages(
    botId: number,
    chatId: number,
    direction?: 'from_customer' | 'from_bot',
  ): Promise<SandboxChatMessage[]> {
    const query = direction === undefined ? '' : `?direction=${direction}`;
    return this.request<{ messages: SandboxChatMessage[] }>(
      'GET',
      `/__sandbox/telegram/bots/${botId}/chats/${chatId}/messages${query}`,
    ).then((body) => body.messages);
  }

  /** Any update type with the payload as given (e.g. `poll`, `callback_query`). */
  rawUpdate(
    botId: number,
    kind: string,
    payload: unknown,
    chatId?: number,
  ): Promise<{ update: TgUpdate | null }> {
    return this.request('POST', `/__sandbox/telegram/bots/${botId}/updates`, {
      kind,
      payload,
      ...(chatId === undefined ? {} : { chat_id: chatId }),
    });
  }

  calls(botId: number, method?: string): Promise<SandboxCall[]> {
    const query = method === undefined ? '' : `?method=${encodeURIComponent(method)}`;
    return this.request<{ calls: SandboxCall[] }>(
      'GET',
      `/__sandbox/telegram/bots/${botId}/calls${query}`,
    ).then((body) => body.calls);
  }

  deliveries(botId: number): Promise<{ attempts: SandboxDeliveryAttempt[]; pending: TgUpdate[] }> {
    return this.request('GET', `/__sandbox/telegram/bots/${botId}/deliveries`);
  }

  /** Injects a fault for `method` (`*` = every method) of the bot. */
  setFault(botId: number, method: string, rule: FaultRule): Promise<void> {
    return this.request(
      'PUT',
      `/__sandbox/telegram/bots/${botId}/faults/${encodeURIComponent(method)}`,
      rule,
    );
  }

  clearFaults(botId: number): Promise<void> {
    return this.request('DELETE', `/__sandbox/telegram/bots/${botId}/faults`);
  }

  setRateLimits(settings: Partial<RateLimitSettings>): Promise<RateLimitSettings> {
    return this.request('PUT', '/__sandbox/telegram/rate-limits', settings);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new SandboxClientError(response.status, text);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}
