import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import {
  CustomerInputError,
  CustomerSimulator,
  type CustomerMessageInput,
} from '../telegram/customer-simulator.js';
import type { BotRecord } from '../telegram/stores/bot.store.js';
import type { ChatRecord } from '../telegram/stores/chat.store.js';
import { TelegramState } from '../telegram/telegram.state.js';
import type { TgMessage, TgPhotoSize } from '../telegram/telegram.types.js';
import { requestOrigin, TwilioInbound } from '../twilio/twilio-inbound.js';
import { TwilioState, type MessageRecord, type NumberRecord } from '../twilio/twilio.state.js';
import { composeForm, esc, layout, mapLink, mediaHtml, pollingScript } from './customer-page.view.js';
import { PAGE_KINDS, SAMPLE_LOCATION, Samples, type PageKind, type SampleMedia } from './samples.js';

const sendSchema = z.object({ kind: z.enum(PAGE_KINDS), text: z.string().max(4096).optional() });
const customerSchema = z.object({ first_name: z.string().trim().min(1).max(64) });
const phoneSchema = z.object({
  phone: z
    .string()
    .trim()
    .regex(/^\+[1-9]\d{6,14}$/, { error: 'expected an E.164 number such as +14155550123' }),
});

const KIND_LABELS: readonly { kind: PageKind; label: string }[] = [
  { kind: 'text', label: 'Send' },
  { kind: 'photo', label: '📷 Photo' },
  { kind: 'voice', label: '🎤 Voice note' },
  { kind: 'sticker', label: '🙂 Sticker' },
  { kind: 'video', label: '🎬 Video' },
  { kind: 'location', label: '📍 Location' },
];

/** Telegram message fields that carry a file, in the order the page looks for them. */
const FILE_FIELDS = ['voice', 'audio', 'video', 'video_note', 'animation', 'sticker', 'document'] as const;

function parseForm<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    throw new BadRequestException(
      result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  return result.data;
}

/**
 * "Chat as a customer" (`/ui`): pick a Telegram bot or a Twilio number, then write to it as a customer would,
 * with text, a photo, a voice note, a sticker, a video or a location. Every message goes through the same
 * emulators as the control API, so the connector receives real Telegram updates (with the secret token) and
 * signed Twilio webhooks; the agent's replies and their delivery state appear as they arrive (polled).
 */
@Controller('ui')
export class CustomerPageController {
  private readonly samples = new Samples();

