import { randomBytes } from 'node:crypto';
import { BotApiError } from '../bot-api.error.js';
import type { TgBotUser, TgUser } from '../telegram.types.js';

export interface BotRecord {
  readonly id: number;
  token: string;
  readonly username: string;
  readonly firstName: string;
  revoked: boolean;
  nextUpdateId: number;
}

export interface CreateBotInput {
  readonly token?: string;
  readonly username?: string;
  readonly firstName?: string;
}

/** `<bot_user_id>:<secret>`, as Telegram issues them. */
export const BOT_TOKEN_PATTERN = /^(\d{1,15}):([A-Za-z0-9_-]{20,64})$/;

/** Bots known to the sandbox, by token. Tokens follow the real format; the id part is the bot's user id. */
export class BotStore {
  private readonly byToken = new Map<string, BotRecord>();
  private nextId = 7_000_000_001;

  create(input: CreateBotInput): BotRecord {
    const token = input.token ?? `${this.nextId}:${randomBytes(26).toString('base64url').slice(0, 35)}`;
    const match = BOT_TOKEN_PATTERN.exec(token);
    if (match === null) {
      throw new Error('token must look like <digits>:<20-64 chars of A-Za-z0-9_->');
    }
    const id = Number(match[1]);
    if (this.byToken.has(token) || [...this.byToken.values()].some((bot) => bot.id === id)) {
      throw new Error(`a bot with id ${id} already exists`);
    }
    this.nextId = Math.max(this.nextId, id + 1);
    const username = input.username ?? `sandbox${id}_bot`;
    const bot: BotRecord = {
      id,
      token,
      username,
      firstName: input.firstName ?? 'Sandbox Bot',
      revoked: false,
      // Update ids start at an arbitrary large value, like Telegram's.
      nextUpdateId: 100_000_000 + (id % 1000) * 1000,
    };
    this.byToken.set(token, bot);
    return bot;
  }

  /**
   * BotFather's "Revoke current token": the bot keeps its id, webhook and chats; the old token gets
   * `401 Unauthorized` from now on, the new one works.
   */
  regenerateToken(bot: BotRecord): string {
    this.byToken.delete(bot.token);
    bot.token = `${bot.id}:${randomBytes(26).toString('base64url').slice(0, 35)}`;
    this.byToken.set(bot.token, bot);
    return bot.token;
  }

  /** The bot a Bot API call authenticates as; unknown or revoked → `401 Unauthorized`. */
  authenticate(token: string): BotRecord {
    const bot = this.byToken.get(token);
    if (bot === undefined || bot.revoked) {
      throw BotApiError.unauthorized();
    }
    return bot;
  }

  byId(id: number): BotRecord | undefined {
    return [...this.byToken.values()].find((bot) => bot.id === id);
  }

  all(): BotRecord[] {
    return [...this.byToken.values()];
  }

  reset(): void {
    this.byToken.clear();
  }
}

export function botUser(bot: BotRecord): TgUser {
  return { id: bot.id, is_bot: true, first_name: bot.firstName, username: bot.username };
}

export function botMe(bot: BotRecord): TgBotUser {
  return {
    ...botUser(bot),
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}
