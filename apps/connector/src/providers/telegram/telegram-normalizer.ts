import type { ProviderMessageReceivedV1, ReceivedAttachment, ReceivedMedia } from '@inbox-bridge/shared';
import type { InboundEvent } from '../provider-port.js';

/** The Telegram objects the normaliser reads (providers-api.md §1.5–1.7); everything else is ignored. */
interface TgFile {
  readonly file_id: string;
  readonly file_unique_id?: string;
  readonly file_size?: number;
  readonly width?: number;
  readonly height?: number;
  readonly duration?: number;
  readonly mime_type?: string;
  readonly file_name?: string;
}

interface TgSticker extends TgFile {
  readonly is_animated?: boolean;
  readonly is_video?: boolean;
  readonly emoji?: string;
  readonly thumbnail?: TgFile;
  readonly thumb?: TgFile;
}

interface TgUser {
  readonly id: number;
  readonly is_bot?: boolean;
  readonly first_name?: string;
  readonly last_name?: string;
  readonly username?: string;
}

interface TgChat {
  readonly id: number;
  readonly type?: string;
  readonly title?: string;
  readonly first_name?: string;
  readonly last_name?: string;
  readonly username?: string;
}

interface TgLocation {
  readonly latitude: number;
  readonly longitude: number;
}

export interface TgMessage {
  readonly message_id: number;
  readonly date: number;
  readonly edit_date?: number;
  readonly chat: TgChat;
  readonly from?: TgUser;
  readonly text?: string;
  readonly caption?: string;
  readonly reply_to_message?: { readonly message_id: number };
  readonly photo?: readonly TgFile[];
  readonly animation?: TgFile;
  readonly audio?: TgFile & { readonly title?: string; readonly performer?: string };
  readonly document?: TgFile;
  readonly video?: TgFile;
  readonly video_note?: TgFile;
  readonly voice?: TgFile;
  readonly sticker?: TgSticker;
  readonly location?: TgLocation;
  readonly venue?: { readonly location: TgLocation; readonly title?: string; readonly address?: string };
  readonly contact?: {
    readonly phone_number: string;
    readonly first_name?: string;
    readonly last_name?: string;
  };
  readonly poll?: { readonly question?: string };
  readonly dice?: { readonly emoji?: string; readonly value?: number };
  /** Service message in a group upgraded to a supergroup: the supergroup's id. */
  readonly migrate_to_chat_id?: number;
  /** Service message in the supergroup a group became: the group's id. */
  readonly migrate_from_chat_id?: number;
  readonly [field: string]: unknown;
}

/** Content kinds Telegram has that HubSpot cannot show: an "unsupported" note with readable text. */
const UNSUPPORTED_CONTENT: readonly (readonly [string, string])[] = [
  ['story', 'a story'],
  ['game', 'a game'],
  ['invoice', 'an invoice'],
  ['paid_media', 'paid media'],
  ['checklist', 'a checklist'],
  ['rich_message', 'a rich message'],
  ['giveaway', 'a giveaway'],
  ['successful_payment', 'a payment'],
];

const TEXT_LIMIT = 65_536;
const SHORT_LIMIT = 1_024;

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function fullName(person: { first_name?: string; last_name?: string }): string | undefined {
  const name = [person.first_name, person.last_name]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
  return name === '' ? undefined : clip(name, SHORT_LIMIT);
}

/** `media:<channelAccountId>:<file_id>`: resolved by the connector through getFile, never a Telegram URL. */
export function telegramMediaRef(channelAccountId: string, fileId: string): string {
  return `media:${channelAccountId}:${fileId}`;
}

/** Telegram message ids are unique per chat only: the provider message id carries both. */
export function telegramMessageId(chatId: number | string, messageId: number | string): string {
  return `${String(chatId)}:${String(messageId)}`;
}

function media(channelAccountId: string, file: TgFile, fallbackMime: string): ReceivedMedia {
  return {
    downloadRef: telegramMediaRef(channelAccountId, file.file_id),
    mimeType: file.mime_type !== undefined && file.mime_type.includes('/') ? file.mime_type : fallbackMime,
    ...(file.file_name === undefined || file.file_name === '' ? {} : { fileName: clip(file.file_name, 255) }),
    ...(file.file_size === undefined ? {} : { sizeBytes: file.file_size }),
    ...(file.duration === undefined ? {} : { durationSeconds: file.duration }),
    ...(file.width === undefined || file.width <= 0 ? {} : { width: file.width }),
    ...(file.height === undefined || file.height <= 0 ? {} : { height: file.height }),
  };
}

