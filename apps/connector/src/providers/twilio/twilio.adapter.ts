import { RequestValidationError } from '@inbox-bridge/service-kit';
import {
  ProviderCapabilityTable,
  type ProviderCredentials,
  type ProviderMessageReceivedV1,
  type ReceivedAttachment,
} from '@inbox-bridge/shared';
import { HttpTransportError, type HttpResponse, type OutboundHttp } from '../../http/outbound-http.js';
import type { SendThrottle } from '../../outbound/send-throttle.js';
import { inboundHeader, mediaStreamFrom, publicWebhookUrl, webhookOrigin } from '../media-response.js';
import { assertFileFits } from '../outbound-file.js';
import {
  CredentialsRejectedError,
  InboundUnauthorizedError,
  MediaNotFoundError,
  SendFailure,
  type ConnectedAccount,
  type CredentialCheck,
  type FetchedStatus,
  type InboundEvent,
  type InboundRequest,
  type MediaStream,
  type OutboundFile,
  type OutboundMessage,
  type ProviderAdapter,
  type ProviderStatusReport,
  type SentReply,
  type WebhookState,
} from '../provider-port.js';
import { htmlToPlainText, splitText } from '../rich-text.js';
import { isValidTwilioSignature, parseTwilioForm, type TwilioParams } from './twilio-signature.js';

type TwilioCredentials = Extract<ProviderCredentials, { provider: 'twilio' }>;

const BODY_LIMIT = ProviderCapabilityTable.twilio.maxTextLength;
const MMS_TOTAL_LIMIT = 5 * 1024 * 1024;
const E164 = /^\+[1-9][0-9]{1,14}$/;
const SID = /^[A-Z]{2}[0-9a-f]{32}$/;
/** Twilio error codes are numeric (`30003`); the code is stored and published, so nothing else is taken. */
const ERROR_CODE = /^[0-9]{1,10}$/;
/** A MIME type as the contract takes it (`image/jpeg`, `audio/ogg; codecs=opus`), without control characters. */
const MIME_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;[^\p{Cc}]*)?$/u;

/** Reasons an agent understands, by Twilio error code (providers-api.md §2.10). */
export const TWILIO_ERROR_REASONS: Readonly<Record<string, string>> = {
  '20003': 'Twilio no longer accepts the account credentials; reconnect the account.',
  '21211': "The customer's phone number is not valid.",
  '21408': 'Texting this country is not enabled in the Twilio account (Messaging Geo Permissions).',
  '21602': 'The reply was empty.',
  '21606': 'The Twilio number cannot send messages to this destination.',
  '21608': 'This Twilio trial account can only text verified numbers.',
  '21610':
    'The customer replied STOP and unsubscribed; they must text START before they can receive replies.',
  '21611': "Twilio's queue of messages waiting to go out from this number was full.",
  '21612': "This message cannot be routed to the customer's number.",
  '21614': "The customer's number is not a mobile number and cannot receive texts.",
  '21617': 'The reply is longer than SMS allows (1600 characters).',
  '21620': 'Twilio could not fetch an attached file.',
  '21623': 'An MMS can carry at most 10 files.',
  '21635': "The customer's number is a landline and cannot receive texts.",
  '30001': "Twilio's queue for this number was full; the message was not sent.",
  '30002': 'The Twilio account is suspended.',
  '30003': "The customer's phone is unreachable (switched off or out of coverage).",
  '30004': 'The message was blocked by the customer or their carrier.',
  '30005': "The customer's number does not exist or is no longer in service.",
  '30006': "The customer's number is a landline or its carrier cannot receive texts.",
  '30007': 'The carrier filtered the message as spam.',
  '30008': 'The carrier could not deliver the message (unknown carrier error).',
};

/**
 * Refusals of a create that say "later", not "no" (§2.10): the `From` number's queue is full (§2.9). Nothing was
 * created, so the reply is retried like a 429.
 */
const RETRY_LATER_CODES: ReadonlySet<string> = new Set(['21611']);

/** Statuses after which Twilio reports nothing more about a message (§2.8; `read` is never sent for SMS/MMS). */
const FINAL_STATUSES: ReadonlySet<string> = new Set([
  'delivered',
  'undelivered',
  'failed',
  'canceled',
  'read',
]);

/** A Twilio message status (callback or fetched) as the HubSpot-visible report; undefined when it changes nothing. */
function statusReport(
  messageSid: string,
  status: string,
  errorCode: string | undefined,
): ProviderStatusReport | undefined {
  const occurredAt = new Date().toISOString();
  const final = FINAL_STATUSES.has(status);
  switch (status) {
    case 'sent':
    case 'delivered':
      return { providerMessageId: messageSid, status: 'SENT', occurredAt, final };
    case 'read':
      return { providerMessageId: messageSid, status: 'READ', occurredAt, final };
    case 'failed':
    case 'undelivered':
      return {
        providerMessageId: messageSid,
        status: 'FAILED',
        failureReason: twilioReason(errorCode),
        ...(errorCode === undefined || errorCode === '' ? {} : { providerErrorCode: errorCode }),
        occurredAt,
        final,
      };
    default:
      return undefined;
  }
}

