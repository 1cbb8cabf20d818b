import type { CustomerMessageInput } from '../telegram/customer-simulator.js';
import type { FaultRule } from '../telegram/fault.store.js';
import type { RateLimitSettings } from '../telegram/rate-limiter.js';
import type { TgChat, TgMessage, TgUpdate, TgUser, TgWebhookInfo } from '../telegram/telegram.types.js';
import type { SignatureUrlPort } from '../twilio/signature.js';
import type { TwilioWebhookAttempt } from '../twilio/twilio.state.js';

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

/** A Twilio account as `GET /2010-04-01/Accounts/{Sid}.json` shows it (includes `auth_token`). */
export interface SandboxTwilioAccount {
  readonly sid: string;
  readonly auth_token: string;
  readonly friendly_name: string;
  readonly status: 'active' | 'suspended' | 'closed';
  readonly type: 'Trial' | 'Full';
  readonly [field: string]: unknown;
}

/** An IncomingPhoneNumber resource. */
export interface SandboxTwilioNumber {
  readonly sid: string;
  readonly account_sid: string;
  readonly phone_number: string;
  readonly sms_url: string;
  readonly sms_fallback_url: string;
  readonly capabilities: { voice: boolean; sms: boolean; mms: boolean; fax: boolean };
  readonly [field: string]: unknown;
}

/** A TwiML App (`/Accounts/{AC}/Applications/{AP}.json`). */
export interface SandboxTwilioApplication {
  readonly sid: string;
  readonly account_sid: string;
  readonly sms_url: string;
  readonly [field: string]: unknown;
}

/** A Messaging Service (`https://messaging.twilio.com/v1/Services/{MG}`). */
export interface SandboxTwilioMessagingService {
  readonly sid: string;
  readonly account_sid: string;
  readonly inbound_request_url: string | null;
  readonly use_inbound_webhook_on_number: boolean;
  readonly [field: string]: unknown;
}

/** A Message resource (string counts, RFC 2822 dates), plus its media in control API answers. */
export interface SandboxTwilioMessage {
  readonly sid: string;
  readonly account_sid: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly status: string;
  readonly direction: string;
  readonly num_media: string;
  readonly num_segments: string;
  readonly error_code: number | null;
  readonly error_message: string | null;
  readonly media?: SandboxTwilioMedia[];
  readonly [field: string]: unknown;
}

export interface SandboxTwilioMedia {
  readonly sid: string;
  readonly parent_sid: string;
  readonly content_type: string;
  readonly uri: string;
  readonly [field: string]: unknown;
}

/** One request the sandbox made as Twilio (status callback or inbound webhook). */
export type SandboxTwilioWebhookAttempt = TwilioWebhookAttempt;

export interface SandboxTwilioInbound {
  readonly from: string;
  readonly to: string;
  readonly body?: string;
  /** Content as given, or `size_bytes` of filler, or a 1×1 GIF. */
  readonly media?: { content_type: string; content_base64?: string; size_bytes?: number }[];
  readonly from_city?: string;
  readonly from_state?: string;
  readonly from_zip?: string;
  readonly from_country?: string;
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