function largestPhoto(sizes: readonly TgFile[]): TgFile | undefined {
  let best: TgFile | undefined;
  for (const size of sizes) {
    if (
      best === undefined ||
      (size.width ?? 0) * (size.height ?? 0) >= (best.width ?? 0) * (best.height ?? 0)
    ) {
      best = size;
    }
  }
  return best;
}

/** The message's content as contract attachments; `[]` for a text-only or service message. */
function attachmentsOf(channelAccountId: string, message: TgMessage): ReceivedAttachment[] {
  if (message.photo !== undefined && message.photo.length > 0) {
    const photo = largestPhoto(message.photo);
    return photo === undefined
      ? []
      : [{ kind: 'image', media: media(channelAccountId, photo, 'image/jpeg') }];
  }
  // animation first: Telegram also sets `document` on animations for compatibility (§1.6).
  if (message.animation !== undefined) {
    return [{ kind: 'video', media: media(channelAccountId, message.animation, 'video/mp4') }];
  }
  if (message.voice !== undefined) {
    return [{ kind: 'voice-note', media: media(channelAccountId, message.voice, 'audio/ogg') }];
  }
  if (message.audio !== undefined) {
    return [{ kind: 'audio', media: media(channelAccountId, message.audio, 'audio/mpeg') }];
  }
  if (message.video !== undefined) {
    return [{ kind: 'video', media: media(channelAccountId, message.video, 'video/mp4') }];
  }
  if (message.video_note !== undefined) {
    return [{ kind: 'video', media: media(channelAccountId, message.video_note, 'video/mp4') }];
  }
  if (message.sticker !== undefined) {
    return [stickerAttachment(channelAccountId, message.sticker)];
  }
  if (message.document !== undefined) {
    return [{ kind: 'file', media: media(channelAccountId, message.document, 'application/octet-stream') }];
  }
  // venue first: Telegram also sets `location` on venues (§1.6).
  if (message.venue !== undefined) {
    const { location, title, address } = message.venue;
    return [
      {
        kind: 'location',
        latitude: location.latitude,
        longitude: location.longitude,
        ...(title === undefined || title === '' ? {} : { name: clip(title, SHORT_LIMIT) }),
        ...(address === undefined || address === '' ? {} : { address: clip(address, SHORT_LIMIT) }),
      },
    ];
  }
  if (message.location !== undefined) {
    return [{ kind: 'location', latitude: message.location.latitude, longitude: message.location.longitude }];
  }
  if (message.contact !== undefined) {
    const name = fullName(message.contact) ?? message.contact.phone_number;
    return [
      {
        kind: 'contact-card',
        name: clip(name, SHORT_LIMIT),
        phoneNumbers: [clip(message.contact.phone_number, 64)],
      },
    ];
  }
  if (message.poll !== undefined) {
    const question = message.poll.question === undefined ? '' : `: “${message.poll.question}”`;
    return [
      {
        kind: 'unsupported',
        description: clip(`The customer sent a poll${question} (polls are not supported)`, SHORT_LIMIT),
      },
    ];
  }
  if (message.dice !== undefined) {
    return [
      {
        kind: 'unsupported',
        description: `The customer rolled a ${message.dice.emoji ?? '🎲'} and got ${String(message.dice.value ?? '?')}`,
      },
    ];
  }
  for (const [field, label] of UNSUPPORTED_CONTENT) {
    if (message[field] !== undefined) {
      return [{ kind: 'unsupported', description: `The customer sent ${label}, which cannot be shown here` }];
    }
  }
  return [];
}

/**
 * Static stickers are WEBP images HubSpot shows as they are; animated (TGS) and video (WEBM) stickers are
 * forwarded as their WEBP thumbnail (reference §1.7), with the emoji as caption.
 */
function stickerAttachment(channelAccountId: string, sticker: TgSticker): ReceivedAttachment {
  const caption = sticker.emoji;
  const withCaption = caption === undefined ? {} : { caption };
  if (sticker.is_animated !== true && sticker.is_video !== true) {
    return { kind: 'sticker', media: media(channelAccountId, sticker, 'image/webp'), ...withCaption };
  }
  const thumbnail = sticker.thumbnail ?? sticker.thumb;
  if (thumbnail === undefined) {
    return {
      kind: 'unsupported',
      description: `The customer sent an animated sticker${caption === undefined ? '' : ` ${caption}`}`,
    };
  }
  return {
    kind: 'sticker',
    media: { ...media(channelAccountId, thumbnail, 'image/webp'), mimeType: 'image/webp' },
    ...withCaption,
  };
}

