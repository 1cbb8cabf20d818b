import { Injectable } from '@nestjs/common';
import { withoutNestedReply } from './bot-api.service.js';
import { detectUrls } from './formatting.js';
import { DEFAULT_MIME, mediaObject, photoSize, syntheticBytes, thumbnailFor } from './media.js';
import { botUser, type BotRecord } from './stores/bot.store.js';
import type { ChatRecord } from './stores/chat.store.js';
import type { FileKind } from './stores/file.store.js';
import { TelegramState } from './telegram.state.js';
import type { TgMessage, TgUpdate } from './telegram.types.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

export const CUSTOMER_MESSAGE_KINDS = [
  'text',
  'photo',
  'voice',
  'audio',
  'video',
  'video_note',
  'animation',
  'sticker',
  'document',
  'location',
  'venue',
  'contact',
  'poll',
  'dice',
] as const;

export type CustomerMessageKind = (typeof CUSTOMER_MESSAGE_KINDS)[number];

/** What a customer sends; fields not relevant to `kind` are ignored. */
export interface CustomerMessageInput {
  readonly kind: CustomerMessageKind;
  readonly text?: string;
  readonly caption?: string;
  /** File content (base64); synthetic bytes of `file_size` (default small) when omitted. */
  readonly content_base64?: string;
  readonly file_size?: number;
  readonly mime_type?: string;
  readonly file_name?: string;
  readonly duration?: number;
  readonly width?: number;
  readonly height?: number;
  readonly performer?: string;
  readonly title?: string;
  /** Photo sizes to generate, smallest first; default 90×68, 320×240, 800×600, 1280×960. */
  readonly sizes?: readonly { width: number; height: number }[];
  readonly sticker_format?: 'static' | 'animated' | 'video';
  readonly emoji?: string;
  readonly latitude?: number;
  readonly longitude?: number;
  readonly address?: string;
  readonly phone_number?: string;
  readonly first_name?: string;
  readonly last_name?: string;
  readonly vcard?: string;
  readonly question?: string;
  readonly options?: readonly string[];
  readonly reply_to_message_id?: number;
  readonly media_group_id?: string;
  /** Makes this an `edited_message` of that earlier customer message (same `message_id`, `edit_date`). */
  readonly edit_of_message_id?: number;
}

export class CustomerInputError extends Error {}

const MAX_SYNTHETIC_BYTES = 20 * 1024 * 1024;

