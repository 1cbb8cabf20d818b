import { Injectable } from '@nestjs/common';
import { BotApiError, EntityTooLargeError } from './bot-api.error.js';
import type { BotApiParams, UploadedFile } from './bot-api.params.js';
import { EntityParseError, formatText, UnsupportedParseModeError, type FormattedText } from './formatting.js';
import { DEFAULT_MIME, mediaObject, photoSize, thumbnailFor } from './media.js';
import { botMe, botUser, type BotRecord } from './stores/bot.store.js';
import type { ChatRecord } from './stores/chat.store.js';
import type { FileKind, FileRecord } from './stores/file.store.js';
import { TelegramState } from './telegram.state.js';
import type { TgFile, TgMessage, TgMessageEntity, TgUpdate } from './telegram.types.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

export interface MethodResult {
  readonly result: unknown;
  readonly description?: string;
}

const MB = 1024 * 1024;
export const LIMITS = {
  textLength: 4096,
  captionLength: 1024,
  uploadPhotoBytes: 10 * MB,
  uploadOtherBytes: 50 * MB,
  urlPhotoBytes: 5 * MB,
  urlOtherBytes: 20 * MB,
  downloadBytes: 20 * MB,
  voiceByUrlBytes: 1 * MB,
} as const;

const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]*$/;
const WEBHOOK_PORTS = new Set(['', '80', '88', '443', '8443']);

type MediaMethodKind = Extract<
  FileKind,
  'photo' | 'voice' | 'audio' | 'video' | 'document' | 'animation' | 'video_note' | 'sticker'
>;

/** Methods whose messages take no caption (Telegram ignores one). */
const UNCAPTIONED: ReadonlySet<MediaMethodKind> = new Set(['video_note', 'sticker']);

type Handler = (bot: BotRecord, params: BotApiParams) => Promise<MethodResult> | MethodResult;

/** The Bot API methods the sandbox implements, by lower-cased name (method names are case-insensitive). */
@Injectable()
export class BotApiService {
  private readonly handlers: ReadonlyMap<string, Handler>;

  constructor(
    private readonly state: TelegramState,
    private readonly dispatcher: WebhookDispatcher,
  ) {
    const handlers: Record<string, Handler> = {
      getMe: (bot) => ({ result: botMe(bot) }),
      setWebhook: (bot, params) => this.setWebhook(bot, params),
      deleteWebhook: (bot, params) => this.deleteWebhook(bot, params),
      getWebhookInfo: (bot) => ({ result: this.state.webhooks.info(bot.id) }),
      getUpdates: (bot, params) => this.getUpdates(bot, params),
      sendMessage: (bot, params) => this.sendMessage(bot, params),
      sendPhoto: (bot, params) => this.sendMedia(bot, params, 'photo'),
      sendVoice: (bot, params) => this.sendMedia(bot, params, 'voice'),
      sendAudio: (bot, params) => this.sendMedia(bot, params, 'audio'),
      sendVideo: (bot, params) => this.sendMedia(bot, params, 'video'),
      sendDocument: (bot, params) => this.sendMedia(bot, params, 'document'),
      sendAnimation: (bot, params) => this.sendMedia(bot, params, 'animation'),
      sendVideoNote: (bot, params) => this.sendMedia(bot, params, 'video_note'),
      sendSticker: (bot, params) => this.sendMedia(bot, params, 'sticker'),
      sendChatAction: (bot, params) => {
        this.resolveChat(bot, params);
        return { result: true };
      },
      getFile: (bot, params) => this.getFile(bot, params),
    };
    this.handlers = new Map(Object.entries(handlers).map(([name, handler]) => [name.toLowerCase(), handler]));
  }

  /** Whether the sandbox implements `method` (case-insensitive); others answer 404. */
  supports(method: string): boolean {
    return this.handlers.has(method.toLowerCase());
  }

  async call(bot: BotRecord, method: string, params: BotApiParams): Promise<MethodResult> {
    const handler = this.handlers.get(method.toLowerCase());
    if (handler === undefined) {
      throw new BotApiError(404, 'Not Found: method not found');
    }
    return handler(bot, params);
  }

