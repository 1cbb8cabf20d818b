import { parseJsonBody, RequestValidationError } from '@inbox-bridge/service-kit';
import { ProviderCapabilityTable, type ProviderCredentials } from '@inbox-bridge/shared';
import { timingSafeEqual } from 'node:crypto';
import { HttpTransportError, type OutboundHttp } from '../../http/outbound-http.js';
import type { SendThrottle } from '../../outbound/send-throttle.js';
import { MAX_IN_PROCESS_WAIT_MS } from '../../outbound/send-throttle.js';
import { inboundHeader, mediaStreamFrom, publicWebhookUrl } from '../media-response.js';
import { openOutboundFile } from '../outbound-file.js';
import {
  CredentialsRejectedError,
  InboundUnauthorizedError,
  MediaNotFoundError,
  MediaTooLargeError,
  SendFailure,
  type ConnectedAccount,
  type ConversationAddress,
  type CredentialCheck,
  type InboundEvent,
  type InboundRequest,
  type MediaStream,
  type OutboundFile,
  type OutboundMessage,
  type ProviderAdapter,
  type WebhookState,
} from '../provider-port.js';
import { escapeTelegramHtml, htmlToPlainText, splitText, toTelegramHtml } from '../rich-text.js';
import { TelegramApiError, TelegramBotApi } from './telegram-bot-api.js';
import { normaliseTelegramUpdate, telegramMessageId } from './telegram-normalizer.js';

export const TELEGRAM_SECRET_HEADER = 'x-telegram-bot-api-secret-token';

const MB = 1024 * 1024;
const PHOTO_UPLOAD_LIMIT = 10 * MB;
const FILE_UPLOAD_LIMIT = 50 * MB;
const DOWNLOAD_LIMIT = ProviderCapabilityTable.telegram.maxInboundMediaBytes;
const TEXT_LIMIT = 4_096;
const CAPTION_LIMIT = 1_024;
/** Per chat (reference §1.11: about 1 message per second, short bursts tolerated). */
const CHAT_SENDS_PER_SECOND = 1;
const CHAT_BURST = 3;

export interface TelegramAdapterOptions {
  readonly apiBaseUrl: string;
  readonly publicBaseUrl: string;
}

interface TgMessageResult {
  readonly message_id: number;
  readonly chat: { readonly id: number };
}

interface TgFileResult {
  readonly file_id: string;
  readonly file_size?: number;
  readonly file_path?: string;
}

/** `getWebhookInfo`'s answer (providers-api.md §1.3); the fields this bridge reads. */
interface TgWebhookInfo {
  readonly url: string;
  readonly pending_update_count?: number;
  readonly last_error_date?: number;
  readonly last_error_message?: string;
}

type SendMethod = 'sendPhoto' | 'sendVoice' | 'sendAudio' | 'sendVideo' | 'sendDocument';

/** Reasons an agent understands, keyed by the stable phrase of Telegram's description (§1.12). */
const PERMANENT_REASONS: readonly (readonly [RegExp, string])[] = [
  [
    /bot was blocked by the user/i,
    'The customer blocked the bot on Telegram, so they cannot receive replies.',
  ],
  [
    /can't initiate conversation/i,
    'The customer has not started a conversation with the bot on Telegram yet, so the bot cannot write to them.',
  ],
  [/user is deactivated/i, "The customer's Telegram account was deleted."],
  [/bot was kicked/i, 'The bot was removed from this Telegram group.'],
  [/chat not found/i, 'Telegram does not know this chat (the customer may never have written to the bot).'],
  [/message is too long/i, 'The reply is longer than Telegram allows (4096 characters).'],
  [
    /caption is too long|MEDIA_CAPTION_TOO_LONG/i,
    'The file caption is longer than Telegram allows (1024 characters).',
  ],
  [/file is too big|Request Entity Too Large/i, 'The file is larger than Telegram accepts.'],
  [
    /wrong file identifier|failed to get HTTP URL content|wrong type of the web page content/i,
    'Telegram could not use the attached file.',
  ],
  [
    /group chat was upgraded to a supergroup/i,
    'This Telegram group was upgraded to a supergroup, and the reply could not be sent there.',
  ],
];

