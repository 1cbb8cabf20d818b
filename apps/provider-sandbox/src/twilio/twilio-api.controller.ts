import { All, Controller, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ACCEPTED_MEDIA_TYPES } from './media-types.js';
import { smsSegments } from './segments.js';
import { TwilioDispatcher } from './twilio-dispatcher.js';
import { requestOrigin } from './twilio-inbound.js';
import { TwilioApiError } from './twilio.error.js';
import {
  API_VERSION,
  newSid,
  optOutKey,
  takeFault,
  TwilioState,
  type AccountRecord,
  type MediaRecord,
  type MessageRecord,
  type NumberRecord,
} from './twilio.state.js';
import { accountView, applicationView, mediaView, messageView, numberView, page } from './twilio.views.js';

const SID = (prefix: string): string => `(${prefix}[0-9a-f]{32})`;
const JSON_EXT = '(?:\\.json)?';
const ROUTES = {
  account: new RegExp(`^${SID('AC')}${JSON_EXT}$`),
  numbers: new RegExp(`^${SID('AC')}/IncomingPhoneNumbers${JSON_EXT}$`),
  application: new RegExp(`^${SID('AC')}/Applications/${SID('AP')}${JSON_EXT}$`),
  number: new RegExp(`^${SID('AC')}/IncomingPhoneNumbers/${SID('PN')}${JSON_EXT}$`),
  messages: new RegExp(`^${SID('AC')}/Messages${JSON_EXT}$`),
  message: new RegExp(`^${SID('AC')}/Messages/${SID('(?:SM|MM)')}${JSON_EXT}$`),
  mediaList: new RegExp(`^${SID('AC')}/Messages/${SID('(?:SM|MM)')}/Media${JSON_EXT}$`),
  mediaMeta: new RegExp(`^${SID('AC')}/Messages/${SID('(?:SM|MM)')}/Media/${SID('ME')}\\.json$`),
  mediaContent: new RegExp(`^${SID('AC')}/Messages/${SID('(?:SM|MM)')}/Media/${SID('ME')}$`),
};

/** Where media redirects point: the sandbox's stand-in for Twilio's media CDN (pre-signed, no auth). */
export const MEDIA_CDN_PATH = '/__sandbox/twilio/media-cdn';

/** E.164: `+`, country code, up to 15 digits. */
export const E164 = /^\+[1-9]\d{6,14}$/;
export const MAX_BODY = 1600;
export const MAX_MEDIA = 10;
export const MAX_MEDIA_BYTES = 5 * 1024 * 1024;
type Form = Record<string, string[]>;

/**
 * `https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/...` as the sandbox serves it (JSON whether or
 * not the path ends in `.json`). Errors are written here in Twilio's body shape, never problem+json.
 */
@Controller(API_VERSION)
export class TwilioApiController {
  constructor(
    private readonly state: TwilioState,
    private readonly dispatcher: TwilioDispatcher,
  ) {}

