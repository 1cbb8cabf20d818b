import { parseBody } from '@inbox-bridge/service-kit';
import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Req,
  Res,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { requestOrigin, TwilioInbound } from './twilio-inbound.js';
import {
  newSid,
  optOutKey,
  TwilioState,
  type AccountRecord,
  type ApplicationRecord,
  type MessagesFault,
  type MessagingServiceRecord,
  type StatusCallbackFault,
  type TwilioSettings,
} from './twilio.state.js';
import {
  accountView,
  applicationView,
  mediaView,
  messageView,
  numberView,
  serviceView,
} from './twilio.views.js';

const E164 = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, { error: 'expected an E.164 number such as +14155550123' });
const sid = (prefix: string) => z.string().regex(new RegExp(`^${prefix}[0-9a-f]{32}$`));

export const createAccountSchema = z.object({
  sid: sid('AC').optional(),
  auth_token: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
  friendly_name: z.string().min(1).optional(),
  status: z.enum(['active', 'suspended', 'closed']).optional(),
  type: z.enum(['Trial', 'Full']).optional(),
  /** Trial accounts may only text these numbers. */
  verified_numbers: z.array(E164).optional(),
});

export const faultSchema = z.union([
  /** The `From` number's queue is full (§2.9, §2.10): refused, retry later. */
  z.object({
    status: z.literal(400),
    code: z.literal(21611),
    times: z.number().int().positive().optional(),
  }),
  z.object({
    status: z.union([z.literal(429), z.literal(500), z.literal(503)]),
    times: z.number().int().positive().optional(),
    create_anyway: z.boolean().optional(),
  }),
]);

export const statusCallbackFaultSchema = z.object({
  reorder: z.boolean().default(false),
  duplicate: z.boolean().default(false),
  times: z.number().int().positive().optional(),
});

export const createNumberSchema = z.object({
  phone_number: E164,
  friendly_name: z.string().optional(),
  sms_url: z.string().optional(),
  sms_method: z.enum(['GET', 'POST']).optional(),
  sms_fallback_url: z.string().optional(),
  capabilities: z
    .object({ voice: z.boolean(), sms: z.boolean(), mms: z.boolean(), fax: z.boolean() })
    .partial()
    .optional(),
});

export const createApplicationSchema = z.object({
  friendly_name: z.string().optional(),
  sms_url: z.string().optional(),
  sms_method: z.enum(['GET', 'POST']).optional(),
  sms_fallback_url: z.string().optional(),
});

export const createServiceSchema = z.object({
  friendly_name: z.string().optional(),
  /** Unset or `null`: the service takes no inbound messages (they are dropped) unless it defers to the number. */
  inbound_request_url: z.string().nullable().optional(),
  inbound_method: z.enum(['GET', 'POST']).optional(),
  fallback_url: z.string().nullable().optional(),
  use_inbound_webhook_on_number: z.boolean().optional(),
});

export const recipientSchema = z.object({
  /** `null` clears the scripted outcome (messages are delivered). */
  outcome: z.enum(['undelivered', 'failed']).nullable(),
  error_code: z.number().int().min(30001).max(30999).optional(),
  /** Only messages whose body contains this text get the outcome, as a carrier filtering content does (30007). */
  body_contains: z.string().min(1).max(1600).optional(),
});

export const optOutSchema = z.object({ sender: E164, opted_out: z.boolean() });

export const settingsSchema = z.object({
  media_redirect: z.boolean().optional(),
  media_url_ttl_ms: z.number().int().positive().optional(),
  signature_url_port: z.enum(['as_configured', 'without_port', 'with_port']).optional(),
});

export const inboundSchema = z.object({
  from: E164,
  to: E164,
  body: z.string().max(1600).default(''),
  media: z
    .array(
      z.object({
        content_type: z.string().min(1),
        content_base64: z.string().optional(),
        /** Synthesised content of this many bytes when no `content_base64` is given (limit tests). */
        size_bytes: z
          .number()
          .int()
          .positive()
          .max(32 * 1024 * 1024)
          .optional(),
      }),
    )
    .max(10)
    .default([]),
  from_city: z.string().optional(),
  from_state: z.string().optional(),
  from_zip: z.string().optional(),
  from_country: z.string().optional(),
});

