import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SandboxClock } from '../common/clock.js';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config/sandbox.config.js';
import type { SignatureUrlPort } from './signature.js';

export const API_VERSION = '2010-04-01';

/** `AC`, `SM`, `MM`, `ME`, `PN`, `SK`, `AP`, `MG` + 32 lower-case hex digits (34 characters). */
export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** RFC 2822 in GMT as Twilio writes it: `Thu, 30 Jul 2015 20:12:31 +0000`. */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

export interface AccountRecord {
  readonly sid: string;
  authToken: string;
  friendlyName: string;
  status: 'active' | 'suspended' | 'closed';
  type: 'Trial' | 'Full';
  /** Trial accounts may only text these numbers (else 21608). */
  readonly verifiedNumbers: Set<string>;
  readonly apiKeys: Map<string, string>;
  readonly createdMs: number;
}

export interface NumberRecord {
  readonly sid: string;
  readonly accountSid: string;
  readonly phoneNumber: string;
  friendlyName: string;
  smsUrl: string;
  smsMethod: 'GET' | 'POST';
  smsFallbackUrl: string;
  smsFallbackMethod: 'GET' | 'POST';
  /** Twilio calls the number's `StatusCallback` for voice calls only; SMS status goes to each message's. */
  statusCallback: string;
  statusCallbackMethod: 'GET' | 'POST';
  /** `AP…` of a TwiML App whose SMS URLs win over the number's own (§2.5); '' for none. */
  smsApplicationSid: string;
  readonly capabilities: { voice: boolean; sms: boolean; mms: boolean; fax: boolean };
  readonly createdMs: number;
  updatedMs: number;
}

/** A TwiML App (`/Accounts/{AC}/Applications/{AP}.json`): the SMS URLs of every number whose `sms_application_sid` it is. */
export interface ApplicationRecord {
  readonly sid: string;
  readonly accountSid: string;
  friendlyName: string;
  smsUrl: string;
  smsMethod: 'GET' | 'POST';
  smsFallbackUrl: string;
  smsFallbackMethod: 'GET' | 'POST';
  readonly createdMs: number;
  updatedMs: number;
}

/**
 * A Messaging Service (`https://messaging.twilio.com/v1/Services/{MG}`). Inbound messages to its numbers go to
 * `inbound_request_url` unless `use_inbound_webhook_on_number`; with neither, they are neither delivered nor kept.
 */
export interface MessagingServiceRecord {
  readonly sid: string;
  readonly accountSid: string;
  friendlyName: string;
  inboundRequestUrl: string | null;
  inboundMethod: 'GET' | 'POST';
  fallbackUrl: string | null;
  fallbackMethod: 'GET' | 'POST';
  useInboundWebhookOnNumber: boolean;
  /** Its numbers (`PN…`) with when each was added; a number is in one service at most (21712). */
  readonly numbers: Map<string, number>;
  readonly createdMs: number;
  updatedMs: number;
}

/** Where Twilio sends a number's inbound messages, and who decided it. */
export interface InboundRoute {
  readonly owner: 'number' | 'application' | 'messaging_service';
  /** The number's, the app's or the service's SID. */
  readonly ownerSid: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly fallbackUrl: string;
  readonly fallbackMethod: 'GET' | 'POST';
  /** Set when the number is in a Messaging Service (the webhook's `MessagingServiceSid`). */
  readonly messagingServiceSid: string | null;
  /** The service has no inbound URL and does not defer to the number: the message is dropped, not even stored. */
  readonly dropped: boolean;
}

export interface MediaRecord {
  readonly sid: string;
  readonly accountSid: string;
  readonly parentSid: string;
  readonly contentType: string;
  readonly bytes: Buffer;
  readonly createdMs: number;
}

export type MessageStatus =
  'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'received';