  constructor(
    private readonly telegram: TelegramState,
    private readonly customers: CustomerSimulator,
    private readonly twilio: TwilioState,
    private readonly inbound: TwilioInbound,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  index(): string {
    const bots = this.telegram.bots.all().filter((bot) => !bot.revoked);
    const numbers = [...this.twilio.numbers.values()];
    const botItems = bots.map((bot) => {
      const webhook = this.telegram.webhooks.info(bot.id);
      const chats = this.telegram.chats.forBot(bot.id);
      return `<li data-bot="${bot.id}"><span class="badge telegram">Telegram</span>
  <strong>@${esc(bot.username)}</strong>
  <span class="muted">${webhook.url === '' ? 'no webhook (updates wait for getUpdates)' : `webhook ${esc(webhook.url)}`}</span>
  ${chats
    .map(
      (chat) =>
        `<a href="/ui/telegram/${bot.id}/chats/${chat.chat.id}">${esc(chat.user.first_name)} (${chat.chat.id})</a>`,
    )
    .join(' ')}
  <form class="inline" method="post" action="/ui/telegram/${bot.id}/customers">
    <input type="text" name="first_name" placeholder="Your first name" required>
    <button type="submit">Chat as a new customer</button>
  </form></li>`;
    });
    const numberItems = numbers.map(
      (number) => `<li data-number="${esc(number.sid)}"><span class="badge twilio">Twilio</span>
  <strong>${esc(number.phoneNumber)}</strong>
  <span class="muted">${number.smsUrl === '' ? 'no SmsUrl' : `SmsUrl ${esc(number.smsUrl)}`}</span>
  ${this.twilioCustomers(number)
    .map(
      (phone) =>
        `<a href="/ui/twilio/${encodeURIComponent(number.sid)}/chats/${encodeURIComponent(phone)}">${esc(phone)}</a>`,
    )
    .join(' ')}
  <form class="inline" method="post" action="/ui/twilio/${esc(number.sid)}/customers">
    <input type="tel" name="phone" value="${esc(randomCustomerPhone())}" required>
    <button type="submit">Text as this number</button>
  </form></li>`,
    );
    const list = [...botItems, ...numberItems];
    return layout(
      'Channel accounts',
      `<section class="card"><h1>Pick a channel account</h1>
${
  list.length === 0
    ? '<p class="muted">No Telegram bot or Twilio number yet. Connect one through the bridge (or create one with the control API: <code>POST /__sandbox/telegram/bots</code>, <code>POST /__sandbox/twilio/accounts/{sid}/numbers</code>).</p>'
    : `<ul class="accounts">${list.join('\n')}</ul>`
}</section>`,
    );
  }

  @Post('telegram/:botId/customers')
  newTelegramCustomer(
    @Param('botId', ParseIntPipe) botId: number,
    @Body() body: unknown,
    @Res() res: Response,
  ): void {
    const { first_name } = parseForm(customerSchema, body);
    const chat = this.telegram.chats.create(this.bot(botId).id, { firstName: first_name });
    res.redirect(303, `/ui/telegram/${botId}/chats/${chat.chat.id}`);
  }

  @Get('telegram/:botId/chats/:chatId')
  @Header('Content-Type', 'text/html; charset=utf-8')
  telegramChat(
    @Param('botId', ParseIntPipe) botId: number,
    @Param('chatId', ParseIntPipe) chatId: number,
  ): string {
    const bot = this.bot(botId);
    const chat = this.chat(bot, chatId);
    const base = `/ui/telegram/${bot.id}/chats/${chat.chat.id}`;
    return layout(
      `${chat.user.first_name} ↔ @${bot.username}`,
      `<section class="card"><h1><span class="badge telegram">Telegram</span> ${esc(chat.user.first_name)} ↔ @${esc(bot.username)}</h1>
<p class="muted">You are customer ${chat.chat.id}. Each message becomes a Telegram update for the bot's webhook.</p>
<div id="transcript">${this.telegramTranscript(bot, chat)}</div>
${composeForm(`${base}/messages`, KIND_LABELS)}
<form class="inline" method="post" action="${base}/block"><input type="hidden" name="blocked" value="${chat.blocked ? 'false' : 'true'}"><button type="submit" class="kind" id="block-button">${chat.blocked ? 'Unblock the bot' : 'Block the bot'}</button></form>
${chat.blocked ? '<p class="muted" id="blocked-note">You blocked the bot: its sends fail with 403 "Forbidden: bot was blocked by the user".</p>' : ''}</section>`,
      pollingScript(`${base}/transcript`),
    );
  }

  @Get('telegram/:botId/chats/:chatId/transcript')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  telegramTranscriptFragment(
    @Param('botId', ParseIntPipe) botId: number,
    @Param('chatId', ParseIntPipe) chatId: number,
  ): string {
    const bot = this.bot(botId);
    return this.telegramTranscript(bot, this.chat(bot, chatId));
  }

  @Post('telegram/:botId/chats/:chatId/messages')
  telegramSend(
    @Param('botId', ParseIntPipe) botId: number,
    @Param('chatId', ParseIntPipe) chatId: number,
    @Body() body: unknown,
    @Res() res: Response,
  ): void {
    const { kind, text } = parseForm(sendSchema, body);
    const bot = this.bot(botId);
    const chat = this.chat(bot, chatId);
    try {
      const { update, message } = this.customers.send(
        bot,
        chat,
        this.telegramInput(kind, text?.trim() ?? ''),
      );
      this.telegram.customerPageUpdates.set(
        `${bot.id}:${chat.chat.id}:${message.message_id}`,
        update?.update_id ?? null,
      );
    } catch (error) {
      if (error instanceof CustomerInputError) {
        throw new BadRequestException(error.message);
      }
      throw error;
    }
    res.redirect(303, `/ui/telegram/${bot.id}/chats/${chat.chat.id}`);
  }

  /** Block or unblock the bot, as the customer's app does: a `my_chat_member` update, and 403s on sends. */
  @Post('telegram/:botId/chats/:chatId/block')
  telegramBlock(
    @Param('botId', ParseIntPipe) botId: number,
    @Param('chatId', ParseIntPipe) chatId: number,
    @Body() body: unknown,
    @Res() res: Response,
  ): void {
    const { blocked } = parseForm(z.object({ blocked: z.enum(['true', 'false']) }), body);
    const bot = this.bot(botId);
    const chat = this.chat(bot, chatId);
    this.customers.setBlocked(bot, chat, blocked === 'true');
    res.redirect(303, `/ui/telegram/${bot.id}/chats/${chat.chat.id}`);
  }

  /** A file of the bot (what the customer's app would show); only the page links here. */
  @Get('telegram/:botId/files/:fileId')
  telegramFile(
    @Param('botId', ParseIntPipe) botId: number,
    @Param('fileId') fileId: string,
    @Res() res: Response,
  ): void {
    const file = this.telegram.files.find(this.bot(botId).id, fileId);
    if (file?.bytes === undefined) {
      throw new NotFoundException(`file ${fileId} not found`);
    }
    res.status(200).type(file.mimeType).send(file.bytes);
  }

  @Post('twilio/:numberSid/customers')
  newTwilioCustomer(
    @Param('numberSid') numberSid: string,
    @Body() body: unknown,
    @Res() res: Response,
  ): void {
    const { phone } = parseForm(phoneSchema, body);
    res.redirect(
      303,
      `/ui/twilio/${encodeURIComponent(this.number(numberSid).sid)}/chats/${encodeURIComponent(phone)}`,
    );
  }

  @Get('twilio/:numberSid/chats/:phone')
  @Header('Content-Type', 'text/html; charset=utf-8')
  twilioChat(@Param('numberSid') numberSid: string, @Param('phone') phone: string): string {
    const number = this.number(numberSid);
    const customer = parseForm(phoneSchema, { phone }).phone;
    const base = `/ui/twilio/${encodeURIComponent(number.sid)}/chats/${encodeURIComponent(customer)}`;
    return layout(
      `${customer} ↔ ${number.phoneNumber}`,
      `<section class="card"><h1><span class="badge twilio">Twilio</span> ${esc(customer)} ↔ ${esc(number.phoneNumber)}</h1>
<p class="muted">Each message becomes a signed Twilio webhook to the number's SmsUrl (media as MMS; a location as the vCard phones attach).</p>
<div id="transcript">${this.twilioTranscript(number, customer)}</div>
${composeForm(`${base}/messages`, KIND_LABELS)}</section>`,
      pollingScript(`${base}/transcript`),
    );
  }

  @Get('twilio/:numberSid/chats/:phone/transcript')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  twilioTranscriptFragment(@Param('numberSid') numberSid: string, @Param('phone') phone: string): string {
    return this.twilioTranscript(this.number(numberSid), parseForm(phoneSchema, { phone }).phone);
  }

  @Post('twilio/:numberSid/chats/:phone/messages')
  async twilioSend(
    @Param('numberSid') numberSid: string,
    @Param('phone') phone: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { kind, text } = parseForm(sendSchema, body);
    const number = this.number(numberSid);
    const customer = parseForm(phoneSchema, { phone }).phone;
    const media = this.twilioMedia(kind);
    const bodyText = text?.trim() ?? '';
    if (kind === 'text' && bodyText === '') {
      throw new BadRequestException('text is required');
    }
    await this.inbound.receive(
      {
        from: customer,
        to: number.phoneNumber,
        body: kind === 'location' ? '' : bodyText,
        media:
          media === undefined
            ? []
            : [{ content_type: media.mimeType, content_base64: media.bytes.toString('base64') }],
      },
      requestOrigin(req),
    );
    res.redirect(303, `/ui/twilio/${encodeURIComponent(number.sid)}/chats/${encodeURIComponent(customer)}`);
  }

  /** Media of a Twilio message (either direction), for the page's players. */
  @Get('twilio/media/:mediaSid')
  twilioMediaContent(@Param('mediaSid') mediaSid: string, @Res() res: Response): void {
    for (const message of this.twilio.messages.values()) {
      const media = message.media.find((item) => item.sid === mediaSid);
      if (media !== undefined) {
        res.status(200).type(media.contentType).send(media.bytes);
        return;
      }
    }
    throw new NotFoundException(`media ${mediaSid} not found`);
  }

  private telegramInput(kind: PageKind, text: string): CustomerMessageInput {
    const file = (sample: SampleMedia) => ({
      content_base64: sample.bytes.toString('base64'),
      mime_type: sample.mimeType,
      ...(text === '' ? {} : { caption: text }),
    });
    switch (kind) {
      case 'text':
        return { kind, text };
      case 'photo':
        return {
          kind,
          ...file(this.samples.photo),
          sizes: [
            { width: 90, height: 68 },
            { width: 320, height: 240 },
          ],
        };
      case 'voice':
        return { kind, ...file(this.samples.voice), duration: 1 };
      case 'sticker': {
        const { caption: _caption, ...sticker } = file(this.samples.sticker);
        return { kind, ...sticker, sticker_format: 'static', emoji: '🙂', width: 256, height: 256 };
      }
      case 'video':
        return { kind, ...file(this.samples.video), duration: 2, width: 160, height: 120 };
      case 'location':
        return { kind, ...SAMPLE_LOCATION };
    }
  }

  private twilioMedia(kind: PageKind): SampleMedia | undefined {
    return {
      text: undefined,
      photo: this.samples.photo,
      voice: this.samples.voice,
      sticker: this.samples.stickerPng,
      video: this.samples.video,
      location: this.samples.locationCard,
    }[kind];
  }

  private telegramTranscript(bot: BotRecord, chat: ChatRecord): string {
    const webhook = this.telegram.webhooks.state(bot.id);
    const items = chat.messages.map(({ direction, message }) => {
      const fromCustomer = direction === 'from_customer';
      let state = '✓ sent';
      if (fromCustomer) {
        const updateId = this.telegram.customerPageUpdates.get(
          `${bot.id}:${chat.chat.id}:${message.message_id}`,
        );
        state = updateId === undefined ? '' : this.updateState(bot, updateId, webhook.settings.url);
      }
      return `<div class="bubble ${fromCustomer ? 'customer' : 'agent'}" data-direction="${direction}" data-message-id="${message.message_id}">
${this.telegramContent(bot, message)}
<div class="meta">${fromCustomer ? 'you' : `@${esc(bot.username)}`} · ${esc(new Date(message.date * 1000).toISOString().slice(11, 19))}${state === '' ? '' : ` · <span class="state">${esc(state)}</span>`}</div></div>`;
    });
    return items.length === 0 ? '<p class="muted" id="empty">No messages yet.</p>' : items.join('\n');
  }

  private updateState(bot: BotRecord, updateId: number | null, webhookUrl: string): string {
    if (updateId === null) {
      return 'not delivered: filtered by allowed_updates';
    }
    const state = this.telegram.webhooks.state(bot.id);
    const attempts = state.attempts.filter((attempt) => attempt.updateId === updateId);
    const last = attempts.at(-1);
    if (last?.status !== undefined && last.status >= 200 && last.status < 300) {
      return 'delivered to the webhook';
    }
    if (state.pending.some((item) => item.update.update_id === updateId)) {
      if (webhookUrl === '') {
        return 'waiting for getUpdates';
      }
      return last === undefined
        ? 'delivering…'
        : `retrying (attempt ${attempts.length}: ${last.error ?? `HTTP ${last.status ?? '?'}`})`;
    }
    return webhookUrl === '' ? 'fetched with getUpdates' : 'dropped';
  }

  private telegramContent(bot: BotRecord, message: TgMessage): string {
    const parts: string[] = [];
    const fileUrl = (fileId: string) => `/ui/telegram/${bot.id}/files/${encodeURIComponent(fileId)}`;
    const photo = message.photo as TgPhotoSize[] | undefined;
    const largest = photo?.at(-1);
    if (largest !== undefined) {
      parts.push(
        mediaHtml(
          fileUrl(largest.file_id),
          this.mimeOf(bot, largest.file_id, 'image/jpeg'),
          'photo',
          'photo',
        ),
      );
    }
    for (const field of FILE_FIELDS) {
      const file = message[field] as { file_id?: string; file_name?: string } | undefined;
      if (file?.file_id !== undefined && !(field === 'document' && message.animation !== undefined)) {
        const mime = this.mimeOf(bot, file.file_id, 'application/octet-stream');
        parts.push(
          `<div data-kind="${field}">${mediaHtml(fileUrl(file.file_id), mime, file.file_name ?? field, field)}</div>`,
        );
      }
    }
    const location = message.location as { latitude: number; longitude: number } | undefined;
    if (location !== undefined) {
      parts.push(mapLink(location.latitude, location.longitude));
    }
    const contact = message.contact as { first_name?: string; phone_number?: string } | undefined;
    if (contact !== undefined) {
      parts.push(`<div>👤 ${esc(contact.first_name ?? '')} ${esc(contact.phone_number ?? '')}</div>`);
    }
    const text = message.text ?? message.caption;
    if (text !== undefined && text !== '') {
      parts.push(`<div class="text">${esc(text)}</div>`);
    }
    return parts.length === 0 ? '<div class="muted">(unsupported content)</div>' : parts.join('\n');
  }

  private mimeOf(bot: BotRecord, fileId: string, fallback: string): string {
    return this.telegram.files.find(bot.id, fileId)?.mimeType ?? fallback;
  }

  /** The customers who texted this number or were texted from it. */
  private twilioCustomers(number: NumberRecord): string[] {
    const phones = new Set<string>();
    for (const message of this.twilio.messages.values()) {
      if (message.to === number.phoneNumber) {
        phones.add(message.from);
      } else if (message.from === number.phoneNumber) {
        phones.add(message.to);
      }
    }
    return [...phones];
  }

  private twilioTranscript(number: NumberRecord, customer: string): string {
    const messages = [...this.twilio.messages.values()]
      .filter(
        (message) =>
          (message.from === customer && message.to === number.phoneNumber) ||
          (message.to === customer && message.from === number.phoneNumber),
      )
      .sort((left, right) => left.createdMs - right.createdMs);
    const items = messages.map((message) => {
      const fromCustomer = message.direction === 'inbound';
      const media = message.media.map((item) =>
        mediaHtml(
          `/ui/twilio/media/${encodeURIComponent(item.sid)}`,
          item.contentType,
          item.contentType,
          item.contentType === 'image/png' ? 'sticker' : undefined,
        ),
      );
      return `<div class="bubble ${fromCustomer ? 'customer' : 'agent'}" data-direction="${fromCustomer ? 'from_customer' : 'from_agent'}" data-sid="${esc(message.sid)}">
${media.join('\n')}${message.body === '' ? '' : `<div class="text">${esc(message.body)}</div>`}
<div class="meta">${fromCustomer ? 'you' : esc(message.from)} · ${esc(new Date(message.createdMs).toISOString().slice(11, 19))} · ${this.twilioState(message)}</div></div>`;
    });
    return items.length === 0 ? '<p class="muted" id="empty">No messages yet.</p>' : items.join('\n');
  }

  private twilioState(message: MessageRecord): string {
    if (message.direction === 'inbound') {
      const attempt = this.twilio.attempts
        .filter((item) => item.messageSid === message.sid && item.kind !== 'status_callback')
        .at(-1);
      if (attempt === undefined) {
        return '<span class="state">no SmsUrl</span>';
      }
      const ok = attempt.status !== undefined && attempt.status >= 200 && attempt.status < 300;
      return `<span class="state${ok ? '' : ' state-failed'}">${ok ? 'delivered to the webhook' : `webhook failed: ${esc(attempt.error ?? `HTTP ${attempt.status ?? '?'}`)}`}</span>`;
    }
    const code = message.errorCode === null ? '' : ` (${message.errorCode})`;
    return `<span class="state state-${esc(message.status)}" data-status="${esc(message.status)}">${esc(message.status)}${esc(code)}</span>`;
  }

  private bot(botId: number): BotRecord {
    const bot = this.telegram.bots.byId(botId);
    if (bot === undefined) {
      throw new NotFoundException(`bot ${botId} not found`);
    }
    return bot;
  }

  private chat(bot: BotRecord, chatId: number): ChatRecord {
    const chat = this.telegram.chats.find(bot.id, chatId);
    if (chat === undefined) {
      throw new NotFoundException(`chat ${chatId} not found for bot ${bot.id}`);
    }
    return chat;
  }

  private number(numberSid: string): NumberRecord {
    const number = this.twilio.numbers.get(numberSid);
    if (number === undefined) {
      throw new NotFoundException(`number ${numberSid} not found`);
    }
    return number;
  }
}

/** A US test number (555-01xx range) for a new customer. */
function randomCustomerPhone(): string {
  return `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
}
