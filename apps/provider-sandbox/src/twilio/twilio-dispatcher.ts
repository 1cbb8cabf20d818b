import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { appendBounded } from '../common/bounded-log.js';
import { signedUrl, twilioSignature } from './signature.js';
import { ASYNC_ERROR_MESSAGES } from './twilio.error.js';
import {
  API_VERSION,
  takeFault,
  TwilioState,
  type AccountRecord,
  type InboundRoute,
  type MessageRecord,
  type MessageStatus,
  type StatusCallbackFault,
  type TwilioWebhookAttempt,
} from './twilio.state.js';

const EMPTY_TWIML = /^\s*(<\?xml[^>]*\?>\s*)?<Response\s*(\/>|>[\s\S]*<\/Response>)\s*$/;

/** How one message's status callbacks go out under a {@link StatusCallbackFault}. */
interface CallbackPlan {
  readonly fault: StatusCallbackFault | undefined;
  /** With `reorder`: the callbacks before the final status, oldest first, posted after it. */
  readonly held: { readonly params: Record<string, string>; readonly idempotencyToken: string }[];
}

const FINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['delivered', 'undelivered', 'failed']);

interface Outcome {
  readonly status?: number;
  readonly error?: string;
  readonly contentType?: string;
  readonly body?: string;
}

/**
 * Twilio's outgoing HTTP: the outbound lifecycle (`queued` → `sent` → `delivered`, or `undelivered` /
 * `failed` for recipients the control API scripted) with one signed status callback per transition, and
 * inbound message webhooks to the URL that owns the number's inbound (its own `sms_url`, its TwiML App's or its
 * Messaging Service's; then the matching fallback URL). No later redelivery: only
 * the immediate connection-level retry (`rc=1`) Twilio makes when the connection fails.
 */