export interface MessageRecord {
  readonly sid: string;
  readonly accountSid: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly direction: 'inbound' | 'outbound-api';
  readonly messagingServiceSid: string | null;
  readonly numSegments: number;
  readonly media: MediaRecord[];
  readonly statusCallback: string | null;
  status: MessageStatus;
  errorCode: number | null;
  errorMessage: string | null;
  readonly createdMs: number;
  sentMs: number | null;
  updatedMs: number;
}

/** One HTTP request the sandbox made to a receiver (status callback or inbound webhook). */
export interface TwilioWebhookAttempt {
  readonly kind: 'status_callback' | 'inbound' | 'inbound_fallback';
  readonly messageSid: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly params: Record<string, string>;
  readonly signature: string;
  /** `I-Twilio-Idempotency-Token`: one event's, the same on each of its deliveries. */
  readonly idempotencyToken: string;
  readonly attempt: number;
  readonly at: string;
  readonly status?: number;
  readonly error?: string;
  readonly responseContentType?: string;
  readonly responseBody?: string;
  /** Set when the receiver's answer is not TwiML / 204 (Twilio would log 12200/12300). */
  readonly warning?: string;
}

/** What happens to messages sent to a recipient (control API). */
export interface RecipientOutcome {
  readonly status: 'undelivered' | 'failed';
  readonly errorCode: number;
  /** Only for messages whose body contains this text. */
  readonly bodyContains?: string;
}

/**
 * An injected failure of `POST Messages.json` for one account (control API): `400`/`21611` (the `From` number's
 * queue is full, §2.9) and `429`/`20429` are never processed; `5xx`/`20500` may have sent the message anyway.
 */
export interface MessagesFault {
  readonly status: 400 | 429 | 500 | 503;
  readonly code: 21611 | 20429 | 20500;
  /** Remaining failures; `undefined` = until cleared. */
  times: number | undefined;
  /** For 5xx: the message is created (and sent) anyway, as can happen on Twilio. */
  readonly createAnyway: boolean;
}

/**
 * An injected fault of the account's status callbacks (control API), for the messages sent while it is set: as
 * Twilio may (§2.8 "Ordering and duplication"), `reorder` holds each message's callbacks before its final status
 * and posts them after it, latest first (`delivered` overtakes `sent`), and `duplicate` posts every callback twice
 * with the same `I-Twilio-Idempotency-Token`. The Message resource still follows the real order.
 */
export interface StatusCallbackFault {
  readonly reorder: boolean;
  readonly duplicate: boolean;
  /** Remaining messages it applies to; `undefined` = until cleared. */
  times: number | undefined;
}

/** The account's fault of this kind for one more use: counted down, and removed with its last use. */
export function takeFault<F extends { times: number | undefined }>(
  faults: Map<string, F>,
  accountSid: string,
): F | undefined {
  const fault = faults.get(accountSid);
  if (fault?.times !== undefined) {
    fault.times -= 1;
    if (fault.times <= 0) {
      faults.delete(accountSid);
    }
  }
  return fault;
}

/** Runtime knobs of the Twilio emulator (control API `PUT /__sandbox/twilio/settings`). */
export interface TwilioSettings {
  /** Media content answers 302 to a short-lived unauthenticated URL, as Twilio's CDN redirect. */
  mediaRedirect: boolean;
  /** Lifetime of such a URL (real time). */
  mediaUrlTtlMs: number;
  /** The port in the URL `X-Twilio-Signature` is computed over (the request still goes to the URL as configured). */
  signatureUrlPort: SignatureUrlPort;
}

export const DEFAULT_TWILIO_SETTINGS: Readonly<TwilioSettings> = {
  mediaRedirect: false,
  mediaUrlTtlMs: 300_000,
  signatureUrlPort: 'as_configured',
};

/** A pre-signed media URL handed out by a redirect. */
export interface SignedMediaUrl {
  readonly media: MediaRecord;
  readonly expiresAtMs: number;
}