  private setWebhook(bot: BotRecord, params: BotApiParams): MethodResult {
    const url = params.string('url');
    if (url === undefined) {
      throw BotApiError.badRequest('parameter "url" is required');
    }
    if (url === '') {
      return this.deleteWebhook(bot, params);
    }
    this.validateWebhookUrl(url);
    const secretToken = params.string('secret_token');
    if (secretToken !== undefined && secretToken !== '') {
      if (secretToken.length > 256) {
        throw BotApiError.badRequest('secret token is too long');
      }
      if (!SECRET_TOKEN_PATTERN.test(secretToken)) {
        throw BotApiError.badRequest('secret token contains unallowed characters');
      }
    }
    const maxConnections = params.integer('max_connections') ?? 40;
    const allowedUpdates = params.json('allowed_updates', 'allowed updates');
    if (allowedUpdates !== undefined && !isStringArray(allowedUpdates)) {
      throw BotApiError.badRequest("can't parse allowed updates JSON object");
    }
    const state = this.state.webhooks.state(bot.id);
    const previous = state.settings;
    state.settings = {
      url,
      ...(secretToken === undefined || secretToken === '' ? {} : { secretToken }),
      ...((allowedUpdates ?? previous.allowedUpdates) === undefined
        ? {}
        : { allowedUpdates: allowedUpdates ?? previous.allowedUpdates }),
      maxConnections: Math.min(100, Math.max(1, maxConnections)),
      ...(params.has('ip_address') ? { ipAddress: params.string('ip_address') ?? '' } : {}),
      hasCustomCertificate: params.file('certificate') !== undefined,
      ...(previous.url === url &&
      previous.lastErrorDate !== undefined &&
      previous.lastErrorMessage !== undefined
        ? { lastErrorDate: previous.lastErrorDate, lastErrorMessage: previous.lastErrorMessage }
        : {}),
    };
    if (params.boolean('drop_pending_updates')) {
      this.state.webhooks.dropPending(bot.id);
    }
    this.dispatcher.kick(bot.id);
    return { result: true, description: 'Webhook was set' };
  }

