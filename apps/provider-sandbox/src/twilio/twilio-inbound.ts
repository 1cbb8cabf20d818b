import { Injectable, NotFoundException } from '@nestjs/common';
import type { Request } from 'express';
import type { z } from 'zod';
import { smsSegments } from './segments.js';
import type { inboundSchema } from './twilio-control.controller.js';
import { TwilioDispatcher } from './twilio-dispatcher.js';
import {
  API_VERSION,
  newSid,
  optOutKey,
  TwilioState,
  type AccountRecord,
  type MessageRecord,
} from './twilio.state.js';
import { mediaView, messageView } from './twilio.views.js';

export type InboundInput = z.output<typeof inboundSchema>;

const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE']);
const START_WORDS = new Set(['START', 'YES', 'UNSTOP']);
const HELP_WORDS = new Set(['HELP', 'INFO']);

/** A 1×1 transparent GIF: the synthesised content of a customer's picture. */
const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

/** The sandbox's own origin as the caller reached it: `MediaUrl{N}` point back to it. */
export function requestOrigin(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/**
 * A customer texts a sandbox number: the stored `received` message and the signed webhook to the URL that owns the
 * number's inbound (`TwilioState.inboundRoute`), with `MessagingServiceSid` when the number is in a service.
 */
@Injectable()
export class TwilioInbound {
  constructor(
    private readonly state: TwilioState,
    private readonly dispatcher: TwilioDispatcher,
  ) {}

  async receive(input: InboundInput, origin: string) {
    const number = this.state.numberByPhone(input.to);
    if (number === undefined) {
      throw new NotFoundException(`${input.to} is not a sandbox number`);
    }
    const account = this.account(number.accountSid);
    const route = this.state.inboundRoute(number);
    const now = this.state.clock.nowMs();
    const messageSid = newSid(input.media.length > 0 ? 'MM' : 'SM');
    const message: MessageRecord = {
      sid: messageSid,
      accountSid: account.sid,
      from: input.from,
      to: input.to,
      body: input.body,
      direction: 'inbound',
      messagingServiceSid: route.messagingServiceSid,
      numSegments: smsSegments(input.body).segments,
      media: input.media.map((item) => ({
        sid: newSid('ME'),
        accountSid: account.sid,
        parentSid: messageSid,
        contentType: item.content_type,
        bytes:
          item.content_base64 !== undefined
            ? Buffer.from(item.content_base64, 'base64')
            : item.size_bytes !== undefined
              ? Buffer.alloc(item.size_bytes, 0x20)
              : PIXEL_GIF,
        createdMs: now,
      })),
      statusCallback: null,
      status: 'received',
      errorCode: null,
      errorMessage: null,
      createdMs: now,
      sentMs: now,
      updatedMs: now,
    };
    const routedTo = { owner: route.owner, sid: route.ownerSid, url: route.url, dropped: route.dropped };
    if (route.dropped) {
      // A service with no inbound URL that does not defer to the number: Twilio neither delivers nor logs it.
      return { message: messageView(message), media: [], params: {}, attempts: [], routed_to: routedTo };
    }
    this.state.messages.set(message.sid, message);
    const keyword = input.body.trim().toUpperCase();
    let optOutType: string | undefined;
    if (STOP_WORDS.has(keyword)) {
      optOutType = 'STOP';
      this.state.optOuts.add(optOutKey(input.to, input.from));
    } else if (START_WORDS.has(keyword)) {
      optOutType = 'START';
      this.state.optOuts.delete(optOutKey(input.to, input.from));
    } else if (HELP_WORDS.has(keyword)) {
      optOutType = 'HELP';
    }
    const params: Record<string, string> = {
      ToCountry: 'US',
      ToState: '',
      SmsMessageSid: messageSid,
      NumMedia: String(message.media.length),
      ToCity: '',
      FromZip: input.from_zip ?? '',
      SmsSid: messageSid,
      FromState: input.from_state ?? '',
      SmsStatus: 'received',
      FromCity: input.from_city ?? '',
      Body: input.body,
      FromCountry: input.from_country ?? 'US',
      To: input.to,
      ToZip: '',
      NumSegments: String(message.numSegments),
      MessageSid: messageSid,
      AccountSid: account.sid,
      From: input.from,
      ApiVersion: API_VERSION,
      ...(route.messagingServiceSid === null ? {} : { MessagingServiceSid: route.messagingServiceSid }),
      ...(optOutType === undefined ? {} : { OptOutType: optOutType }),
    };
    message.media.forEach((media, index) => {
      params[`MediaContentType${index}`] = media.contentType;
      params[`MediaUrl${index}`] =
        `${origin}/${API_VERSION}/Accounts/${account.sid}/Messages/${messageSid}/Media/${media.sid}`;
    });
    const attempts = await this.dispatcher.deliverInbound(account, route, message, params);
    return {
      message: messageView(message),
      media: message.media.map(mediaView),
      params,
      attempts,
      routed_to: routedTo,
    };
  }

  private account(accountSid: string): AccountRecord {
    const account = this.state.accounts.get(accountSid);
    if (account === undefined) {
      throw new NotFoundException(`account ${accountSid} not found`);
    }
    return account;
  }
}