/** Everything the Twilio emulator keeps, in memory, in one place so `reset()` is complete. */
@Injectable()
export class TwilioState {
  readonly accounts = new Map<string, AccountRecord>();
  readonly numbers = new Map<string, NumberRecord>();
  readonly applications = new Map<string, ApplicationRecord>();
  readonly services = new Map<string, MessagingServiceRecord>();
  readonly messages = new Map<string, MessageRecord>();
  /** `sender|recipient` pairs where the recipient texted STOP. */
  readonly optOuts = new Set<string>();
  readonly outcomes = new Map<string, RecipientOutcome>();
  readonly attempts: TwilioWebhookAttempt[] = [];
  readonly faults = new Map<string, MessagesFault>();
  readonly statusCallbackFaults = new Map<string, StatusCallbackFault>();
  settings: TwilioSettings = { ...DEFAULT_TWILIO_SETTINGS };
  /** Token → media, for the redirect targets. */
  readonly signedMediaUrls = new Map<string, SignedMediaUrl>();
  readonly clock: SandboxClock;

  constructor(@Inject(SANDBOX_CONFIG) readonly config: SandboxConfig) {
    this.clock = new SandboxClock(config.SANDBOX_TIME_SCALE);
  }

  numberOf(accountSid: string, phoneNumber: string): NumberRecord | undefined {
    return [...this.numbers.values()].find(
      (number) => number.accountSid === accountSid && number.phoneNumber === phoneNumber,
    );
  }

  numberByPhone(phoneNumber: string): NumberRecord | undefined {
    return [...this.numbers.values()].find((number) => number.phoneNumber === phoneNumber);
  }

  serviceOf(number: NumberRecord): MessagingServiceRecord | undefined {
    return [...this.services.values()].find((service) => service.numbers.has(number.sid));
  }

  /**
   * Where an inbound message to `number` goes (§2.5 step 3): its Messaging Service's `inbound_request_url` unless the
   * service defers to the number (`use_inbound_webhook_on_number`); then its TwiML App's SMS URLs when
   * `sms_application_sid` is set; else its own `sms_url`.
   */
  inboundRoute(number: NumberRecord): InboundRoute {
    const service = this.serviceOf(number);
    const messagingServiceSid = service?.sid ?? null;
    if (service !== undefined && !service.useInboundWebhookOnNumber) {
      return {
        owner: 'messaging_service',
        ownerSid: service.sid,
        url: service.inboundRequestUrl ?? '',
        method: service.inboundMethod,
        fallbackUrl: service.fallbackUrl ?? '',
        fallbackMethod: service.fallbackMethod,
        messagingServiceSid,
        dropped: service.inboundRequestUrl === null || service.inboundRequestUrl === '',
      };
    }
    const application =
      number.smsApplicationSid === '' ? undefined : this.applications.get(number.smsApplicationSid);
    if (application !== undefined) {
      return {
        owner: 'application',
        ownerSid: application.sid,
        url: application.smsUrl,
        method: application.smsMethod,
        fallbackUrl: application.smsFallbackUrl,
        fallbackMethod: application.smsFallbackMethod,
        messagingServiceSid,
        dropped: false,
      };
    }
    return {
      owner: 'number',
      ownerSid: number.sid,
      url: number.smsUrl,
      method: number.smsMethod,
      fallbackUrl: number.smsFallbackUrl,
      fallbackMethod: number.smsFallbackMethod,
      messagingServiceSid,
      dropped: false,
    };
  }

  reset(): void {
    this.accounts.clear();
    this.numbers.clear();
    this.applications.clear();
    this.services.clear();
    this.messages.clear();
    this.optOuts.clear();
    this.outcomes.clear();
    this.attempts.length = 0;
    this.faults.clear();
    this.statusCallbackFaults.clear();
    this.settings = { ...DEFAULT_TWILIO_SETTINGS };
    this.signedMediaUrls.clear();
  }
}

export const optOutKey = (sender: string, recipient: string): string => `${sender}|${recipient}`;
