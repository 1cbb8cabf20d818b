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

/**
 * A chat of one bot: a customer's private chat, or a group the bot is in with the customer who writes there
 * (`user`). A basic group upgraded to a supergroup keeps its record, with `migratedToChatId`.
 */
export interface ChatRecord {
  readonly botId: number;
  readonly user: TgUser;
  readonly chat: TgChat;
  started: boolean;
  blocked: boolean;
  nextMessageId: number;
  readonly messages: StoredMessage[];
  /** The supergroup this group became; the Bot API then refuses the old id (§1.2). */
  migratedToChatId?: number;
}

/** Customers (Telegram users), their private chats and groups with each bot, and every message in them. */
export class ChatStore {
  private readonly chats = new Map<string, ChatRecord>();
  private nextUserId = 1_000_001;
  /** Basic groups have negative ids; supergroups `-100` followed by ten digits (§1.6). */
  private nextGroupNumber = 4_100_000_001;

  create(botId: number, input: CustomerInput): ChatRecord {
    const user = this.newUser(input);
    const chat: TgChat = {
      id: user.id,
      ...(input.firstName === '' ? {} : { first_name: input.firstName }),
      ...(input.lastName === undefined ? {} : { last_name: input.lastName }),
      ...(input.username === undefined ? {} : { username: input.username }),
      type: 'private',
    };
    return this.add(botId, user, chat, input.started ?? true);
  }

  /** A basic group with the bot and `member`, who writes there. */
  createGroup(botId: number, title: string, member: CustomerInput): ChatRecord {
    const chat: TgChat = { id: -this.nextGroupNumber++, title, type: 'group' };
    return this.add(botId, this.newUser(member), chat, true);
  }

  /** Upgrades a basic group to a supergroup: a new chat with a new id, the old one answering with it from now on. */
  migrateToSupergroup(group: ChatRecord): ChatRecord {
    const supergroup: TgChat = {
      id: -(1_000_000_000_000 + this.nextGroupNumber++),
      ...(group.chat.title === undefined ? {} : { title: group.chat.title }),
      type: 'supergroup',
    };
    group.migratedToChatId = supergroup.id;
    return this.add(group.botId, group.user, supergroup, true);
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

  private newUser(input: CustomerInput): TgUser {
    const id = input.id ?? this.nextUserId++;
    this.nextUserId = Math.max(this.nextUserId, id + 1);
    return {
      id,
      is_bot: false,
      first_name: input.firstName,
      ...(input.lastName === undefined ? {} : { last_name: input.lastName }),
      ...(input.username === undefined ? {} : { username: input.username }),
      ...(input.languageCode === undefined ? {} : { language_code: input.languageCode }),
    };
  }

  private add(botId: number, user: TgUser, chat: TgChat, started: boolean): ChatRecord {
    const record: ChatRecord = { botId, user, chat, started, blocked: false, nextMessageId: 1, messages: [] };
    this.chats.set(key(botId, chat.id), record);
    return record;
  }
}

const key = (botId: number, chatId: number): string => `${botId}:${chatId}`;