/** Control API for the Twilio emulator, under `/__sandbox/twilio`. Errors are problem+json. */
@Controller('__sandbox/twilio')
export class TwilioControlController {
  constructor(
    private readonly state: TwilioState,
    private readonly inboundMessages: TwilioInbound,
  ) {}

  @Post('accounts')
  createAccount(@Body() body: unknown) {
    const input = parseBody(createAccountSchema, body ?? {});
    const accountSid = input.sid ?? newSid('AC');
    if (this.state.accounts.has(accountSid)) {
      throw new BadRequestException(`account ${accountSid} already exists`);
    }
    const account: AccountRecord = {
      sid: accountSid,
      authToken: input.auth_token ?? randomBytes(16).toString('hex'),
      friendlyName: input.friendly_name ?? 'Sandbox account',
      status: input.status ?? 'active',
      type: input.type ?? 'Full',
      verifiedNumbers: new Set(input.verified_numbers ?? []),
      apiKeys: new Map(),
      createdMs: this.state.clock.nowMs(),
    };
    this.state.accounts.set(account.sid, account);
    return accountView(account);
  }

  /** Changes an account's `status` (e.g. `suspended`: its messages fail with 30002). */
  @Put('accounts/:accountSid/status')
  setStatus(@Param('accountSid') accountSid: string, @Body() body: unknown) {
    const { status } = parseBody(z.object({ status: z.enum(['active', 'suspended', 'closed']) }), body);
    const account = this.account(accountSid);
    account.status = status;
    return accountView(account);
  }

  /**
   * Fails the account's next `POST Messages.json` calls: 400/21611 (the sender's queue is full) or 429/20429, never
   * processed, or 5xx/20500, with the message created and sent anyway when `create_anyway` is true (the default
   * for 5xx).
   */
  @Put('accounts/:accountSid/faults/messages')
  setFault(@Param('accountSid') accountSid: string, @Body() body: unknown) {
    const input = parseBody(faultSchema, body);
    const account = this.account(accountSid);
    const fault: MessagesFault =
      input.status === 400
        ? { status: 400, code: 21611, times: input.times, createAnyway: false }
        : {
            status: input.status,
            code: input.status === 429 ? 20429 : 20500,
            times: input.times,
            createAnyway: input.status !== 429 && input.create_anyway !== false,
          };
    this.state.faults.set(account.sid, fault);
    return fault;
  }

  /**
   * Reorders and/or duplicates the status callbacks of the account's next `times` messages (omitted: every message
   * sent until cleared), as Twilio may: see {@link StatusCallbackFault}.
   */
  @Put('accounts/:accountSid/faults/status-callbacks')
  setStatusCallbackFault(@Param('accountSid') accountSid: string, @Body() body: unknown) {
    const input = parseBody(statusCallbackFaultSchema, body);
    const fault: StatusCallbackFault = { ...input, times: input.times };
    this.state.statusCallbackFaults.set(this.account(accountSid).sid, fault);
    return fault;
  }

  @Delete('accounts/:accountSid/faults')
  @HttpCode(204)
  clearFaults(@Param('accountSid') accountSid: string): void {
    const { sid } = this.account(accountSid);
    this.state.faults.delete(sid);
    this.state.statusCallbackFaults.delete(sid);
  }

  /**
   * Auth token rotation (the console's "promote secondary token"): a new token, and the old one refused at once
   * with 401/20003, by the REST API and in the signatures of what the sandbox sends from then on.
   */
  @Post('accounts/:accountSid/auth-token/rotate')
  rotateAuthToken(@Param('accountSid') accountSid: string) {
    const account = this.account(accountSid);
    account.authToken = randomBytes(16).toString('hex');
    return accountView(account);
  }