  private validateWebhookUrl(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw BotApiError.badRequest('bad webhook: Failed to resolve host: Name or service not known');
    }
    if (this.state.config.SANDBOX_ALLOW_HTTP_WEBHOOKS || this.state.config.TELEGRAM_ALLOW_INSECURE_WEBHOOKS) {
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw BotApiError.badRequest('bad webhook: An HTTPS URL must be provided for webhook');
      }
      return;
    }
    if (parsed.protocol !== 'https:') {
      throw BotApiError.badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    }
    if (!WEBHOOK_PORTS.has(parsed.port)) {
      throw BotApiError.badRequest('bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443');
    }
  }

  private deleteWebhook(bot: BotRecord, params: BotApiParams): MethodResult {
    const state = this.state.webhooks.state(bot.id);
    const hadWebhook = state.settings.url !== '';
    state.settings = {
      url: '',
      maxConnections: 40,
      hasCustomCertificate: false,
      ...(state.settings.allowedUpdates === undefined
        ? {}
        : { allowedUpdates: state.settings.allowedUpdates }),
    };
    if (params.boolean('drop_pending_updates')) {
      this.state.webhooks.dropPending(bot.id);
    }
    for (const item of state.pending) {
      item.nextAttemptAt = 0;
    }
    return { result: true, description: hadWebhook ? 'Webhook was deleted' : 'Webhook is already deleted' };
  }

  private async getUpdates(bot: BotRecord, params: BotApiParams): Promise<MethodResult> {
    const state = this.state.webhooks.state(bot.id);
    if (state.settings.url !== '') {
      throw BotApiError.conflict(
        "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
    }
    this.dispatcher.terminateWaitingPoll(bot.id);
    const allowedUpdates = params.json('allowed_updates', 'allowed updates');
    if (isStringArray(allowedUpdates)) {
      state.settings.allowedUpdates = allowedUpdates;
    }
    const offset = params.integer('offset') ?? 0;
    const limit = Math.min(100, Math.max(1, params.integer('limit') ?? 100));
    const timeoutSeconds = Math.max(0, params.integer('timeout') ?? 0);
    if (offset > 0) {
      for (const item of [...state.pending].filter((pending) => pending.update.update_id < offset)) {
        this.state.webhooks.remove(bot.id, item.update.update_id);
      }
    }
    const select = (): TgUpdate[] => {
      const updates = state.pending.map((item) => item.update);
      return offset < 0 ? updates.slice(offset).slice(0, limit) : updates.slice(0, limit);
    };
    if (select().length === 0 && timeoutSeconds > 0) {
      await this.dispatcher.waitForUpdates(bot.id, Math.min(timeoutSeconds, 50) * 1000);
    }
    return { result: select() };
  }

  private sendMessage(bot: BotRecord, params: BotApiParams): MethodResult {
    const chat = this.resolveChat(bot, params);
    const source = params.string('text') ?? '';
    if (source.trim() === '') {
      throw BotApiError.badRequest('message text is empty');
    }
    const formatted = this.format(source, params.string('parse_mode'), params, 'entities');
    if (formatted.text.trim() === '') {
      throw BotApiError.badRequest('message text is empty');
    }
    if (formatted.text.length > LIMITS.textLength) {
      throw BotApiError.badRequest('message is too long');
    }
    const replyTo = this.resolveReply(chat, params);
    this.takeFloodToken(bot, chat);
    const linkPreview = params.json('link_preview_options', 'link preview options') as
      Record<string, unknown> | undefined;
    const message = this.appendBotMessage(bot, chat, replyTo, {
      text: formatted.text,
      ...(formatted.entities.length > 0 ? { entities: formatted.entities } : {}),
      ...(linkPreview === undefined ? {} : { link_preview_options: linkPreview }),
    });
    return { result: message };
  }

  private async sendMedia(
    bot: BotRecord,
    params: BotApiParams,
    kind: MediaMethodKind,
  ): Promise<MethodResult> {
    const chat = this.resolveChat(bot, params);
    const caption = UNCAPTIONED.has(kind) ? undefined : this.caption(params);
    const replyTo = this.resolveReply(chat, params);
    const input = await this.resolveInputFile(bot, params, kind);
    this.takeFloodToken(bot, chat);
    const content = this.mediaContent(bot, input.record, input.deliveredAs);
    const message = this.appendBotMessage(bot, chat, replyTo, {
      ...content,
      ...(caption === undefined ? {} : { caption: caption.text }),
      ...(caption === undefined || caption.entities.length === 0
        ? {}
        : { caption_entities: caption.entities }),
    });
    return { result: message };
  }

  private mediaContent(bot: BotRecord, record: FileRecord, kind: FileKind): Record<string, unknown> {
    if (kind === 'photo') {
      const width = Number(record.meta.width ?? 1280);
      const height = Number(record.meta.height ?? 960);
      const thumbWidth = 90;
      const thumb = thumbnailFor(
        this.state.files,
        bot.id,
        thumbWidth,
        Math.max(1, Math.round((height / width) * thumbWidth)),
      );
      return { photo: [thumb, photoSize(record, width, height)] };
    }
    if (kind === 'animation') {
      // Telegram sends an animation with its `document` twin, for clients that do not know animations.
      const { duration: _duration, width: _width, height: _height, ...document } = mediaObject(record);
      return { animation: mediaObject(record), document };
    }
    return { [kind]: mediaObject(record) };
  }

  private caption(params: BotApiParams): FormattedText | undefined {
    const source = params.string('caption');
    if (source === undefined || source === '') {
      return undefined;
    }
    const formatted = this.format(source, params.string('parse_mode'), params, 'caption_entities');
    if (formatted.text.length > LIMITS.captionLength) {
      throw BotApiError.badRequest('message caption is too long');
    }
    return formatted;
  }

  private format(
    source: string,
    parseMode: string | undefined,
    params: BotApiParams,
    entitiesParam: string,
  ): FormattedText {
    const entities = params.json(entitiesParam, 'message entities') as TgMessageEntity[] | undefined;
    try {
      return formatText(source, parseMode, entities);
    } catch (error) {
      if (error instanceof EntityParseError) {
        throw BotApiError.badRequest(error.message);
      }
      if (error instanceof UnsupportedParseModeError) {
        throw BotApiError.badRequest(`unsupported parse_mode`);
      }
      throw error;
    }
  }

  /** `chat_id` → the chat; Telegram's errors for unknown, upgraded, unstarted and blocked chats. */
  private resolveChat(bot: BotRecord, params: BotApiParams): ChatRecord {
    const raw = params.string('chat_id');
    if (raw === undefined || raw === '') {
      throw BotApiError.badRequest('chat_id is empty');
    }
    const chatId = /^-?\d+$/.test(raw) ? Number(raw) : undefined;
    const chat = chatId === undefined ? undefined : this.state.chats.find(bot.id, chatId);
    if (chat === undefined) {
      throw BotApiError.badRequest('chat not found');
    }
    if (chat.migratedToChatId !== undefined) {
      throw BotApiError.groupUpgraded(chat.migratedToChatId);
    }
    if (chat.blocked) {
      throw BotApiError.forbidden('bot was blocked by the user');
    }
    if (!chat.started) {
      throw BotApiError.forbidden("bot can't initiate conversation with a user");
    }
    return chat;
  }

  private resolveReply(chat: ChatRecord, params: BotApiParams): TgMessage | undefined {
    const replyParameters = params.json('reply_parameters', 'reply parameters') as
      { message_id?: unknown; allow_sending_without_reply?: unknown } | undefined;
    const messageId =
      typeof replyParameters?.message_id === 'number'
        ? replyParameters.message_id
        : params.integer('reply_to_message_id');
    if (messageId === undefined) {
      return undefined;
    }
    const target = this.state.chats.findMessage(chat, messageId);
    const allowWithout =
      replyParameters?.allow_sending_without_reply === true || params.boolean('allow_sending_without_reply');
    if (target === undefined && !allowWithout) {
      throw BotApiError.badRequest('message to be replied not found');
    }
    return target;
  }

  private takeFloodToken(bot: BotRecord, chat: ChatRecord): void {
    const retryAfter = this.state.flood.take(bot.id, chat.chat.id, this.state.clock.nowMs());
    if (retryAfter > 0) {
      throw BotApiError.tooManyRequests(retryAfter);
    }
  }

  private appendBotMessage(
    bot: BotRecord,
    chat: ChatRecord,
    replyTo: TgMessage | undefined,
    content: Record<string, unknown>,
  ): TgMessage {
    return this.state.chats.append(chat, 'from_bot', (messageId) => ({
      message_id: messageId,
      from: botUser(bot),
      chat: chat.chat,
      date: this.state.clock.unixSeconds(),
      ...(replyTo === undefined ? {} : { reply_to_message: withoutNestedReply(replyTo) }),
      ...content,
    }));
  }

  /** The file field: a multipart upload (or `attach://`), an HTTP URL Telegram fetches, or a `file_id`. */
  private async resolveInputFile(
    bot: BotRecord,
    params: BotApiParams,
    kind: MediaMethodKind,
  ): Promise<{ record: FileRecord; deliveredAs: FileKind }> {
    const upload = params.file(kind);
    if (upload !== undefined) {
      return { record: this.storeUpload(bot, params, kind, upload), deliveredAs: kind };
    }
    const value = params.string(kind);
    if (value === undefined || value === '') {
      throw BotApiError.badRequest(`there is no ${kind} in the request`);
    }
    if (/^https?:\/\//i.test(value)) {
      if (kind === 'video_note') {
        // "Sending video notes by a URL is currently unsupported" (Bot API).
        throw BotApiError.badRequest('wrong file identifier/HTTP URL specified');
      }
      return this.fetchUrl(bot, params, kind, value);
    }
    const record = this.state.files.find(bot.id, value);
    if (record === undefined || record.kind === 'thumbnail') {
      throw BotApiError.badRequest('wrong file identifier/HTTP URL specified');
    }
    if (record.kind !== kind && !(kind === 'document' && record.kind === 'animation')) {
      throw BotApiError.badRequest('type of file mismatch');
    }
    return { record, deliveredAs: record.kind };
  }

  private storeUpload(
    bot: BotRecord,
    params: BotApiParams,
    kind: MediaMethodKind,
    upload: UploadedFile,
  ): FileRecord {
    const limit = kind === 'photo' ? LIMITS.uploadPhotoBytes : LIMITS.uploadOtherBytes;
    if (upload.bytes.length > limit) {
      throw new EntityTooLargeError();
    }
    const mimeType =
      upload.mimeType === '' || upload.mimeType === 'application/octet-stream'
        ? DEFAULT_MIME[kind]
        : upload.mimeType;
    return this.state.files.put({
      botId: bot.id,
      kind,
      mimeType: kind === 'document' ? upload.mimeType || DEFAULT_MIME.document : mimeType,
      bytes: upload.bytes,
      ...(kind === 'document' || kind === 'audio' || kind === 'video' || kind === 'animation'
        ? { fileName: upload.fileName }
        : {}),
      meta: mediaMeta(params, kind, mimeType),
    });
  }

  private async fetchUrl(
    bot: BotRecord,
    params: BotApiParams,
    kind: MediaMethodKind,
    url: string,
  ): Promise<{ record: FileRecord; deliveredAs: FileKind }> {
    const limit = kind === 'photo' ? LIMITS.urlPhotoBytes : LIMITS.urlOtherBytes;
    let bytes: Buffer;
    let contentType: string;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!response.ok) {
        throw new Error(`status ${response.status}`);
      }
      contentType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      bytes = Buffer.from(await response.arrayBuffer());
    } catch {
      throw BotApiError.badRequest('failed to get HTTP URL content');
    }
    if (bytes.length > limit) {
      throw BotApiError.badRequest('failed to get HTTP URL content');
    }
    const family = contentType.split('/')[0] ?? '';
    const acceptable: Record<MediaMethodKind, boolean> = {
      photo: family === 'image',
      voice: family === 'audio',
      audio: family === 'audio',
      video: family === 'video',
      animation: contentType === 'image/gif' || contentType === 'video/mp4',
      // Only .WEBP stickers can be sent by URL.
      sticker: contentType === 'image/webp',
      video_note: false,
      document: contentType !== '' && contentType !== 'text/html',
    };
    if (!acceptable[kind]) {
      throw BotApiError.badRequest('wrong type of the web page content');
    }
    // A voice note by URL must be OGG and at most 1 MB; otherwise it arrives as a file.
    const deliveredAs: FileKind =
      kind === 'voice' && (contentType !== 'audio/ogg' || bytes.length > LIMITS.voiceByUrlBytes)
        ? 'document'
        : kind;
    const fileName = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '') || undefined;
    const record = this.state.files.put({
      botId: bot.id,
      kind: deliveredAs,
      mimeType: contentType,
      bytes,
      ...(fileName !== undefined &&
      (deliveredAs === 'document' ||
        deliveredAs === 'audio' ||
        deliveredAs === 'video' ||
        deliveredAs === 'animation')
        ? { fileName }
        : {}),
      meta: mediaMeta(params, kind, contentType),
    });
    return { record, deliveredAs };
  }

  private getFile(bot: BotRecord, params: BotApiParams): MethodResult {
    const fileId = params.string('file_id');
    if (fileId === undefined || fileId === '') {
      throw BotApiError.badRequest('file_id is empty');
    }
    const record = this.state.files.find(bot.id, fileId);
    if (record === undefined) {
      throw BotApiError.badRequest('wrong file_id or the file is temporarily unavailable');
    }
    if (record.size > LIMITS.downloadBytes) {
      throw BotApiError.badRequest('file is too big');
    }
    const file: TgFile = {
      file_id: record.fileId,
      file_unique_id: record.fileUniqueId,
      file_size: record.size,
      file_path: this.state.files.pathFor(record),
    };
    return { result: file };
  }
}

function mediaMeta(params: BotApiParams, kind: MediaMethodKind, mimeType: string): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  if (kind === 'sticker') {
    const emoji = params.string('emoji');
    return {
      ...(emoji === undefined || emoji === '' ? {} : { emoji }),
      is_animated: mimeType === 'application/x-tgsticker',
      is_video: mimeType === 'video/webm',
    };
  }
  if (kind === 'video_note') {
    const length = params.integer('length');
    const duration = params.integer('duration');
    return {
      ...(length === undefined ? {} : { length }),
      ...(duration === undefined ? {} : { duration }),
    };
  }
  for (const name of ['duration', 'width', 'height']) {
    const value = params.integer(name);
    if (value !== undefined) {
      meta[name] = value;
    }
  }
  if (kind === 'audio') {
    for (const name of ['performer', 'title']) {
      const value = params.string(name);
      if (value !== undefined && value !== '') {
        meta[name] = value;
      }
    }
  }
  return meta;
}

/** `reply_to_message` is one level deep: the quoted message's own reply is not repeated. */
export function withoutNestedReply(message: TgMessage): TgMessage {
  const { reply_to_message: _nested, ...rest } = message;
  return rest;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