export function twilioReason(code: string | undefined): string {
  if (code === undefined || code === '') {
    return 'Twilio could not deliver the message.';
  }
  return TWILIO_ERROR_REASONS[code] ?? `Twilio could not deliver the message (error ${code}).`;
}

/** The fields of a Message resource (§2.3) that identify a message created by an unsure attempt. */
interface TwilioMessageView {
  readonly sid: string;
  readonly direction: string;
  readonly status?: string;
  readonly error_code?: number | null;
  readonly from?: string;
  readonly body: string | null;
  readonly num_media: string;
  readonly date_created: string;
  readonly date_sent?: string | null;
}

interface TwilioMessagePage {
  readonly messages?: TwilioMessageView[];
  readonly next_page_uri?: string | null;
}

/** Pages of one day's messages read at most by one comparison (`PageSize` 1000, Twilio's largest). */
const MAX_LIST_PAGES = 50;

/** The fields of an IncomingPhoneNumber (§2.5) this bridge reads. */
interface TwilioNumberView {
  readonly sid: string;
  readonly phone_number: string;
  readonly friendly_name?: string;
  readonly sms_url?: string;
  readonly sms_application_sid?: string | null;
  readonly capabilities?: { readonly sms?: boolean; readonly mms?: boolean };
}

/** The fields of a Messaging Service (`messaging.twilio.com/v1/Services`) that decide where inbound goes. */
interface TwilioServiceView {
  readonly sid: string;
  readonly friendly_name?: string;
  readonly inbound_request_url?: string | null;
  readonly use_inbound_webhook_on_number?: boolean;
}

/** Pages of an account's Messaging Services read at most to find a number's (`PageSize` 1000, Twilio's largest). */
const MAX_SERVICE_PAGES = 5;

/**
 * Who decides where a number's incoming messages go (§2.5 step 3) and the URL it sends them to: a Messaging Service
 * that handles inbound itself (unless it defers to the number, `use_inbound_webhook_on_number`), else the number's
 * TwiML App (`sms_application_sid`), else the number's own `sms_url`.
 */
export interface TwilioInboundOwner {
  readonly kind: 'number' | 'twiml-app' | 'messaging-service';
  readonly sid: string;
  readonly name: string;
  /** '' when it has none (a service with none drops the messages). */
  readonly url: string;
}

interface TwilioErrorBody {
  readonly code?: number;
  readonly message?: string;
}

/** Every MIME type the capability declares for MMS (Twilio refuses other types with 21620, §2.9). */
const MMS_TYPES: ReadonlySet<string> = new Set(
  ProviderCapabilityTable.twilio.outboundMedia.flatMap((media) => media.mimeTypes),
);

function assertMmsType(file: OutboundFile): void {
  const type = file.mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!MMS_TYPES.has(type)) {
    throw new SendFailure(
      'permanent',
      `The file “${file.fileName}” (${type === '' ? 'unknown type' : type}) cannot be sent by MMS.`,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  }
}

function one(params: TwilioParams, name: string): string | undefined {
  return params[name]?.[0];
}

function kindOf(contentType: string): 'image' | 'audio' | 'video' | 'file' {
  if (contentType.startsWith('image/')) {
    return 'image';
  }
  if (contentType.startsWith('audio/')) {
    return 'audio';
  }
  if (contentType.startsWith('video/')) {
    return 'video';
  }
  return 'file';
}

/** The `ME…` SID of `MediaUrl{N}` when its path is this account's media of this message (§2.4), else undefined. */
function mediaSidOf(url: string, accountSid: string, messageSid: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const match =
    /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\/([A-Z]{2}[0-9a-f]{32})\/Media\/(ME[0-9a-f]{32})\/?$/.exec(
      pathname,
    );
  return match?.[1] === accountSid && match[2] === messageSid ? match[3] : undefined;
}

export interface TwilioAdapterOptions {
  readonly apiBaseUrl: string;
  /** `https://messaging.twilio.com`: Messaging Services. */
  readonly messagingApiBaseUrl: string;
  readonly publicBaseUrl: string;
}

/** Twilio Programmable Messaging, SMS/MMS (providers-api.md Part 2). */
export class TwilioAdapter implements ProviderAdapter {
  readonly provider = 'twilio' as const;
  readonly capabilities = ProviderCapabilityTable.twilio;

  constructor(
    private readonly http: OutboundHttp,
    private readonly throttle: SendThrottle,
    private readonly options: TwilioAdapterOptions,
  ) {}

  webhookUrl(channelAccountId: string): string {
    return publicWebhookUrl(this.options.publicBaseUrl, 'twilio', channelAccountId);
  }

  /**
   * The webhook that names no account (`/webhooks/twilio`): a message to it belongs to the account connected with its
   * `To` number. It is the one to give a TwiML App or Messaging Service, which may serve several numbers, and it is
   * known before HubSpot creates the account.
   */
  numberRoutedWebhookUrl(): string {
    return `${this.options.publicBaseUrl.replace(/\/+$/, '')}/webhooks/twilio`;
  }