  @Post('accounts/:accountSid/keys')
  createKey(@Param('accountSid') accountSid: string) {
    const account = this.account(accountSid);
    const key = { sid: newSid('SK'), secret: randomBytes(16).toString('hex') };
    account.apiKeys.set(key.sid, key.secret);
    return key;
  }

  @Post('accounts/:accountSid/numbers')
  createNumber(@Param('accountSid') accountSid: string, @Body() body: unknown) {
    const input = parseBody(createNumberSchema, body);
    const account = this.account(accountSid);
    if (this.state.numberByPhone(input.phone_number) !== undefined) {
      throw new BadRequestException(`${input.phone_number} already belongs to an account`);
    }
    const now = this.state.clock.nowMs();
    const number = {
      sid: newSid('PN'),
      accountSid: account.sid,
      phoneNumber: input.phone_number,
      friendlyName: input.friendly_name ?? input.phone_number,
      smsUrl: input.sms_url ?? '',
      smsMethod: input.sms_method ?? 'POST',
      smsFallbackUrl: input.sms_fallback_url ?? '',
      smsFallbackMethod: 'POST' as const,
      statusCallback: '',
      statusCallbackMethod: 'POST' as const,
      smsApplicationSid: '',
      capabilities: { voice: true, sms: true, mms: true, fax: false, ...input.capabilities },
      createdMs: now,
      updatedMs: now,
    };
    this.state.numbers.set(number.sid, number);
    return numberView(number);
  }

  /**
   * A TwiML App of the account; a number uses it once its `SmsApplicationSid` is set (`POST
   * …/IncomingPhoneNumbers/{PN}.json`), and from then on the app's SMS URLs win over the number's (§2.5).
   */
  @Post('accounts/:accountSid/applications')
  createApplication(@Param('accountSid') accountSid: string, @Body() body: unknown) {
    const input = parseBody(createApplicationSchema, body ?? {});
    const account = this.account(accountSid);
    const now = this.state.clock.nowMs();
    const application: ApplicationRecord = {
      sid: newSid('AP'),
      accountSid: account.sid,
      friendlyName: input.friendly_name ?? 'Sandbox app',
      smsUrl: input.sms_url ?? '',
      smsMethod: input.sms_method ?? 'POST',
      smsFallbackUrl: input.sms_fallback_url ?? '',
      smsFallbackMethod: 'POST',
      createdMs: now,
      updatedMs: now,
    };
    this.state.applications.set(application.sid, application);
    return applicationView(application);
  }

  /**
   * A Messaging Service of the account; numbers join it with the Messaging API (`POST
   * /v1/Services/{MG}/PhoneNumbers`), and from then on its inbound settings decide where their messages go.
   */
  @Post('accounts/:accountSid/messaging-services')
  createService(@Req() req: Request, @Param('accountSid') accountSid: string, @Body() body: unknown) {
    const input = parseBody(createServiceSchema, body ?? {});
    const account = this.account(accountSid);
    const now = this.state.clock.nowMs();
    const service: MessagingServiceRecord = {
      sid: newSid('MG'),
      accountSid: account.sid,
      friendlyName: input.friendly_name ?? 'Sandbox service',
      inboundRequestUrl: input.inbound_request_url ?? null,
      inboundMethod: input.inbound_method ?? 'POST',
      fallbackUrl: input.fallback_url ?? null,
      fallbackMethod: 'POST',
      useInboundWebhookOnNumber: input.use_inbound_webhook_on_number ?? false,
      numbers: new Map(),
      createdMs: now,
      updatedMs: now,
    };
    this.state.services.set(service.sid, service);
    return serviceView(service, requestOrigin(req));
  }