@Injectable()
export class TwilioDispatcher implements OnModuleDestroy {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly state: TwilioState) {}

  /** Runs the message's remaining lifecycle in sandbox time. */
  startLifecycle(account: AccountRecord, message: MessageRecord): void {
    const scripted = this.state.outcomes.get(message.to);
    const outcome =
      account.status !== 'active'
        ? { status: 'failed' as const, errorCode: 30002 }
        : scripted?.bodyContains === undefined || message.body.includes(scripted.bodyContains)
          ? scripted
          : undefined;
    const sendDelay = this.state.clock.scaled(this.state.config.TWILIO_SEND_DELAY_MS);
    const deliveryDelay = this.state.clock.scaled(this.state.config.TWILIO_DELIVERY_DELAY_MS);
    const plan: CallbackPlan = { fault: takeFault(this.state.statusCallbackFaults, account.sid), held: [] };
    if (outcome?.status === 'failed') {
      this.later(sendDelay, () => this.transition(account, message, 'failed', outcome.errorCode, plan));
      return;
    }
    this.later(sendDelay, async () => {
      await this.transition(account, message, 'sent', null, plan);
      this.later(deliveryDelay, () =>
        outcome === undefined
          ? this.transition(account, message, 'delivered', null, plan)
          : this.transition(account, message, 'undelivered', outcome.errorCode, plan),
      );
    });
  }

  /** Posts an inbound message to its route's URL (the number's, its app's or its service's), then to the fallback URL if that failed. */
  async deliverInbound(
    account: AccountRecord,
    route: InboundRoute,
    message: MessageRecord,
    params: Record<string, string>,
  ): Promise<TwilioWebhookAttempt[]> {
    const made: TwilioWebhookAttempt[] = [];
    if (route.url === '') {
      return made;
    }
    const primary = await this.request('inbound', account, message, route.url, route.method, params);
    made.push(...primary);
    const last = primary.at(-1);
    const failed = last === undefined || last.status === undefined || last.status >= 400;
    if (failed && route.fallbackUrl !== '') {
      made.push(
        ...(await this.request(
          'inbound_fallback',
          account,
          message,
          route.fallbackUrl,
          route.fallbackMethod,
          params,
        )),
      );
    }
    return made;
  }

  reset(): void {
    for (const timer of this.timers) {
      clearTimeout(timer);
    }
    this.timers.clear();
  }

  onModuleDestroy(): void {
    this.reset();
  }

  private later(delayMs: number, task: () => Promise<unknown>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task().catch(() => undefined);
    }, delayMs);
    this.timers.add(timer);
  }

  private async transition(
    account: AccountRecord,
    message: MessageRecord,
    status: MessageStatus,
    errorCode: number | null,
    plan: CallbackPlan,
  ): Promise<void> {
    if (this.state.messages.get(message.sid) !== message) {
      return; // reset in between
    }
    const now = this.state.clock.nowMs();
    message.status = status;
    message.updatedMs = now;
    if (status === 'sent') {
      message.sentMs = now;
    }
    if (errorCode !== null) {
      message.errorCode = errorCode;
      message.errorMessage = ASYNC_ERROR_MESSAGES[errorCode] ?? 'Unknown error';
    }
    if (message.statusCallback === null) {
      return;
    }
    const params: Record<string, string> = {
      AccountSid: message.accountSid,
      ApiVersion: API_VERSION,
      From: message.from,
      MessageSid: message.sid,
      MessageStatus: status,
      SmsSid: message.sid,
      SmsStatus: status,
      To: message.to,
      ...(errorCode === null ? {} : { ErrorCode: String(errorCode) }),
      ...(status === 'delivered' || status === 'undelivered' ? { RawDlrDoneDate: dlrDate(now) } : {}),
    };
    const callback = { params, idempotencyToken: randomUUID() };
    if (plan.fault?.reorder === true && !FINAL_STATUSES.has(status)) {
      plan.held.push(callback);
      return;
    }
    const inOrder = FINAL_STATUSES.has(status) ? [callback, ...plan.held.splice(0).reverse()] : [callback];
    for (const { params: sent, idempotencyToken } of inOrder) {
      for (let copy = plan.fault?.duplicate === true ? 2 : 1; copy > 0; copy -= 1) {
        await this.request(
          'status_callback',
          account,
          message,
          message.statusCallback,
          'POST',
          sent,
          idempotencyToken,
        );
      }
    }
  }

  private async request(
    kind: TwilioWebhookAttempt['kind'],
    account: AccountRecord,
    message: MessageRecord,
    url: string,
    method: 'GET' | 'POST',
    params: Record<string, string>,
    /** One event's token, the same on every delivery of it. */
    idempotencyToken: string = randomUUID(),
  ): Promise<TwilioWebhookAttempt[]> {
    const target = method === 'GET' ? withQuery(url, params) : url;
    const signature = twilioSignature(
      account.authToken,
      signedUrl(target, this.state.settings.signatureUrlPort),
      method === 'GET' ? {} : params,
    );
    const made: TwilioWebhookAttempt[] = [];
    // One immediate retry when the connection itself fails (Twilio's default `rc=1`).
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const outcome = await this.send(target, method, params, signature, idempotencyToken);
      const record: TwilioWebhookAttempt = {
        kind,
        messageSid: message.sid,
        url: target,
        method,
        params,
        signature,
        idempotencyToken,
        attempt,
        at: new Date().toISOString(),
        ...(outcome.status === undefined ? {} : { status: outcome.status }),
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
        ...(outcome.contentType === undefined ? {} : { responseContentType: outcome.contentType }),
        ...(outcome.body === undefined ? {} : { responseBody: outcome.body }),
        ...(kind === 'status_callback' ? {} : twimlWarning(outcome)),
      };
      appendBounded(this.state.attempts, record, this.state.config.SANDBOX_RECORD_LIMIT);
      made.push(record);
      if (outcome.error === undefined || outcome.error === 'timeout') {
        break;
      }
    }
    return made;
  }

  private async send(
    url: string,
    method: 'GET' | 'POST',
    params: Record<string, string>,
    signature: string,
    idempotencyToken: string,
  ): Promise<Outcome> {
    try {
      const response = await fetch(url, {
        method,
        headers: {
          'X-Twilio-Signature': signature,
          'I-Twilio-Idempotency-Token': idempotencyToken,
          'User-Agent': 'TwilioProxy/1.1',
          ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(method === 'POST' ? { body: new URLSearchParams(params).toString() } : {}),
        signal: AbortSignal.timeout(this.state.config.TWILIO_WEBHOOK_TIMEOUT_MS),
      });
      const body = await response.text();
      const contentType = response.headers.get('content-type');
      return { status: response.status, body, ...(contentType === null ? {} : { contentType }) };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      return { error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'connection failed' };
    }
  }
}

function withQuery(url: string, params: Record<string, string>): string {
  const target = new URL(url);
  for (const [key, value] of Object.entries(params)) {
    target.searchParams.append(key, value);
  }
  return target.toString();
}

/** Twilio accepts TwiML (`text/xml` / `application/xml`) or `204`; anything else is logged (12200/12300). */
function twimlWarning(outcome: Outcome): { warning?: string } {
  if (outcome.status === undefined) {
    return {
      warning:
        outcome.error === 'timeout'
          ? '11200 HTTP retrieval failure (timeout)'
          : '11205 HTTP connection failure',
    };
  }
  if (outcome.status >= 400) {
    return { warning: `11217 receiver answered ${outcome.status}` };
  }
  if (outcome.status === 204) {
    return {};
  }
  const xml = /^(text|application)\/xml\b/.test(outcome.contentType ?? '');
  if (!xml) {
    return { warning: '12300 Invalid Content-Type' };
  }
  if (!EMPTY_TWIML.test(outcome.body ?? '')) {
    return { warning: '12200 Schema validation warning (not TwiML)' };
  }
  return {};
}

/** `RawDlrDoneDate`: `YYMMDDhhmm`, no time zone (written in UTC). */
function dlrDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16);
}