  /** BotFather's "Revoke current token": answers the bot's new token; the old one gets 401 from now on. */
  regenerateBotToken(botId: number): Promise<{ token: string }> {
    return this.request('POST', `/__sandbox/telegram/bots/${botId}/token`);
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

  /** A basic group with the bot, where `member` writes (send as them with `customerSends` and the group's id). */
  createGroup(
    botId: number,
    input: {
      title: string;
      member: {
        id?: number;
        first_name: string;
        last_name?: string;
        username?: string;
        language_code?: string;
      };
    },
  ): Promise<SandboxCustomer> {
    return this.request('POST', `/__sandbox/telegram/bots/${botId}/groups`, input);
  }

  /**
   * Upgrades a basic group to a supergroup (answers the supergroup): the Bot API refuses the old id with
   * `400 "Bad Request: group chat was upgraded to a supergroup chat"` and `parameters.migrate_to_chat_id`.
   */
  migrateGroup(botId: number, chatId: number): Promise<SandboxCustomer> {
    return this.request('POST', `/__sandbox/telegram/bots/${botId}/chats/${chatId}/migrate`);
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

  /** The origin to configure as the Twilio API base URL (instead of `https://api.twilio.com`). */
  get twilioApiBaseUrl(): string {
    return this.baseUrl;
  }

  twilioCreateAccount(
    input: {
      sid?: string;
      auth_token?: string;
      friendly_name?: string;
      status?: 'active' | 'suspended' | 'closed';
      type?: 'Trial' | 'Full';
      /** Trial accounts may only text these numbers (else 21608). */
      verified_numbers?: string[];
    } = {},
  ): Promise<SandboxTwilioAccount> {
    return this.request('POST', '/__sandbox/twilio/accounts', input);
  }

  /** `suspended`: the account's messages fail with 30002. */
  twilioSetAccountStatus(
    accountSid: string,
    status: 'active' | 'suspended' | 'closed',
  ): Promise<SandboxTwilioAccount> {
    return this.request('PUT', `/__sandbox/twilio/accounts/${accountSid}/status`, { status });
  }

  /** Rotates the account's auth token: the answer carries the new one; the old one gets 401/20003 from then on. */
  twilioRotateAuthToken(accountSid: string): Promise<SandboxTwilioAccount> {
    return this.request('POST', `/__sandbox/twilio/accounts/${accountSid}/auth-token/rotate`);
  }

  /**
   * Fails the account's next `POST Messages.json` calls with 400/21611 (the `From` number's queue is full) or
   * 429/20429, both not processed, or 5xx/20500 (the message is still created and sent unless
   * `create_anyway: false`); `times` omitted = until cleared.
   */
  twilioSetMessagesFault(
    accountSid: string,
    fault:
      | { status: 400; code: 21611; times?: number }
      | { status: 429 | 500 | 503; times?: number; create_anyway?: boolean },
  ): Promise<unknown> {
    return this.request('PUT', `/__sandbox/twilio/accounts/${accountSid}/faults/messages`, fault);
  }

  /** Delivers each update of the bot twice (same `update_id`), for `times` updates (default: until cleared). */
  setWebhookFaults(
    botId: number,
    faults: { duplicate: boolean; times?: number },
  ): Promise<{ duplicate: boolean; remaining?: number }> {
    return this.request('PUT', `/__sandbox/telegram/bots/${botId}/webhook-faults`, faults);
  }

  clearWebhookFaults(botId: number): Promise<void> {
    return this.request('DELETE', `/__sandbox/telegram/bots/${botId}/webhook-faults`);
  }

  /**
   * `media_redirect: true`: media content answers 302 to a short-lived URL that refuses an `Authorization`
   * header, as Twilio's CDN redirect does; `media_url_ttl_ms` is its lifetime. `signature_url_port`: sign webhooks
   * and callbacks over their URL without its port or with the default port added (§2.7), not as configured.
   */
  twilioSetSettings(settings: {
    media_redirect?: boolean;
    media_url_ttl_ms?: number;
    signature_url_port?: SignatureUrlPort;
  }): Promise<{ media_redirect: boolean; media_url_ttl_ms: number; signature_url_port: SignatureUrlPort }> {
    return this.request('PUT', '/__sandbox/twilio/settings', settings);
  }

  /**
   * Reorders (each message's earlier callbacks after its final one, latest first) and/or duplicates (same
   * `I-Twilio-Idempotency-Token`) the status callbacks of the account's next `times` messages (default: until
   * cleared by `twilioClearFaults`).
   */
  twilioSetStatusCallbackFault(
    accountSid: string,
    fault: { reorder?: boolean; duplicate?: boolean; times?: number },
  ): Promise<{ reorder: boolean; duplicate: boolean; times?: number }> {
    return this.request('PUT', `/__sandbox/twilio/accounts/${accountSid}/faults/status-callbacks`, fault);
  }

  twilioClearFaults(accountSid: string): Promise<void> {
    return this.request('DELETE', `/__sandbox/twilio/accounts/${accountSid}/faults`);
  }

  /** An API key (`SK…` + secret) usable instead of the auth token for REST Basic auth. */
  twilioCreateApiKey(accountSid: string): Promise<{ sid: string; secret: string }> {
    return this.request('POST', `/__sandbox/twilio/accounts/${accountSid}/keys`);
  }

  twilioCreateNumber(
    accountSid: string,
    input: {
      phone_number: string;
      friendly_name?: string;
      sms_url?: string;
      sms_method?: 'GET' | 'POST';
      sms_fallback_url?: string;
      capabilities?: Partial<{ voice: boolean; sms: boolean; mms: boolean; fax: boolean }>;
    },
  ): Promise<SandboxTwilioNumber> {
    return this.request('POST', `/__sandbox/twilio/accounts/${accountSid}/numbers`, input);
  }

  /** A TwiML App; numbers use it once their `SmsApplicationSid` names it (set through the REST API). */
  twilioCreateApplication(
    accountSid: string,
    input: {
      friendly_name?: string;
      sms_url?: string;
      sms_method?: 'GET' | 'POST';
      sms_fallback_url?: string;
    } = {},
  ): Promise<SandboxTwilioApplication> {
    return this.request('POST', `/__sandbox/twilio/accounts/${accountSid}/applications`, input);
  }

  /** A Messaging Service; numbers join it through the Messaging API (`POST /v1/Services/{MG}/PhoneNumbers`). */
  twilioCreateMessagingService(
    accountSid: string,
    input: {
      friendly_name?: string;
      inbound_request_url?: string | null;
      inbound_method?: 'GET' | 'POST';
      fallback_url?: string | null;
      use_inbound_webhook_on_number?: boolean;
    } = {},
  ): Promise<SandboxTwilioMessagingService> {
    return this.request('POST', `/__sandbox/twilio/accounts/${accountSid}/messaging-services`, input);
  }

  /** Messages to `phone` end `undelivered`/`failed` with `error_code` (30003/30004 by default); null clears. */
  /** `bodyContains`: only messages whose body contains it get the outcome (a carrier filtering content). */
  twilioSetRecipientOutcome(
    phone: string,
    outcome: 'undelivered' | 'failed' | null,
    errorCode?: number,
    bodyContains?: string,
  ): Promise<unknown> {
    return this.request('PUT', `/__sandbox/twilio/recipients/${encodeURIComponent(phone)}`, {
      outcome,
      ...(errorCode === undefined ? {} : { error_code: errorCode }),
      ...(bodyContains === undefined ? {} : { body_contains: bodyContains }),
    });
  }

  /** Opts `phone` out of (or back into) messages from `sender`, as an inbound STOP/START would. */
  twilioSetOptOut(phone: string, sender: string, optedOut: boolean): Promise<unknown> {
    return this.request('PUT', `/__sandbox/twilio/recipients/${encodeURIComponent(phone)}/opt-out`, {
      sender,
      opted_out: optedOut,
    });
  }

  /** A customer texts a sandbox number; answers after the webhook (and fallback) requests were made. */
  twilioCustomerSends(input: SandboxTwilioInbound): Promise<{
    message: SandboxTwilioMessage;
    media: SandboxTwilioMedia[];
    params: Record<string, string>;
    attempts: SandboxTwilioWebhookAttempt[];
    /** Who decided where the message went (§2.5): the number, its TwiML App or its Messaging Service. */
    routed_to: {
      owner: 'number' | 'application' | 'messaging_service';
      sid: string;
      url: string;
      /** A service with no inbound URL that does not defer to the number: not delivered, not stored. */
      dropped: boolean;
    };
  }> {
    return this.request('POST', '/__sandbox/twilio/inbound', input);
  }

  /** Every message to or from the customer `phone`, oldest first, with media. */
  twilioCustomerMessages(phone: string): Promise<SandboxTwilioMessage[]> {
    return this.request<{ messages: SandboxTwilioMessage[] }>(
      'GET',
      `/__sandbox/twilio/customers/${encodeURIComponent(phone)}/messages`,
    ).then((body) => body.messages);
  }

  /** Status callbacks and inbound webhook requests made so far. */
  twilioWebhooks(): Promise<SandboxTwilioWebhookAttempt[]> {
    return this.request<{ attempts: SandboxTwilioWebhookAttempt[] }>(
      'GET',
      '/__sandbox/twilio/webhooks',
    ).then((body) => body.attempts);
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
