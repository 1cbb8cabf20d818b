import type { TgChat, TgMessage, TgUser } from '../telegram.types.js';

export interface CustomerInput {
  readonly id?: number;
  readonly firstName: string;
  readonly lastName?: string;
  readonly username?: string;
  readonly languageCode?: string;
  /** Whether the customer has pressed Start (written to the bot); default true. */
  readonly started?: boolean;
}

export type MessageDirection = 'from_customer' | 'from_bot';

export interface StoredMessage {
  readonly direction: MessageDirection;
  readonly message: TgMessage;
}

/** A private chat between one customer and one bot. */
export interface ChatRecord {
  readonly botId: number;
  readonly user: TgUser;
  readonly chat: TgChat;
  started: boolean;
  blocked: boolean;
  nextMessageId: number;
  readonly messages: StoredMessage[];
}

/** Customers (Telegram users) and their private chats with each bot, and every message in them. */
export class ChatStore {
  private readonly chats = new Map<string, ChatRecord>();
  private nextUserId = 1_000_001;

  create(botId: number, input: CustomerInput): ChatRecord {
    const id = input.id ?? this.nextUserId++;
    this.nextUserId = Math.max(this.nextUserId, id + 1);
    const user: TgUser = {
      id,
      is_bot: false,
      first_name: input.firstName,
      ...(input.lastName === undefined ? {} : { last_name: input.lastName }),
      ...(input.username === undefined ? {} : { username: input.username }),
      ...(input.languageCode === undefined ? {} : { language_code: input.languageCode }),
    };
    const chat: TgChat = {
      id,
      ...(input.firstName === '' ? {} : { first_name: input.firstName }),
      ...(input.lastName === undefined ? {} : { last_name: input.lastName }),
      ...(input.username === undefined ? {} : { username: input.username }),
      type: 'private',
    };
    const record: ChatRecord = {
      botId,
      user,
      chat,
      started: input.started ?? true,
      blocked: false,
      nextMessageId: 1,
      messages: [],
    };
    this.chats.set(key(botId, id), record);
    return record;
  }

  find(botId: number, chatId: number): ChatRecord | undefined {
    return this.chats.get(key(botId, chatId));
  }

  forBot(botId: number): ChatRecord[] {
    return [...this.chats.values()].filter((chat) => chat.botId === botId);
  }

  /** Appends a message with the chat's next `message_id` (ids are per chat, shared by both sides). */
  append(
    record: ChatRecord,
    direction: MessageDirection,
    build: (messageId: number) => TgMessage,
  ): TgMessage {
    const message = build(record.nextMessageId++);
    record.messages.push({ direction, message });
    return message;
  }

  findMessage(record: ChatRecord, messageId: number): TgMessage | undefined {
    return record.messages.find((stored) => stored.message.message_id === messageId)?.message;
  }

  reset(): void {
    this.chats.clear();
  }
}

const key = (botId: number, chatId: number): string => `${botId}:${chatId}`;