/** True for service messages (members joined, pinned message, ...): no customer content, nothing to show. */
function isContentless(message: TgMessage, attachments: readonly ReceivedAttachment[]): boolean {
  const text = message.text ?? message.caption;
  return attachments.length === 0 && (text === undefined || text.trim() === '');
}

/** The group → supergroup move a service message announces (§1.2, §1.6), from either side of it. */
function chatMoveOf(message: TgMessage): InboundEvent | undefined {
  const { migrate_to_chat_id: to, migrate_from_chat_id: from } = message;
  if (Number.isSafeInteger(to)) {
    return { kind: 'conversation-moved', from: String(message.chat.id), to: String(to) };
  }
  if (Number.isSafeInteger(from)) {
    return { kind: 'conversation-moved', from: String(from), to: String(message.chat.id) };
  }
  return undefined;
}

function normaliseMessage(channelAccountId: string, message: TgMessage, edited: boolean): InboundEvent {
  const move = chatMoveOf(message);
  if (move !== undefined) {
    return move;
  }
  const attachments = attachmentsOf(channelAccountId, message);
  if (isContentless(message, attachments)) {
    return { kind: 'ignored', reason: 'service message without customer content' };
  }
  const chatId = message.chat.id;
  const sender = message.from ?? {
    id: chatId,
    first_name: message.chat.first_name,
    last_name: message.chat.last_name,
  };
  const senderName =
    fullName(sender) ??
    (message.chat.title === undefined ? undefined : clip(message.chat.title, SHORT_LIMIT));
  const text = message.text ?? message.caption;
  const payload: ProviderMessageReceivedV1 = {
    provider: 'telegram',
    channelAccountId,
    conversationKey: String(chatId),
    sender: {
      id: String(sender.id),
      ...(senderName === undefined ? {} : { name: senderName }),
      ...(sender.username === undefined || sender.username === '' ? {} : { username: sender.username }),
    },
    providerMessageId: telegramMessageId(chatId, message.message_id),
    sentAt: new Date(message.date * 1000).toISOString(),
    ...(text === undefined || text.trim() === '' ? {} : { text: clip(text, TEXT_LIMIT) }),
    ...(message.reply_to_message === undefined
      ? {}
      : { replyToProviderMessageId: telegramMessageId(chatId, message.reply_to_message.message_id) }),
    ...(edited ? { edited: true } : {}),
    attachments: attachments.slice(0, 20),
  };
  const dedupeKey = edited
    ? `edit:${String(chatId)}:${String(message.message_id)}:${String(message.edit_date ?? message.date)}`
    : `msg:${String(chatId)}:${String(message.message_id)}`;
  return {
    kind: 'message',
    normalised: {
      dedupeKey,
      message: payload,
      ...(message.chat.type === 'supergroup' ? { conversationMayHaveMoved: true } : {}),
    },
  };
}

function isMessage(value: unknown): value is TgMessage {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const candidate = value as Record<string, unknown>;
  const chat: unknown = candidate['chat'];
  return (
    typeof candidate['message_id'] === 'number' &&
    typeof candidate['date'] === 'number' &&
    typeof chat === 'object' &&
    chat !== null &&
    typeof (chat as Record<string, unknown>)['id'] === 'number'
  );
}

/**
 * One Telegram `Update` → what it means for the bridge. Messages and edits become contract payloads; the
 * customer blocking or unblocking the bot is recorded, not published (there is no message to show); every
 * other update kind is ignored on purpose, with the reason. Never throws on unknown shapes.
 */
export function normaliseTelegramUpdate(
  channelAccountId: string,
  update: Record<string, unknown>,
): InboundEvent {
  const kind = Object.keys(update).find((key) => key !== 'update_id');
  if (kind === undefined) {
    return { kind: 'ignored', reason: 'empty update' };
  }
  const body = update[kind];
  if (kind === 'message' || kind === 'edited_message') {
    if (!isMessage(body)) {
      return { kind: 'ignored', reason: `malformed ${kind}` };
    }
    return normaliseMessage(channelAccountId, body, kind === 'edited_message');
  }
  if (kind === 'my_chat_member') {
    const status = (body as { new_chat_member?: { status?: unknown } } | undefined)?.new_chat_member?.status;
    if (status === 'kicked') {
      return { kind: 'ignored', reason: 'the customer blocked the bot' };
    }
    return {
      kind: 'ignored',
      reason: `bot membership changed to ${typeof status === 'string' ? status : 'unknown'}`,
    };
  }
  return { kind: 'ignored', reason: `update type ${kind.slice(0, 64)} is not handled` };
}