const TOKEN_REJECTED =
  'Telegram no longer accepts the bot token (it was revoked or changed in BotFather); reconnect the account.';

export function telegramFailure(error: TelegramApiError): SendFailure {
  const code = String(error.errorCode);
  if (error.errorCode === 429) {
    const seconds = error.retryAfterSeconds ?? 1;
    return new SendFailure(
      'transient',
      `Telegram asked us to wait ${seconds} s before sending again.`,
      code,
      seconds * 1000,
    );
  }
  if (error.isTransient) {
    return new SendFailure('transient', 'Telegram is not available right now.', code);
  }
  if (error.errorCode === 401) {
    return SendFailure.credentialsRejected(TOKEN_REJECTED, code);
  }
  for (const [pattern, reason] of PERMANENT_REASONS) {
    if (pattern.test(error.description)) {
      return new SendFailure('permanent', reason, code);
    }
  }
  return new SendFailure('permanent', `Telegram refused the reply: ${error.description.slice(0, 300)}`, code);
}

function methodFor(file: OutboundFile): { method: SendMethod; field: string; limit: number } {
  const photoTypes = ProviderCapabilityTable.telegram.outboundMedia.find(
    (media) => media.kind === 'image',
  )?.mimeTypes;
  const size = file.sizeBytes ?? 0;
  switch (file.kind) {
    case 'image':
      return photoTypes?.includes(file.mimeType) === true && size <= PHOTO_UPLOAD_LIMIT
        ? { method: 'sendPhoto', field: 'photo', limit: PHOTO_UPLOAD_LIMIT }
        : { method: 'sendDocument', field: 'document', limit: FILE_UPLOAD_LIMIT };
    case 'voice-note':
      return { method: 'sendVoice', field: 'voice', limit: FILE_UPLOAD_LIMIT };
    case 'audio':
      return { method: 'sendAudio', field: 'audio', limit: FILE_UPLOAD_LIMIT };
    case 'video':
      return { method: 'sendVideo', field: 'video', limit: FILE_UPLOAD_LIMIT };
    case 'sticker':
    case 'file':
      return { method: 'sendDocument', field: 'document', limit: FILE_UPLOAD_LIMIT };
  }
}