  @All('Accounts/*path')
  async handle(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const rest = req.path.slice(`/${API_VERSION}/Accounts/`.length);
      const accountSid = /^(AC[0-9a-f]{32})/.exec(rest)?.[1];
      if (accountSid === undefined) {
        throw TwilioApiError.authenticate();
      }
      const account = authenticate(this.state, req, accountSid);
      const query = new URLSearchParams(req.url.split('?')[1] ?? '');
      const result = await this.route(req, res, account, rest, query);
      if (result !== undefined) {
        res.status(result.status).json(result.body);
      }
    } catch (error) {
      if (error instanceof TwilioApiError) {
        res.status(error.status).json(error.body);
        return;
      }
      const internal = new TwilioApiError(500, 20500, 'Internal Server Error');
      res.status(500).json(internal.body);
    }
  }

  private async route(
    req: Request,
    res: Response,
    account: AccountRecord,
    rest: string,
    query: URLSearchParams,
  ): Promise<{ status: number; body: unknown } | undefined> {
    const method = req.method;
    const base = `/${API_VERSION}/Accounts/${account.sid}`;
    let match: RegExpExecArray | null;
    if (ROUTES.account.test(rest) && method === 'GET') {
      return { status: 200, body: accountView(account) };
    }
    if (ROUTES.numbers.test(rest) && method === 'GET') {
      const filter = query.get('PhoneNumber');
      const numbers = [...this.state.numbers.values()].filter(
        (number) => number.accountSid === account.sid && matchesPhone(number.phoneNumber, filter),
      );
      return {
        status: 200,
        body: page(
          'incoming_phone_numbers',
          `${base}/IncomingPhoneNumbers.json`,
          query,
          numbers.map(numberView),
        ),
      };
    }
    if ((match = ROUTES.number.exec(rest)) !== null && (method === 'GET' || method === 'POST')) {
      const number = this.state.numbers.get(match[2] ?? '');
      if (number?.accountSid !== account.sid) {
        throw TwilioApiError.notFound(req.path);
      }
      if (method === 'POST') {
        const value = updateSmsUrls(number, readForm(req));
        number.statusCallback = value('StatusCallback') ?? number.statusCallback;
        number.statusCallbackMethod =
          httpMethodOf(value('StatusCallbackMethod')) ?? number.statusCallbackMethod;
        const applicationSid = value('SmsApplicationSid');
        if (applicationSid !== undefined) {
          if (
            applicationSid !== '' &&
            this.state.applications.get(applicationSid)?.accountSid !== account.sid
          ) {
            throw TwilioApiError.badRequest(21420, 'ApplicationSid is not accessible');
          }
          number.smsApplicationSid = applicationSid;
        }
        number.updatedMs = this.state.clock.nowMs();
      }
      return { status: 200, body: numberView(number) };
    }
    if ((match = ROUTES.application.exec(rest)) !== null && (method === 'GET' || method === 'POST')) {
      const application = this.state.applications.get(match[2] ?? '');
      if (application?.accountSid !== account.sid) {
        throw TwilioApiError.notFound(req.path);
      }
      if (method === 'POST') {
        updateSmsUrls(application, readForm(req));
        application.updatedMs = this.state.clock.nowMs();
      }
      return { status: 200, body: applicationView(application) };
    }
    if (ROUTES.messages.test(rest)) {
      if (method === 'POST') {
        const fault = takeFault(this.state.faults, account.sid);
        if (fault?.status === 429) {
          throw new TwilioApiError(429, fault.code, 'Too Many Requests');
        }
        const message = await this.createMessage(account, readForm(req), fault?.createAnyway !== false);
        if (fault?.status === 400) {
          throw TwilioApiError.badRequest(
            fault.code,
            `This 'From' number ${message.from} has exceeded the maximum number of queued messages`,
          );
        }
        if (fault !== undefined) {
          throw new TwilioApiError(fault.status, fault.code, 'An internal server error has occurred');
        }
        return { status: 201, body: messageView(message) };
      }
      if (method === 'GET') {
        const messages = this.listMessages(account, query);
        return {
          status: 200,
          body: page('messages', `${base}/Messages.json`, query, messages.map(messageView)),
        };
      }
    }
    if ((match = ROUTES.message.exec(rest)) !== null && method === 'GET') {
      return { status: 200, body: messageView(this.message(req, account, match[2])) };
    }
    if ((match = ROUTES.mediaList.exec(rest)) !== null && method === 'GET') {
      const message = this.message(req, account, match[2]);
      return {
        status: 200,
        body: page(
          'media_list',
          `${base}/Messages/${message.sid}/Media.json`,
          query,
          message.media.map(mediaView),
        ),
      };
    }
    if ((match = ROUTES.mediaMeta.exec(rest)) !== null && method === 'GET') {
      return { status: 200, body: mediaView(this.media(req, account, match[2], match[3])) };
    }
    if ((match = ROUTES.mediaContent.exec(rest)) !== null && method === 'GET') {
      const media = this.media(req, account, match[2], match[3]);
      if (this.state.settings.mediaRedirect) {
        // Twilio answers with a redirect to a short-lived pre-signed CDN URL (reference §2.4).
        const token = randomBytes(24).toString('base64url');
        this.state.signedMediaUrls.set(token, {
          media,
          expiresAtMs: Date.now() + this.state.settings.mediaUrlTtlMs,
        });
        res.redirect(302, `${requestOrigin(req)}${MEDIA_CDN_PATH}/${token}`);
        return undefined;
      }
      res.status(200).type(media.contentType).send(media.bytes);
      return undefined;
    }
    throw TwilioApiError.notFound(req.path);
  }

  /** Validates and creates a message; `persist: false` validates only (an injected 5xx that sends nothing). */
  private async createMessage(account: AccountRecord, form: Form, persist: boolean): Promise<MessageRecord> {
    const first = (name: string): string | undefined => form[name]?.[0];
    const to = first('To');
    const from = first('From');
    const serviceSid = first('MessagingServiceSid');
    const body = first('Body') ?? '';
    const mediaUrls = form.MediaUrl ?? [];
    if (to === undefined || to === '') {
      throw TwilioApiError.badRequest(21604, "A 'To' phone number is required.");
    }
    if ((from === undefined || from === '') && (serviceSid === undefined || serviceSid === '')) {
      throw TwilioApiError.badRequest(21603, "A 'From' phone number is required.");
    }
    if (from === undefined || from === '') {
      throw TwilioApiError.notFound(`/v1/Services/${serviceSid ?? ''}`);
    }
    if (body === '' && mediaUrls.length === 0) {
      throw TwilioApiError.badRequest(21602, 'Message body is required.');
    }
    if (!E164.test(to)) {
      throw TwilioApiError.badRequest(21211, `The 'To' number ${to} is not a valid phone number.`);
    }
    const sender = this.state.numberOf(account.sid, from);
    if (sender?.capabilities.sms !== true) {
      throw TwilioApiError.badRequest(
        21606,
        `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`,
      );
    }
    if (mediaUrls.length > 0 && !sender.capabilities.mms) {
      throw TwilioApiError.badRequest(
        21606,
        `The From phone number ${from} is not a valid, MMS-capable inbound phone number or short code for your account.`,
      );
    }
    if (body.length > MAX_BODY) {
      throw TwilioApiError.badRequest(
        21617,
        'The concatenated message body exceeds the 1600 character limit.',
      );
    }
    if (mediaUrls.length > MAX_MEDIA) {
      throw TwilioApiError.badRequest(21623, 'The number of media files exceeds the limit of 10.');
    }
    if (account.type === 'Trial' && !account.verifiedNumbers.has(to)) {
      throw TwilioApiError.badRequest(
        21608,
        `The number ${to} is unverified. Trial accounts cannot send messages to unverified numbers; verify ${to} at twilio.com/user/account/phone-numbers/verified, or purchase a Twilio number to send messages to unverified numbers`,
      );
    }
    if (this.state.optOuts.has(optOutKey(from, to))) {
      throw TwilioApiError.badRequest(21610, 'Attempt to send to unsubscribed recipient');
    }
    const sid = newSid(mediaUrls.length > 0 ? 'MM' : 'SM');
    const media = await this.fetchMedia(account, sid, mediaUrls);
    const now = this.state.clock.nowMs();
    const message: MessageRecord = {
      sid,
      accountSid: account.sid,
      from,
      to,
      body,
      direction: 'outbound-api',
      messagingServiceSid: null,
      numSegments: smsSegments(body).segments,
      media,
      statusCallback: first('StatusCallback') ?? null,
      status: 'queued',
      errorCode: null,
      errorMessage: null,
      createdMs: now,
      sentMs: null,
      updatedMs: now,
    };
    if (persist) {
      this.state.messages.set(sid, message);
      this.dispatcher.startLifecycle(account, message);
    }
    return message;
  }

  /** Fetches `MediaUrl`s now (Content-Type must be accepted, 5 MB in total); any failure → 21620. */
  private async fetchMedia(
    account: AccountRecord,
    parentSid: string,
    urls: string[],
  ): Promise<MediaRecord[]> {
    const invalid = (): TwilioApiError =>
      TwilioApiError.badRequest(
        21620,
        `Media urls: ${urls.join(',')} are invalid. Please use only valid http and https urls`,
      );
    if (urls.some((url) => !/^https?:\/\/[^/]+/i.test(url))) {
      throw invalid();
    }
    const media: MediaRecord[] = [];
    let total = 0;
    for (const url of urls) {
      let response: globalThis.Response;
      try {
        response = await fetch(url, {
          signal: AbortSignal.timeout(this.state.config.TWILIO_WEBHOOK_TIMEOUT_MS),
        });
      } catch {
        throw invalid();
      }
      const contentType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
      const bytes = Buffer.from(await response.arrayBuffer());
      total += bytes.length;
      if (!response.ok || !ACCEPTED_MEDIA_TYPES.has(contentType.toLowerCase()) || total > MAX_MEDIA_BYTES) {
        throw invalid();
      }
      media.push({
        sid: newSid('ME'),
        accountSid: account.sid,
        parentSid,
        contentType,
        bytes,
        createdMs: this.state.clock.nowMs(),
      });
    }
    return media;
  }

  private listMessages(account: AccountRecord, query: URLSearchParams): MessageRecord[] {
    const to = query.get('To');
    const from = query.get('From');
    const on = query.get('DateSent');
    const before = query.get('DateSent<');
    const after = query.get('DateSent>');
    const day = (message: MessageRecord): string =>
      new Date(message.sentMs ?? message.createdMs).toISOString().slice(0, 10);
    return [...this.state.messages.values()]
      .filter(
        (message) =>
          message.accountSid === account.sid &&
          (to === null || message.to === to) &&
          (from === null || message.from === from) &&
          (on === null || day(message) === on) &&
          (before === null || day(message) <= before) &&
          (after === null || day(message) >= after),
      )
      .reverse();
  }

  private message(req: Request, account: AccountRecord, sid: string | undefined): MessageRecord {
    const message = this.state.messages.get(sid ?? '');
    if (message?.accountSid !== account.sid) {
      throw TwilioApiError.notFound(req.path);
    }
    return message;
  }

  private media(
    req: Request,
    account: AccountRecord,
    messageSid: string | undefined,
    mediaSid: string | undefined,
  ): MediaRecord {
    const media = this.message(req, account, messageSid).media.find((item) => item.sid === mediaSid);
    if (media === undefined) {
      throw TwilioApiError.notFound(req.path);
    }
    return media;
  }
}