  /** Scripts what happens to messages sent to `phone`: `undelivered`/`failed` with an error code. */
  @Put('recipients/:phone')
  setRecipient(@Param('phone') phone: string, @Body() body: unknown) {
    const input = parseBody(recipientSchema, body);
    if (input.outcome === null) {
      this.state.outcomes.delete(phone);
    } else {
      const errorCode = input.error_code ?? (input.outcome === 'failed' ? 30004 : 30003);
      this.state.outcomes.set(phone, {
        status: input.outcome,
        errorCode,
        ...(input.body_contains === undefined ? {} : { bodyContains: input.body_contains }),
      });
    }
    return { phone, outcome: this.state.outcomes.get(phone) ?? null };
  }

  /** Sets the opt-out state of `phone` towards one sender without an inbound STOP/START. */
  @Put('recipients/:phone/opt-out')
  setOptOut(@Param('phone') phone: string, @Body() body: unknown) {
    const input = parseBody(optOutSchema, body);
    const key = optOutKey(input.sender, phone);
    if (input.opted_out) {
      this.state.optOuts.add(key);
    } else {
      this.state.optOuts.delete(key);
    }
    return { phone, sender: input.sender, opted_out: input.opted_out };
  }

  /** The customer `from` texts the sandbox number `to`; the webhook is delivered before this answers. */
  @Post('inbound')
  async inbound(@Req() req: Request, @Body() body: unknown) {
    return this.inboundMessages.receive(parseBody(inboundSchema, body), requestOrigin(req));
  }

  @Get('settings')
  settings() {
    return settingsView(this.state.settings);
  }

  /**
   * `media_redirect`: media content answers 302 to a short-lived unauthenticated URL, as Twilio's CDN does.
   * `signature_url_port`: the webhooks' and callbacks' signatures are computed over their URL with its port removed
   * or the default port added (§2.7), as Twilio has done.
   */
  @Put('settings')
  updateSettings(@Body() body: unknown) {
    const input = parseBody(settingsSchema, body);
    this.state.settings = {
      mediaRedirect: input.media_redirect ?? this.state.settings.mediaRedirect,
      mediaUrlTtlMs: input.media_url_ttl_ms ?? this.state.settings.mediaUrlTtlMs,
      signatureUrlPort: input.signature_url_port ?? this.state.settings.signatureUrlPort,
    };
    return settingsView(this.state.settings);
  }

  /**
   * The redirect target of media content: pre-signed, so it refuses an `Authorization` header (as S3 refuses a
   * second auth mechanism) and answers 403 once expired.
   */
  @Get('media-cdn/:token')
  mediaCdn(@Param('token') token: string, @Req() req: Request, @Res() res: Response): void {
    if (req.headers.authorization !== undefined) {
      res
        .status(400)
        .type('application/xml')
        .send(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified</Message></Error>',
        );
      return;
    }
    const signed = this.state.signedMediaUrls.get(token);
    if (signed === undefined || signed.expiresAtMs <= Date.now()) {
      res
        .status(403)
        .type('application/xml')
        .send(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
        );
      return;
    }
    res.status(200).type(signed.media.contentType).send(signed.media.bytes);
  }

  /** Every message to or from `phone` (a customer), oldest first. */
  @Get('customers/:phone/messages')
  customerMessages(@Param('phone') phone: string) {
    const messages = [...this.state.messages.values()].filter(
      (message) => message.to === phone || message.from === phone,
    );
    return {
      messages: messages.map((message) => ({ ...messageView(message), media: message.media.map(mediaView) })),
    };
  }

  /** Status callbacks and inbound webhook requests the sandbox made (optionally for one message). */
  @Get('webhooks')
  webhooks() {
    return { attempts: this.state.attempts };
  }

  private account(accountSid: string): AccountRecord {
    const account = this.state.accounts.get(accountSid);
    if (account === undefined) {
      throw new NotFoundException(`account ${accountSid} not found`);
    }
    return account;
  }
}

function settingsView(settings: TwilioSettings) {
  return {
    media_redirect: settings.mediaRedirect,
    media_url_ttl_ms: settings.mediaUrlTtlMs,
    signature_url_port: settings.signatureUrlPort,
  };
}