  /** Whether `url` delivers this account's messages: its own webhook, or the number-routed one. */
  private isOurs(url: string, channelAccountId: string | undefined): boolean {
    return (
      url === this.numberRoutedWebhookUrl() ||
      (channelAccountId !== undefined && url === this.webhookUrl(channelAccountId))
    );
  }

  /** `channelAccountId`: set when the credentials are new ones for a connected account (its webhook counts as ours). */
  async validateCredentials(
    credentials: ProviderCredentials,
    channelAccountId?: string,
  ): Promise<CredentialCheck> {
    if (credentials.provider !== 'twilio') {
      return { ok: false, code: 'wrong-provider', message: 'These are not Twilio credentials.' };
    }
    try {
      const account = await this.rest(credentials, 'GET', `/Accounts/${credentials.accountSid}.json`);
      if (account.status === 401 || account.status === 404) {
        account.discard();
        return {
          ok: false,
          code: 'invalid-credentials',
          message:
            'Twilio does not accept this Account SID and Auth Token. Copy both again from the Twilio Console.',
        };
      }
      if (account.status !== 200) {
        account.discard();
        return this.unavailable();
      }
      const { status } = await account.json<{ status?: string }>();
      if (status !== 'active') {
        return {
          ok: false,
          code: 'account-not-active',
          message: `The Twilio account is ${status ?? 'not active'}.`,
        };
      }
      const number = await this.findNumber(credentials);
      if (number === undefined) {
        return {
          ok: false,
          code: 'number-not-on-account',
          message: `${credentials.phoneNumber} is not a phone number of this Twilio account.`,
        };
      }
      if (number.capabilities?.sms !== true) {
        return {
          ok: false,
          code: 'number-cannot-sms',
          message: `${credentials.phoneNumber} cannot send or receive SMS.`,
        };
      }
      const owner = await this.inboundOwner(credentials, number);
      if (owner.kind !== 'number' && !this.isOurs(owner.url, channelAccountId)) {
        return this.inboundElsewhere(credentials.phoneNumber, owner);
      }
      const name =
        number.friendly_name !== undefined && number.friendly_name !== ''
          ? number.friendly_name
          : credentials.phoneNumber;
      return {
        ok: true,
        accountName: name.slice(0, 1024),
        deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: credentials.phoneNumber },
      };
    } catch (error) {
      if (error instanceof HttpTransportError) {
        return this.unavailable();
      }
      throw error;
    }
  }

  /** Points the number's incoming-message webhook at the connector (§2.5 step 3). */
  async connect(account: ConnectedAccount): Promise<void> {
    const credentials = this.credentialsOf(account);
    const number = await this.findNumber(credentials);
    if (number === undefined) {
      throw new Error(`${credentials.phoneNumber} is no longer on the Twilio account`);
    }
    const response = await this.rest(
      credentials,
      'POST',
      `/Accounts/${credentials.accountSid}/IncomingPhoneNumbers/${number.sid}.json`,
      {
        SmsUrl: [this.webhookUrl(account.channelAccountId)],
        SmsMethod: ['POST'],
      },
    );
    response.discard();
    if (response.status !== 200) {
      throw new Error(`Twilio answered ${response.status} to the SmsUrl update`);
    }
  }

  /**
   * Where the number's messages go: its `sms_url`, or the URL of the TwiML App or Messaging Service that owns its
   * inbound (`owner`; `connect` cannot change that one). Twilio keeps no delivery errors there (its messages are
   * compared instead).
   */
  async readWebhook(account: ConnectedAccount): Promise<WebhookState> {
    const credentials = this.credentialsOf(account);
    const number = await this.findNumber(credentials);
    if (number === undefined) {
      throw new Error(`${credentials.phoneNumber} is no longer on the Twilio account`);
    }
    const owner = await this.inboundOwner(credentials, number);
    return {
      pointsHere: this.isOurs(owner.url, account.channelAccountId),
      url: owner.url,
      ...(owner.kind === 'number'
        ? {}
        : {
            owner: {
              kind: owner.kind,
              sid: owner.sid,
              reason: this.inboundElsewhere(credentials.phoneNumber, owner).message,
            },
          }),
    };
  }

  /** Who decides where the number's incoming messages go, and the URL they go to (§2.5 step 3). */
  private async inboundOwner(
    credentials: TwilioCredentials,
    number: TwilioNumberView,
  ): Promise<TwilioInboundOwner> {
    const service = await this.serviceHandlingInbound(credentials, number.sid);
    if (service !== undefined) {
      return {
        kind: 'messaging-service',
        sid: service.sid,
        name: service.friendly_name ?? '',
        url: service.inbound_request_url ?? '',
      };
    }
    const appSid = number.sms_application_sid ?? '';
    // Only an `AP…` is a TwiML App: a service's deferring number is decided above, whatever else the field holds.
    if (appSid.startsWith('AP')) {
      if (!SID.test(appSid)) {
        throw new HttpTransportError(
          `Twilio named the number's TwiML App ${appSid.slice(0, 40)}`,
          'EPROVIDER',
        );
      }
      const app = await this.getJson<{ friendly_name?: string; sms_url?: string | null }>(
        credentials,
        `/Accounts/${credentials.accountSid}/Applications/${appSid}.json`,
        'the TwiML App lookup',
      );
      return { kind: 'twiml-app', sid: appSid, name: app.friendly_name ?? '', url: app.sms_url ?? '' };
    }
    return { kind: 'number', sid: number.sid, name: number.friendly_name ?? '', url: number.sms_url ?? '' };
  }

  /**
   * The account's Messaging Service that holds the number and handles its inbound itself (not deferring to the
   * number). A number is in one service at most; only services that do not defer are asked whether they hold it.
   */
  private async serviceHandlingInbound(
    credentials: TwilioCredentials,
    numberSid: string,
  ): Promise<TwilioServiceView | undefined> {
    const origin = this.options.messagingApiBaseUrl.replace(/\/+$/, '');
    let url: string | undefined = `${origin}/v1/Services?PageSize=1000`;
    for (let pages = 0; url !== undefined; pages += 1) {
      if (pages === MAX_SERVICE_PAGES) {
        throw new HttpTransportError(
          `more than ${MAX_SERVICE_PAGES} pages of Messaging Services`,
          'EPROVIDER',
        );
      }
      const page: { services?: TwilioServiceView[]; meta?: { next_page_url?: string | null } } =
        await this.getJson(credentials, url, 'the Messaging Services list');
      for (const service of page.services ?? []) {
        if (service.use_inbound_webhook_on_number === true || !SID.test(service.sid)) {
          continue;
        }
        const member = await this.rest(
          credentials,
          'GET',
          `${origin}/v1/Services/${service.sid}/PhoneNumbers/${numberSid}`,
        );
        this.refuseRejectedCredentials(member);
        member.discard();
        if (member.status === 200) {
          return service;
        }
        if (member.status !== 404) {
          throw new HttpTransportError(
            `Twilio answered ${member.status} to a Messaging Service number`,
            'EPROVIDER',
          );
        }
      }
      const next = page.meta?.next_page_url ?? undefined;
      // Only pages of the configured Messaging API are followed.
      url = next?.startsWith(`${origin}/v1/Services?`) === true ? next : undefined;
    }
    return undefined;
  }

  /** A number whose incoming messages a TwiML App or Messaging Service sends elsewhere: why, and what to set. */
  private inboundElsewhere(
    phoneNumber: string,
    owner: TwilioInboundOwner,
  ): Extract<CredentialCheck, { ok: false }> {
    const named = `${owner.sid}${owner.name === '' ? '' : ` (“${owner.name.slice(0, 64)}”)`}`;
    const current = owner.url === '' ? 'is not set' : `points at ${webhookOrigin(owner.url).slice(0, 200)}`;
    const target = this.numberRoutedWebhookUrl();
    const [code, message] =
      owner.kind === 'messaging-service'
        ? [
            'inbound-owned-by-messaging-service',
            `${phoneNumber} is in the Twilio Messaging Service ${named}, which handles its incoming messages itself (its Request URL ${current}), so they would never reach the bridge. In the Twilio Console, set that service's incoming-messages Request URL to ${target} (HTTP POST), or make it "Defer to sender's webhook", then connect again. The bridge does not change the service: it serves every number in it.`,
          ]
        : [
            'inbound-owned-by-twiml-app',
            `${phoneNumber} uses the Twilio TwiML App ${named} for incoming messages (its Messaging Request URL ${current}), so they would never reach the bridge. In the Twilio Console, set that app's Messaging Request URL to ${target} (HTTP POST), or remove the app from the number, then connect again. The bridge does not change the app: other numbers may use it.`,
          ];
    // The contract's short text (1,024 characters) holds it unless CONNECTOR_PUBLIC_BASE_URL is very long.
    return { ok: false, code, message: message.slice(0, 1024) };
  }

  /** Unhooks the number, only if it still points at this account's webhook. */
  async disconnect(account: ConnectedAccount): Promise<void> {
    const credentials = this.credentialsOf(account);
    const number = await this.findNumber(credentials);
    if (number?.sms_url !== this.webhookUrl(account.channelAccountId)) {
      return;
    }
    const response = await this.rest(
      credentials,
      'POST',
      `/Accounts/${credentials.accountSid}/IncomingPhoneNumbers/${number.sid}.json`,
      {
        SmsUrl: [''],
      },
    );
    response.discard();
  }

  parseInbound(
    account: ConnectedAccount,
    request: InboundRequest,
    path: 'message' | 'status',
  ): InboundEvent[] {
    const credentials = this.credentialsOf(account);
    const params = parseTwilioForm(request.rawBody);
    if (
      !isValidTwilioSignature(
        credentials.authToken,
        inboundHeader(request, 'x-twilio-signature'),
        request.publicUrl,
        params,
      )
    ) {
      throw new InboundUnauthorizedError('the X-Twilio-Signature is missing or wrong');
    }
    if (one(params, 'AccountSid') !== credentials.accountSid) {
      throw new RequestValidationError([
        { field: 'AccountSid', message: 'is not the account of this channel account' },
      ]);
    }
    const to = one(params, 'To');
    if (path === 'message' && to !== undefined && to !== credentials.phoneNumber) {
      // A TwiML App or Messaging Service serving several numbers, pointed at this account's own URL: another number's
      // message is not this account's conversation (its own account's URL, or `/webhooks/twilio`, takes it).
      return [{ kind: 'ignored', reason: `sent to ${to.slice(0, 20)}, not to this account's number` }];
    }
    return [path === 'status' ? this.statusEvent(params) : this.messageEvent(account, params)];
  }

  async resolveMedia(account: ConnectedAccount, mediaKey: string): Promise<MediaStream> {
    const credentials = this.credentialsOf(account);
    const [messageSid, mediaSid] = mediaKey.split('/');
    if (messageSid === undefined || mediaSid === undefined || !SID.test(messageSid) || !SID.test(mediaSid)) {
      throw new MediaNotFoundError(`not a Twilio media key: ${mediaKey}`);
    }
    const response = await this.rest(
      credentials,
      'GET',
      `/Accounts/${credentials.accountSid}/Messages/${messageSid}/Media/${mediaSid}`,
      undefined,
      3,
    );
    if (response.status === 404) {
      response.discard();
      throw new MediaNotFoundError('Twilio no longer has this media');
    }
    if (response.status !== 200) {
      response.discard();
      throw new Error(`Twilio answered ${response.status} to a media download`);
    }
    return mediaStreamFrom(response, this.capabilities.maxInboundMediaBytes);
  }

  async send(account: ConnectedAccount, { request, files, progress }: OutboundMessage): Promise<SentReply> {
    const credentials = this.credentialsOf(account);
    if (!E164.test(request.conversationKey)) {
      throw new SendFailure('permanent', "The customer's phone number is not valid.", '21211');
    }
    const total = files.reduce((sum, file) => sum + (file.sizeBytes ?? 0), 0);
    for (const file of files) {
      assertFileFits(file, MMS_TOTAL_LIMIT, 'an MMS');
      assertMmsType(file);
    }
    if (total > MMS_TOTAL_LIMIT) {
      throw new SendFailure(
        'permanent',
        'The attached files together are larger than an MMS can carry (5 MB).',
        'FILE_TOO_LARGE',
      );
    }
    if (files.length > 0 && progress.sent('sms:0') === undefined) {
      await this.assertNumberSendsMms(credentials);
    }
    const text =
      request.richText !== undefined && request.richText.trim() !== ''
        ? htmlToPlainText(request.richText)
        : (request.text ?? '').trim();
    const bodies = text === '' ? [''] : splitText(text, BODY_LIMIT);
    const ids: string[] = [];
    for (const [index, body] of bodies.entries()) {
      const part = `sms:${index}`;
      const mediaCount = index === 0 ? files.length : 0;
      const earlier =
        progress.sent(part) ??
        (await this.createdByUnsureAttempt(credentials, request, part, body, mediaCount, progress));
      if (earlier !== undefined) {
        ids.push(earlier);
        progress.record(part, earlier);
        continue;
      }
      const form: Record<string, string[]> = {
        To: [request.conversationKey],
        From: [credentials.phoneNumber],
        StatusCallback: [`${this.webhookUrl(account.channelAccountId)}/status`],
        ...(body === '' ? {} : { Body: [body] }),
        ...(mediaCount > 0 ? { MediaUrl: files.map((file) => file.publicUrl) } : {}),
      };
      await this.throttle.acquire(`twilio:${account.channelAccountId}`, this.capabilities.sendsPerSecond, 3);
      const attemptedAt = Date.now();
      let response: HttpResponse;
      try {
        response = await this.restForSend(
          credentials,
          'POST',
          `/Accounts/${credentials.accountSid}/Messages.json`,
          form,
        );
      } catch (error) {
        if (error instanceof SendFailure) {
          this.markUnsure(progress, part, attemptedAt);
        }
        throw error;
      }
      if (response.status === 201 || response.status === 200) {
        const { sid } = await response.json<{ sid: string }>();
        ids.push(sid);
        progress.record(part, sid);
        continue;
      }
      if (response.status >= 500) {
        this.markUnsure(progress, part, attemptedAt);
      }
      throw await this.failure(response);
    }
    const [first, ...later] = ids;
    if (first === undefined) {
      throw new SendFailure('permanent', 'The reply has no text or file that Twilio can carry.', 'EMPTY');
    }
    return { providerMessageId: first, laterPartIds: later };
  }

  /**
   * A create that timed out or got a 5xx may have been sent anyway (§2.3: not idempotent). The first such
   * attempt of a part is remembered, so the retry first looks for it in the Messages list.
   */
  /**
   * The inbound messages Twilio received in [from, until), which must lie in one UTC day: the list of that day
   * (`DateSent`, newest first, §2.3) read until it is older than `from`, and each message's media list. Messages of
   * `from`'s second and of `until`'s come twice (in this span and the next): their dedupe keys tell.
   */
  async listInbound(account: ConnectedAccount, from: Date, until: Date): Promise<InboundEvent[]> {
    const credentials = this.credentialsOf(account);
    const day = from.toISOString().slice(0, 10);
    if (new Date(until.getTime() - 1).toISOString().slice(0, 10) !== day) {
      throw new RangeError(
        `listInbound takes one UTC day at a time, not ${from.toISOString()}–${until.toISOString()}`,
      );
    }
    const listPath = `/Accounts/${credentials.accountSid}/Messages.json`;
    let path: string | undefined =
      `${listPath}?${new URLSearchParams({ To: credentials.phoneNumber, DateSent: day, PageSize: '1000' }).toString()}`;
    // Twilio's times are whole seconds: a message of `from`'s own second may be stamped before it.
    const since = Math.floor(from.getTime() / 1000) * 1000;
    const received: { view: TwilioMessageView; at: number }[] = [];
    for (let pages = 0; path !== undefined; pages += 1) {
      if (pages === MAX_LIST_PAGES) {
        throw new Error(`more than ${MAX_LIST_PAGES} pages of messages on ${day}; compared nothing`);
      }
      const page: TwilioMessagePage = await this.getJson(credentials, path, 'the message list');
      let older = false;
      for (const view of page.messages ?? []) {
        const at = Date.parse(view.date_sent ?? view.date_created);
        older ||= at < since;
        if (view.direction === 'inbound' && at >= since && at < until.getTime()) {
          received.push({ view, at });
        }
      }
      const next = page.next_page_uri ?? undefined;
      // The next page is read from the configured API only, and only while the list is not older than `from`.
      path =
        older || next?.startsWith(`/2010-04-01${listPath}?`) !== true
          ? undefined
          : next.slice('/2010-04-01'.length);
    }
    // Newest first, and whole seconds: reversed, then in time order, a second's messages keep the list's order.
    received.reverse().sort((a, b) => a.at - b.at);
    const events: InboundEvent[] = [];
    for (const { view, at } of received) {
      events.push(this.messageEvent(account, await this.paramsOf(credentials, view), new Date(at)));
    }
    return events;
  }

  /** The webhook parameters Twilio would have sent for a listed inbound message (§2.6). */
  private async paramsOf(credentials: TwilioCredentials, view: TwilioMessageView): Promise<TwilioParams> {
    const params: Record<string, string[]> = {
      MessageSid: [view.sid],
      From: [view.from ?? ''],
      Body: [view.body ?? ''],
      NumMedia: [view.num_media],
    };
    if (Number(view.num_media) > 0) {
      const media: { media_list?: { sid: string; content_type: string }[] } = await this.getJson(
        credentials,
        `/Accounts/${credentials.accountSid}/Messages/${view.sid}/Media.json`,
        'a media list',
      );
      for (const [index, item] of (media.media_list ?? []).entries()) {
        params[`MediaUrl${index}`] = [
          `${this.options.apiBaseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${credentials.accountSid}/Messages/${view.sid}/Media/${item.sid}`,
        ];
        params[`MediaContentType${index}`] = [item.content_type];
      }
    }
    return params;
  }

  /** A GET answered 200 with JSON; `path` as {@link rest} takes it. */
  private async getJson<T>(credentials: TwilioCredentials, path: string, what: string): Promise<T> {
    const response = await this.rest(credentials, 'GET', path);
    this.refuseRejectedCredentials(response);
    if (response.status !== 200) {
      response.discard();
      throw new HttpTransportError(`Twilio answered ${response.status} to ${what}`, 'EPROVIDER');
    }
    return response.json<T>();
  }

  /** Twilio's 401 (20003) to a read: the account's credentials were rotated or revoked. */
  private refuseRejectedCredentials(response: HttpResponse): void {
    if (response.status === 401) {
      response.discard();
      throw new CredentialsRejectedError(twilioReason('20003'), '20003');
    }
  }

  private markUnsure(progress: OutboundMessage['progress'], part: string, attemptedAt: number): void {
    if (progress.sent(`${part}:unsure-since`) === undefined) {
      progress.record(`${part}:unsure-since`, String(attemptedAt));
    }
  }

  /**
   * The SID of the message an unsure attempt created after all: the newest outbound message from the number
   * to the customer with this body and media count, created since that attempt (RFC 2822 dates have whole
   * seconds). A list Twilio does not answer is a transient failure: sending blindly could text twice.
   */
  private async createdByUnsureAttempt(
    credentials: TwilioCredentials,
    request: OutboundMessage['request'],
    part: string,
    body: string,
    mediaCount: number,
    progress: OutboundMessage['progress'],
  ): Promise<string | undefined> {
    const since = Number(progress.sent(`${part}:unsure-since`));
    if (!Number.isFinite(since)) {
      return undefined;
    }
    const query = new URLSearchParams({
      To: request.conversationKey,
      From: credentials.phoneNumber,
      PageSize: '50',
    });
    const response = await this.restForSend(
      credentials,
      'GET',
      `/Accounts/${credentials.accountSid}/Messages.json?${query.toString()}`,
    );
    if (response.status !== 200) {
      response.discard();
      throw new SendFailure('transient', 'Twilio is busy or unavailable right now.', String(response.status));
    }
    const { messages } = await response.json<{ messages?: TwilioMessageView[] }>();
    return messages?.find(
      (message) =>
        message.direction.startsWith('outbound') &&
        (message.body ?? '') === body &&
        Number(message.num_media) === mediaCount &&
        Date.parse(message.date_created) >= Math.floor(since / 1000) * 1000,
    )?.sid;
  }

  /**
   * Twilio refuses media from a number without MMS (§2.5: `capabilities.mms`) with a code that does not say so
   * (21606), so the number is read first and the agent told why. A number Twilio no longer lists is left to the
   * create, which refuses it with its own reason.
   */
  private async assertNumberSendsMms(credentials: TwilioCredentials): Promise<void> {
    let number: TwilioNumberView | undefined;
    try {
      number = await this.findNumber(credentials);
    } catch (error) {
      if (error instanceof HttpTransportError) {
        throw new SendFailure('transient', 'Twilio could not be reached.', error.code);
      }
      if (error instanceof CredentialsRejectedError) {
        throw SendFailure.credentialsRejected(error.reason, error.providerErrorCode);
      }
      throw error;
    }
    if (number !== undefined && number.capabilities?.mms !== true) {
      throw new SendFailure(
        'permanent',
        `The Twilio number ${credentials.phoneNumber} cannot send MMS, so a reply with files cannot go out from it: send the text without the files, or connect an MMS-capable number.`,
        'NUMBER_CANNOT_MMS',
      );
    }
  }

  private async failure(response: HttpResponse): Promise<SendFailure> {
    let body: TwilioErrorBody = {};
    try {
      body = await response.json<TwilioErrorBody>();
    } catch {
      // not the JSON error body: the status alone decides
    }
    const code = body.code === undefined ? String(response.status) : String(body.code);
    if (response.status === 429 || response.status >= 500) {
      // Only 429/20429 is guaranteed unprocessed; a 5xx may have sent the SMS (§2.3) — retried anyway, documented.
      const retryAfter = Number(response.headers['retry-after']);
      return new SendFailure(
        'transient',
        'Twilio is busy or unavailable right now.',
        code,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
    }
    if (response.status === 401) {
      return SendFailure.credentialsRejected(twilioReason('20003'), code);
    }
    if (RETRY_LATER_CODES.has(code)) {
      return new SendFailure('transient', twilioReason(code), code);
    }
    return new SendFailure('permanent', twilioReason(code), code);
  }

  private messageEvent(account: ConnectedAccount, params: TwilioParams, sentAt = new Date()): InboundEvent {
    const from = one(params, 'From');
    const messageSid = one(params, 'MessageSid') ?? one(params, 'SmsSid');
    if (from === undefined || from === '') {
      throw new RequestValidationError([{ field: 'From', message: 'required' }]);
    }
    if (messageSid === undefined || !SID.test(messageSid)) {
      throw new RequestValidationError([{ field: 'MessageSid', message: 'expected a Twilio message SID' }]);
    }
    const { accountSid } = this.credentialsOf(account);
    const count = Math.min(Number(one(params, 'NumMedia') ?? '0') || 0, 10);
    const attachments: ReceivedAttachment[] = [];
    for (let index = 0; index < count; index += 1) {
      const url = one(params, `MediaUrl${index}`);
      const contentType = one(params, `MediaContentType${index}`) ?? 'application/octet-stream';
      // Only the media SID is kept: the bytes are always fetched from the configured Twilio API with this
      // account's credentials (§2.4), never from the host the URL names, so a forged URL cannot aim a request.
      const mediaSid = url === undefined ? undefined : mediaSidOf(url, accountSid, messageSid);
      if (mediaSid === undefined) {
        attachments.push({
          kind: 'unsupported',
          description: 'The customer sent a file that could not be read',
        });
        continue;
      }
      attachments.push({
        kind: kindOf(contentType),
        media: {
          downloadRef: `media:${account.channelAccountId}:${messageSid}/${mediaSid}`,
          mimeType:
            contentType.length <= 255 && MIME_TYPE.test(contentType)
              ? contentType
              : 'application/octet-stream',
        },
      });
    }
    const body = one(params, 'Body') ?? '';
    // PostgreSQL stores no NUL character (the gateway keeps the message in jsonb): refused here, not dead-lettered.
    if (body.includes('\u0000')) {
      throw new RequestValidationError([
        { field: 'Body', message: 'holds a NUL character, which cannot be stored' },
      ]);
    }
    const message: ProviderMessageReceivedV1 = {
      provider: 'twilio',
      channelAccountId: account.channelAccountId,
      conversationKey: from,
      sender: { id: from, ...(E164.test(from) ? { phoneNumber: from } : {}) },
      providerMessageId: messageSid,
      sentAt: sentAt.toISOString(),
      ...(body.trim() === '' ? {} : { text: body }),
      attachments,
    };
    if (body.trim() === '' && attachments.length === 0) {
      return { kind: 'ignored', reason: 'empty SMS' };
    }
    return { kind: 'message', normalised: { dedupeKey: `sms:${messageSid}`, message } };
  }

  private statusEvent(params: TwilioParams): InboundEvent {
    const messageSid = one(params, 'MessageSid') ?? one(params, 'SmsSid');
    const status = one(params, 'MessageStatus') ?? one(params, 'SmsStatus');
    if (messageSid === undefined || !SID.test(messageSid)) {
      throw new RequestValidationError([{ field: 'MessageSid', message: 'expected a Twilio message SID' }]);
    }
    if (status === undefined) {
      throw new RequestValidationError([{ field: 'MessageStatus', message: 'required with MessageSid' }]);
    }
    const errorCode = one(params, 'ErrorCode');
    if (errorCode !== undefined && errorCode !== '' && !ERROR_CODE.test(errorCode)) {
      throw new RequestValidationError([
        { field: 'ErrorCode', message: 'expected a numeric Twilio error code' },
      ]);
    }
    const report = statusReport(messageSid, status, errorCode);
    return report === undefined
      ? { kind: 'ignored', reason: `status ${status.slice(0, 32)} changes nothing in HubSpot` }
      : { kind: 'status', report };
  }

  async fetchStatus(account: ConnectedAccount, providerMessageId: string): Promise<FetchedStatus> {
    if (!SID.test(providerMessageId)) {
      return { final: true };
    }
    const credentials = this.credentialsOf(account);
    const response = await this.rest(
      credentials,
      'GET',
      `/Accounts/${credentials.accountSid}/Messages/${providerMessageId}.json`,
    );
    if (response.status === 404) {
      response.discard();
      return { final: true };
    }
    this.refuseRejectedCredentials(response);
    if (response.status !== 200) {
      response.discard();
      throw new HttpTransportError(`Twilio answered ${response.status} to a message fetch`, 'EPROVIDER');
    }
    const view = await response.json<TwilioMessageView>();
    const status = view.status ?? '';
    const errorCode =
      view.error_code === undefined || view.error_code === null ? undefined : String(view.error_code);
    const report = statusReport(providerMessageId, status, errorCode);
    return { ...(report === undefined ? {} : { report }), final: FINAL_STATUSES.has(status) };
  }

  private unavailable(): CredentialCheck {
    return {
      ok: false,
      code: 'provider-unavailable',
      message: 'Twilio could not be reached to check the credentials. Try again in a moment.',
    };
  }

  private async findNumber(credentials: TwilioCredentials): Promise<TwilioNumberView | undefined> {
    const list = await this.getJson<{ incoming_phone_numbers?: TwilioNumberView[] }>(
      credentials,
      `/Accounts/${credentials.accountSid}/IncomingPhoneNumbers.json?PhoneNumber=${encodeURIComponent(credentials.phoneNumber)}`,
      'the number lookup',
    );
    return list.incoming_phone_numbers?.find((entry) => entry.phone_number === credentials.phoneNumber);
  }

  /** `rest` for a send: Twilio out of reach is a transient `SendFailure`. */
  private async restForSend(
    credentials: TwilioCredentials,
    method: 'GET' | 'POST',
    path: string,
    form?: Readonly<Record<string, readonly string[]>>,
  ): Promise<HttpResponse> {
    try {
      return await this.rest(credentials, method, path, form);
    } catch (error) {
      if (error instanceof HttpTransportError) {
        throw new SendFailure('transient', 'Twilio could not be reached.', error.code);
      }
      throw error;
    }
  }

  /** `path` under the REST API's `/2010-04-01`, or an absolute URL of the Messaging API. */
  private rest(
    credentials: TwilioCredentials,
    method: 'GET' | 'POST',
    path: string,
    form?: Readonly<Record<string, readonly string[]>>,
    maxRedirects = 0,
  ): Promise<HttpResponse> {
    const body =
      form === undefined
        ? undefined
        : new URLSearchParams(
            Object.entries(form).flatMap(([name, values]) =>
              values.map((value): [string, string] => [name, value]),
            ),
          ).toString();
    return this.http.request({
      method,
      url: path.startsWith('/') ? `${this.options.apiBaseUrl.replace(/\/+$/, '')}/2010-04-01${path}` : path,
      headers: {
        authorization: `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(body === undefined ? {} : { body }),
      maxRedirects,
    });
  }

  private credentialsOf(account: ConnectedAccount): TwilioCredentials {
    if (account.credentials.provider !== 'twilio') {
      throw new Error(`account ${account.channelAccountId} has no Twilio credentials`);
    }
    return account.credentials;
  }
}