/**
 * HTTP Basic with `AccountSid:AuthToken` or `ApiKeySid:ApiKeySecret` (reference §2.1); else 401/20003. Without an
 * account in the path (the Messaging API), the user names it: the account itself, or one of its API keys.
 */
export function authenticate(
  state: TwilioState,
  req: Request,
  accountSid: string | undefined,
): AccountRecord {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) {
    throw TwilioApiError.authenticate();
  }
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const named =
    accountSid ??
    (user.startsWith('AC')
      ? user
      : [...state.accounts.values()].find((account) => account.apiKeys.has(user))?.sid);
  const account = named === undefined ? undefined : state.accounts.get(named);
  if (account === undefined) {
    throw TwilioApiError.authenticate();
  }
  const expected = user === account.sid ? account.authToken : account.apiKeys.get(user);
  if (colon < 0 || expected === undefined || !safeEqual(expected, password)) {
    throw TwilioApiError.authenticate();
  }
  return account;
}

/** A form's `GET`/`POST` (any case); undefined for anything else. */
export function httpMethodOf(given: string | undefined): 'GET' | 'POST' | undefined {
  const upper = given?.toUpperCase();
  return upper === 'GET' || upper === 'POST' ? upper : undefined;
}

/**
 * The SMS URLs and name a number and a TwiML App share, updated from the form's `SmsUrl`, `SmsMethod`,
 * `SmsFallbackUrl`, `SmsFallbackMethod`, `FriendlyName`; answers the form's first value by name, for the rest.
 */