function sameSecret(given: string | undefined, expected: string | undefined): boolean {
  if (given === undefined || expected === undefined || expected === '') {
    return false;
  }
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The chat a reply goes to. Telegram answers a send to a group that became a supergroup with the supergroup's id
 * (§1.2, §1.12: "update stored chat id and resend"); the reply follows it, once, and the move is recorded so later
 * replies go there at once.
 */
class ReplyDestination {
  private moved = false;
  chatId: string;

  constructor(
    private readonly address: ConversationAddress,
    /** `reply_parameters` quoting the customer's message the reply answers, if any. */
    public quote: Record<string, unknown> | undefined,
  ) {
    this.chatId = address.current;
  }

  /** Sends the rest of the reply to `chatId`; false when it moved once already. */
  async moveTo(chatId: number): Promise<boolean> {
    if (this.moved) {
      return false;
    }
    this.moved = true;
    this.chatId = String(chatId);
    // The quoted message stays in the old group: its id names another message, or none, in the supergroup.
    this.quote = undefined;
    await this.address.moved(this.chatId);
    return true;
  }
}

/** Telegram Bot API (providers-api.md Part 1). */
export class TelegramAdapter implements ProviderAdapter {
  readonly provider = 'telegram' as const;
  readonly capabilities = ProviderCapabilityTable.telegram;

  constructor(
    private readonly http: OutboundHttp,
    private readonly internalHttp: OutboundHttp,
    private readonly throttle: SendThrottle,
    private readonly options: TelegramAdapterOptions,
  ) {}

  webhookUrl(channelAccountId: string): string {
    return publicWebhookUrl(this.options.publicBaseUrl, 'telegram', channelAccountId);
  }

  async validateCredentials(credentials: ProviderCredentials): Promise<CredentialCheck> {
    if (credentials.provider !== 'telegram') {
      return { ok: false, code: 'wrong-provider', message: 'These are not Telegram credentials.' };
    }
    try {
      const bot = await this.api(credentials.botToken).call<{
        id: number;
        first_name: string;
        username?: string;
      }>('getMe');
      const handle = bot.username === undefined ? '' : ` (@${bot.username})`;
      return {
        ok: true,
        accountName: `${bot.first_name}${handle}`.slice(0, 1024),
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(bot.id) },
      };
    } catch (error) {
      if (!(error instanceof TelegramApiError)) {
        throw error;
      }
      if (error.errorCode === 401 || error.errorCode === 404) {
        return {
          ok: false,
          code: 'invalid-credentials',
          message: 'Telegram does not accept this bot token. Copy it again from @BotFather.',
        };
      }
      return {
        ok: false,
        code: 'provider-unavailable',
        message: 'Telegram could not be reached to check the token. Try again in a moment.',
      };
    }
  }

  async connect(account: ConnectedAccount): Promise<void> {
    const { botToken } = this.credentialsOf(account);
    await this.api(botToken).call('setWebhook', {
      url: this.webhookUrl(account.channelAccountId),
      secret_token: account.webhookSecret,
      allowed_updates: ['message', 'edited_message', 'my_chat_member'],
    });
  }

  async readWebhook(account: ConnectedAccount): Promise<WebhookState> {
    let info: TgWebhookInfo;
    try {
      info = await this.api(this.credentialsOf(account).botToken).call<TgWebhookInfo>('getWebhookInfo');
    } catch (error) {
      if (error instanceof TelegramApiError && error.errorCode === 401) {
        throw new CredentialsRejectedError(TOKEN_REJECTED, '401');
      }
      throw error;
    }
    return {
      pointsHere: info.url === this.webhookUrl(account.channelAccountId),
      url: info.url,
      pendingUpdates: info.pending_update_count ?? 0,
      ...(info.last_error_date === undefined
        ? {}
        : {
            lastError: {
              at: new Date(info.last_error_date * 1000),
              message: (info.last_error_message ?? '').slice(0, 300),
            },
          }),
    };
  }

  async disconnect(account: ConnectedAccount): Promise<void> {
    const { botToken } = this.credentialsOf(account);
    await this.api(botToken).call('deleteWebhook', {});
  }

  parseInbound(account: ConnectedAccount, request: InboundRequest): InboundEvent[] {
    if (!sameSecret(inboundHeader(request, TELEGRAM_SECRET_HEADER), account.webhookSecret)) {
      throw new InboundUnauthorizedError('the Telegram secret token is missing or wrong');
    }
    const update = parseJsonBody(request.rawBody);
    if (typeof update !== 'object' || update === null || Array.isArray(update)) {
      throw new RequestValidationError([{ field: '(body)', message: 'expected one Telegram Update object' }]);
    }
    if (!Number.isSafeInteger((update as Record<string, unknown>)['update_id'])) {
      throw new RequestValidationError([{ field: 'update_id', message: 'expected an integer' }]);
    }
    try {
      return [normaliseTelegramUpdate(account.channelAccountId, update as Record<string, unknown>)];
    } catch (error) {
      // The normaliser reads the shapes Telegram documents; a field of another type (a text that is an array,
      // a date out of range) breaks it, and that is the sender's fault, not ours.
      if (error instanceof TypeError || error instanceof RangeError) {
        throw new RequestValidationError([
          { field: '(body)', message: `not a Telegram Update this bridge can read (${error.message})` },
        ]);
      }
      throw error;
    }
  }

  async resolveMedia(account: ConnectedAccount, fileId: string): Promise<MediaStream> {
    const api = this.api(this.credentialsOf(account).botToken);
    let file: TgFileResult;
    try {
      file = await api.call<TgFileResult>('getFile', { file_id: fileId });
    } catch (error) {
      if (error instanceof TelegramApiError && /file is too big/i.test(error.description)) {
        throw new MediaTooLargeError(DOWNLOAD_LIMIT);
      }
      // "wrong file_id or the file is temporarily unavailable" is one description for both: were it retried, a
      // file that is gone would dead-letter the customer's whole message once the gateway's retries ran out.
      if (error instanceof TelegramApiError && error.errorCode === 400) {
        throw new MediaNotFoundError(`Telegram has no file ${fileId}`);
      }
      throw error;
    }
    if (file.file_size !== undefined && file.file_size > DOWNLOAD_LIMIT) {
      throw new MediaTooLargeError(DOWNLOAD_LIMIT);
    }
    const url = file.file_path === undefined ? undefined : api.fileUrl(file.file_path);
    if (url === undefined) {
      throw new MediaNotFoundError(`Telegram gave no usable download path for ${fileId}`);
    }
    let response;
    try {
      response = await this.http.request({ method: 'GET', url });
    } catch (error) {
      if (error instanceof HttpTransportError) {
        throw new TelegramApiError(0, `file download failed (${error.code})`);
      }
      throw error;
    }
    if (response.status !== 200) {
      response.discard();
      if (response.status === 404) {
        throw new MediaNotFoundError('Telegram no longer serves this file');
      }
      throw new TelegramApiError(response.status, 'file download failed');
    }
    return mediaStreamFrom(response, DOWNLOAD_LIMIT);
  }

  /** Only a basic group (ids between −10¹² and 0; supergroups and channels are below −10¹²) can be upgraded. */
  mayHaveMoved(conversationKey: string): boolean {
    const chatId = Number(conversationKey);
    return Number.isInteger(chatId) && chatId < 0 && chatId > -1_000_000_000_000;
  }

  async send(
    account: ConnectedAccount,
    { request, address, files, progress }: OutboundMessage,
  ): Promise<{ providerMessageId: string }> {
    const api = this.api(this.credentialsOf(account).botToken);
    const destination = new ReplyDestination(
      address,
      this.replyParameters(address.current, request.inReplyToProviderMessageId),
    );
    const html =
      request.richText !== undefined && request.richText.trim() !== ''
        ? toTelegramHtml(request.richText)
        : escapeTelegramHtml(request.text ?? '');
    const plain =
      request.richText !== undefined && request.richText.trim() !== ''
        ? htmlToPlainText(request.richText)
        : (request.text ?? '').trim();
    const sentIds: string[] = [];
    const asCaption =
      files.length === 1 && plain !== '' && plain.length <= CAPTION_LIMIT && html.length <= CAPTION_LIMIT * 2;
    if (plain !== '' && !asCaption) {
      const pieces =
        html.length <= TEXT_LIMIT
          ? [{ text: html, parseMode: true }]
          : splitText(plain, TEXT_LIMIT).map((text) => ({ text, parseMode: false }));
      for (const [index, piece] of pieces.entries()) {
        const earlier = progress.sent(`text:${index}`);
        if (earlier !== undefined) {
          sentIds.push(earlier);
          continue;
        }
        const sent = await this.withFormattingFallback(
          piece.parseMode,
          plain,
          (text, parseMode) =>
            this.call(account, destination, (to) =>
              api.call<TgMessageResult>('sendMessage', {
                chat_id: to.chatId,
                text,
                ...(parseMode ? { parse_mode: 'HTML' } : {}),
                ...(index === 0 && to.quote !== undefined ? { reply_parameters: to.quote } : {}),
              }),
            ),
          piece.text,
        );
        sentIds.push(telegramMessageId(sent.chat.id, sent.message_id));
        progress.record(`text:${index}`, telegramMessageId(sent.chat.id, sent.message_id));
      }
    }
    for (const [index, file] of files.entries()) {
      const earlier = progress.sent(`file:${index}`);
      if (earlier !== undefined) {
        sentIds.push(earlier);
        continue;
      }
      const { method, field, limit } = methodFor(file);
      const caption = asCaption ? html : undefined;
      const sent = await this.withFormattingFallback(
        caption !== undefined,
        plain,
        (text, parseMode) =>
          // The file is opened per attempt: a stream consumed by a refused upload cannot be sent again.
          this.call(account, destination, async (to) => {
            const opened = await openOutboundFile(this.internalHttp, file, limit, 'Telegram');
            return api.upload<TgMessageResult>(
              method,
              {
                chat_id: to.chatId,
                ...(caption === undefined ? {} : { caption: text }),
                ...(caption !== undefined && parseMode ? { parse_mode: 'HTML' } : {}),
                ...(sentIds.length === 0 && to.quote !== undefined
                  ? { reply_parameters: JSON.stringify(to.quote) }
                  : {}),
              },
              { field, fileName: file.fileName, contentType: opened.contentType, body: opened.body },
            );
          }),
        caption ?? '',
      );
      sentIds.push(telegramMessageId(sent.chat.id, sent.message_id));
      progress.record(`file:${index}`, telegramMessageId(sent.chat.id, sent.message_id));
    }
    const first = sentIds[0];
    if (first === undefined) {
      throw new SendFailure('permanent', 'The reply has no text or file that Telegram can carry.', 'EMPTY');
    }
    return { providerMessageId: first };
  }

  private replyParameters(
    chatId: string,
    inReplyTo: string | undefined,
  ): Record<string, unknown> | undefined {
    if (inReplyTo === undefined) {
      return undefined;
    }
    const separator = inReplyTo.lastIndexOf(':');
    const messageId = Number(inReplyTo.slice(separator + 1));
    if (separator === -1 || inReplyTo.slice(0, separator) !== chatId || !Number.isSafeInteger(messageId)) {
      return undefined;
    }
    return { message_id: messageId, allow_sending_without_reply: true };
  }

  /** Markup Telegram refuses ("can't parse entities") is sent again once as plain text rather than failing. */
  private async withFormattingFallback<T>(
    parseMode: boolean,
    plain: string,
    attempt: (text: string, parseMode: boolean) => Promise<T>,
    text: string,
  ): Promise<T> {
    try {
      return await attempt(text, parseMode);
    } catch (error) {
      if (parseMode && error instanceof SendFailure && error.reason.includes("can't parse entities")) {
        return attempt(plain.slice(0, TEXT_LIMIT), false);
      }
      throw error;
    }
  }

  /**
   * One Bot API send under the per-bot and per-chat limits. A `retry_after` within the in-process budget is
   * waited out and the call repeated once; a longer one pauses the bot and becomes a transient failure. A group
   * that became a supergroup is followed once: the call is repeated there.
   */
  private async call<T>(
    account: ConnectedAccount,
    destination: ReplyDestination,
    send: (to: ReplyDestination) => Promise<T>,
  ): Promise<T> {
    const botKey = `telegram:${account.channelAccountId}`;
    let waitedMs = 0;
    for (;;) {
      await this.throttle.acquire(botKey, this.capabilities.sendsPerSecond);
      await this.throttle.acquire(`${botKey}:${destination.chatId}`, CHAT_SENDS_PER_SECOND, CHAT_BURST);
      try {
        return await send(destination);
      } catch (error) {
        if (!(error instanceof TelegramApiError)) {
          throw error;
        }
        if (error.migrateToChatId !== undefined && (await destination.moveTo(error.migrateToChatId))) {
          continue;
        }
        const failure = telegramFailure(error);
        const retryAfter = failure.retryAfterMs;
        if (retryAfter !== undefined) {
          this.throttle.pause(`${botKey}:${destination.chatId}`, retryAfter);
          if (waitedMs + retryAfter <= MAX_IN_PROCESS_WAIT_MS) {
            waitedMs += retryAfter;
            await sleep(retryAfter);
            continue;
          }
        }
        if (failure.kind === 'permanent' && /can't parse entities/i.test(error.description)) {
          throw new SendFailure(
            'permanent',
            `can't parse entities: ${error.description}`,
            failure.providerErrorCode,
          );
        }
        throw failure;
      }
    }
  }

  private credentialsOf(account: ConnectedAccount): { botToken: string } {
    if (account.credentials.provider !== 'telegram') {
      throw new Error(`account ${account.channelAccountId} has no Telegram credentials`);
    }
    return account.credentials;
  }

  private api(token: string): TelegramBotApi {
    return new TelegramBotApi(this.http, this.options.apiBaseUrl, token);
  }
}