/** Builds realistic updates for what a customer does and hands them to the dispatcher. */
@Injectable()
export class CustomerSimulator {
  constructor(
    private readonly state: TelegramState,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  /** A `message` (or `edited_message`) update; returns the update (undefined if filtered by allowed_updates) and the message. */
  send(
    bot: BotRecord,
    chat: ChatRecord,
    input: CustomerMessageInput,
  ): { update?: TgUpdate; message: TgMessage } {
    const content = this.content(bot, input);
    if (input.edit_of_message_id !== undefined) {
      const original = this.state.chats.findMessage(chat, input.edit_of_message_id);
      if (original === undefined) {
        throw new CustomerInputError(`message ${input.edit_of_message_id} not found in chat ${chat.chat.id}`);
      }
      const edited: TgMessage = {
        ...stripContent(original),
        edit_date: this.state.clock.unixSeconds(),
        ...content,
      };
      const stored = chat.messages.find((item) => item.message.message_id === original.message_id);
      if (stored !== undefined) {
        Object.assign(stored, { message: edited });
      }
      return { update: this.publish(bot, chat, 'edited_message', edited), message: edited };
    }
    chat.started = true;
    let replyTo: TgMessage | undefined;
    if (input.reply_to_message_id !== undefined) {
      replyTo = this.state.chats.findMessage(chat, input.reply_to_message_id);
      if (replyTo === undefined) {
        throw new CustomerInputError(
          `message ${input.reply_to_message_id} not found in chat ${chat.chat.id}`,
        );
      }
    }
    const message = this.state.chats.append(chat, 'from_customer', (messageId) => ({
      message_id: messageId,
      from: chat.user,
      chat: chat.chat,
      date: this.state.clock.unixSeconds(),
      ...(input.media_group_id === undefined ? {} : { media_group_id: input.media_group_id }),
      ...(replyTo === undefined ? {} : { reply_to_message: withoutNestedReply(replyTo) }),
      ...content,
    }));
    return { update: this.publish(bot, chat, 'message', message), message };
  }

  /** Block (`kicked`) or unblock (`member`): flips the chat state and emits `my_chat_member`. */
  setBlocked(bot: BotRecord, chat: ChatRecord, blocked: boolean): TgUpdate | undefined {
    if (chat.blocked === blocked) {
      return undefined;
    }
    chat.blocked = blocked;
    const member = botUser(bot);
    const payload = {
      chat: chat.chat,
      from: chat.user,
      date: this.state.clock.unixSeconds(),
      old_chat_member: {
        user: member,
        status: blocked ? 'member' : 'kicked',
        ...(blocked ? {} : { until_date: 0 }),
      },
      new_chat_member: {
        user: member,
        status: blocked ? 'kicked' : 'member',
        ...(blocked ? { until_date: 0 } : {}),
      },
    };
    return this.dispatcher.publish(bot, 'my_chat_member', payload, `chat:${chat.chat.id}`);
  }

  /**
   * The customer upgrades the group to a supergroup: the old chat gets a service message with `migrate_to_chat_id`,
   * the new one with `migrate_from_chat_id` (§1.6), and the Bot API refuses the old id from now on (§1.2).
   */
  migrateGroup(bot: BotRecord, group: ChatRecord): ChatRecord {
    if (group.chat.type !== 'group' || group.migratedToChatId !== undefined) {
      throw new CustomerInputError(`chat ${group.chat.id} is not a basic group that can be upgraded`);
    }
    const supergroup = this.state.chats.migrateToSupergroup(group);
    const serviceMessage = (chat: ChatRecord, field: string, chatId: number) => {
      const message = this.state.chats.append(chat, 'from_customer', (messageId) => ({
        message_id: messageId,
        from: chat.user,
        chat: chat.chat,
        date: this.state.clock.unixSeconds(),
        [field]: chatId,
      }));
      this.publish(bot, chat, 'message', message);
    };
    serviceMessage(group, 'migrate_to_chat_id', supergroup.chat.id);
    serviceMessage(supergroup, 'migrate_from_chat_id', group.chat.id);
    return supergroup;
  }

  /** Any other update type, payload as given (e.g. `poll`, `callback_query`, `message_reaction`). */
  raw(bot: BotRecord, kind: string, payload: unknown, chatId?: number): TgUpdate | undefined {
    return this.dispatcher.publish(
      bot,
      kind,
      payload,
      chatId === undefined ? `kind:${kind}` : `chat:${chatId}`,
    );
  }

  private publish(bot: BotRecord, chat: ChatRecord, kind: string, message: TgMessage): TgUpdate | undefined {
    return this.dispatcher.publish(bot, kind, message, `chat:${chat.chat.id}`);
  }

  private content(bot: BotRecord, input: CustomerMessageInput): Record<string, unknown> {
    const caption = this.captionFields(input);
    switch (input.kind) {
      case 'text': {
        const text = input.text ?? '';
        if (text === '') {
          throw new CustomerInputError('text is required');
        }
        const entities = detectUrls(text);
        return { text, ...(entities.length > 0 ? { entities } : {}) };
      }
      case 'photo': {
        const sizes = input.sizes ?? [
          { width: 90, height: 68 },
          { width: 320, height: 240 },
          { width: 800, height: 600 },
          { width: 1280, height: 960 },
        ];
        const mimeType = input.mime_type ?? 'image/jpeg';
        const photo = sizes.map(({ width, height }, index) => {
          const isLargest = index === sizes.length - 1;
          const bytes =
            isLargest && input.content_base64 !== undefined
              ? Buffer.from(input.content_base64, 'base64')
              : syntheticBytes(
                  mimeType,
                  isLargest && input.file_size !== undefined
                    ? input.file_size
                    : Math.min(200_000, Math.round((width * height) / 6)),
                );
          const record = this.state.files.put({
            botId: bot.id,
            kind: 'photo',
            mimeType,
            bytes,
            variant: `${width}x${height}`,
          });
          return photoSize(record, width, height);
        });
        return { photo, ...caption };
      }
      case 'voice':
        return { voice: this.file(bot, 'voice', input, { duration: input.duration ?? 5 }), ...caption };
      case 'audio':
        return {
          audio: this.file(bot, 'audio', input, {
            duration: input.duration ?? 184,
            performer: input.performer ?? 'Sandbox Band',
            title: input.title ?? 'Sandbox Song',
          }),
          ...caption,
        };
      case 'video':
        return {
          video: this.file(
            bot,
            'video',
            input,
            { duration: input.duration ?? 12, width: input.width ?? 1280, height: input.height ?? 720 },
            true,
          ),
          ...caption,
        };
      case 'video_note':
        return {
          video_note: this.file(
            bot,
            'video_note',
            input,
            { duration: input.duration ?? 8, length: input.width ?? 384 },
            true,
          ),
        };
      case 'animation': {
        const animation = this.file(
          bot,
          'animation',
          input,
          { duration: input.duration ?? 3, width: input.width ?? 320, height: input.height ?? 240 },
          true,
        );
        // Telegram also sets `document` for animations, for old clients.
        const { duration: _d, width: _w, height: _h, ...document } = animation;
        return { animation, document, ...caption };
      }
      case 'sticker': {
        const format = input.sticker_format ?? 'static';
        const mimeType =
          format === 'animated'
            ? 'application/x-tgsticker'
            : format === 'video'
              ? 'video/webm'
              : 'image/webp';
        const sticker = this.file(
          bot,
          'sticker',
          { ...input, mime_type: mimeType },
          {
            width: 512,
            height: 512,
            emoji: input.emoji ?? '👍',
            set_name: 'SandboxStickers',
            is_animated: format === 'animated',
            is_video: format === 'video',
            type: 'regular',
          },
          true,
        );
        return { sticker };
      }
      case 'document':
        return {
          document: this.file(
            bot,
            'document',
            { file_name: 'document.pdf', mime_type: 'application/pdf', ...input },
            {},
            true,
          ),
          ...caption,
        };
      case 'location':
        return { location: this.location(input) };
      case 'venue': {
        const location = this.location(input);
        return {
          venue: {
            location,
            title: input.title ?? 'Sandbox Café',
            address: input.address ?? '1 Example Street',
          },
          location,
        };
      }
      case 'contact':
        return {
          contact: {
            phone_number: input.phone_number ?? '+15555550123',
            first_name: input.first_name ?? 'Bob',
            ...(input.last_name === undefined ? {} : { last_name: input.last_name }),
            ...(input.vcard === undefined ? {} : { vcard: input.vcard }),
          },
        };
      case 'poll':
        return {
          poll: {
            id: String(Date.now()),
            question: input.question ?? 'Which day suits you?',
            options: (input.options ?? ['Monday', 'Tuesday']).map((text) => ({ text, voter_count: 0 })),
            total_voter_count: 0,
            is_closed: false,
            is_anonymous: true,
            type: 'regular',
            allows_multiple_answers: false,
          },
        };
      case 'dice':
        return { dice: { emoji: input.emoji ?? '🎲', value: 1 + Math.floor(Math.random() * 6) } };
    }
  }

  private captionFields(input: CustomerMessageInput): Record<string, unknown> {
    if (input.caption === undefined || input.caption === '') {
      return {};
    }
    const entities = detectUrls(input.caption);
    return { caption: input.caption, ...(entities.length > 0 ? { caption_entities: entities } : {}) };
  }

  private location(input: CustomerMessageInput): Record<string, number> {
    return { latitude: input.latitude ?? 40.416775, longitude: input.longitude ?? -3.70379 };
  }

  private file(
    bot: BotRecord,
    kind: FileKind,
    input: CustomerMessageInput,
    meta: Record<string, unknown>,
    withThumbnail = false,
  ): Record<string, unknown> {
    const mimeType = input.mime_type ?? DEFAULT_MIME[kind];
    const declared = input.file_size ?? 24_000;
    const bytes =
      input.content_base64 !== undefined
        ? Buffer.from(input.content_base64, 'base64')
        : declared <= MAX_SYNTHETIC_BYTES
          ? syntheticBytes(mimeType, declared)
          : undefined;
    const record = this.state.files.put({
      botId: bot.id,
      kind,
      mimeType,
      ...(bytes === undefined ? { size: declared } : { bytes }),
      ...(input.file_name === undefined || kind === 'voice' || kind === 'video_note' || kind === 'sticker'
        ? {}
        : { fileName: input.file_name }),
      meta,
    });
    // Sticker thumbnails are WEBP (§1.7, what the connector forwards for animated and video stickers), 128×128 as
    // in §1.9; video and document thumbnails are JPEG.
    const thumbnail = !withThumbnail
      ? undefined
      : kind === 'sticker'
        ? thumbnailFor(this.state.files, bot.id, 128, 128, 'image/webp')
        : thumbnailFor(this.state.files, bot.id, 320, 180);
    return mediaObject(record, thumbnail);
  }
}

/** Drops content fields from an edited message's base so the new content replaces them. */
function stripContent(message: TgMessage): TgMessage {
  const contentKeys = new Set<string>([
    ...CUSTOMER_MESSAGE_KINDS,
    'entities',
    'caption',
    'caption_entities',
    'edit_date',
  ]);
  return Object.fromEntries(Object.entries(message).filter(([key]) => !contentKeys.has(key))) as TgMessage;
}