function updateSmsUrls(
  target: Pick<
    NumberRecord,
    'smsUrl' | 'smsMethod' | 'smsFallbackUrl' | 'smsFallbackMethod' | 'friendlyName'
  >,
  form: Form,
): (name: string) => string | undefined {
  const value = (name: string): string | undefined => form[name]?.[0];
  target.smsUrl = value('SmsUrl') ?? target.smsUrl;
  target.smsMethod = httpMethodOf(value('SmsMethod')) ?? target.smsMethod;
  target.smsFallbackUrl = value('SmsFallbackUrl') ?? target.smsFallbackUrl;
  target.smsFallbackMethod = httpMethodOf(value('SmsFallbackMethod')) ?? target.smsFallbackMethod;
  target.friendlyName = value('FriendlyName') ?? target.friendlyName;
  return value;
}

/** Only form bodies carry parameters (a JSON body reads as no parameters → 21604, as on Twilio). */
export function readForm(req: Request): Form {
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return {};
  }
  const form: Form = {};
  const body = (req.body ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(body)) {
    const values = Array.isArray(value) ? value : [value];
    form[key] = values.filter((item): item is string => typeof item === 'string');
  }
  return form;
}

/** `PhoneNumber` filter: exact, or with `*` wildcards (reference §2.5). */
function matchesPhone(phoneNumber: string, filter: string | null): boolean {
  if (filter === null || filter === '') {
    return true;
  }
  if (!filter.includes('*')) {
    return phoneNumber === filter;
  }
  const pattern = filter.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${pattern}$`).test(phoneNumber);
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
