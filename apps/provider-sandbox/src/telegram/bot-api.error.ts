/** Telegram's `ResponseParameters`. */
export interface TgResponseParameters {
  retry_after?: number;
  migrate_to_chat_id?: number;
}

/**
 * A Bot API failure: becomes `{ ok: false, error_code, description, parameters? }` with HTTP status =
 * `error_code` (and `Retry-After` on 429).
 */
export class BotApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: TgResponseParameters,
  ) {
    super(description);
    this.name = 'BotApiError';
  }

  static badRequest(detail: string): BotApiError {
    return new BotApiError(400, `Bad Request: ${detail}`);
  }

  static forbidden(detail: string): BotApiError {
    return new BotApiError(403, `Forbidden: ${detail}`);
  }

  static unauthorized(): BotApiError {
    return new BotApiError(401, 'Unauthorized');
  }

  static notFound(): BotApiError {
    return new BotApiError(404, 'Not Found');
  }

  static tooManyRequests(retryAfter: number): BotApiError {
    return new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
  }

  /** The basic group became a supergroup (§1.2, §1.12): resend to `migrate_to_chat_id`. */
  static groupUpgraded(migrateToChatId: number): BotApiError {
    return new BotApiError(400, 'Bad Request: group chat was upgraded to a supergroup chat', {
      migrate_to_chat_id: migrateToChatId,
    });
  }

  static conflict(detail: string): BotApiError {
    return new BotApiError(409, `Conflict: ${detail}`);
  }
}

/** Upload over the multipart limit: the real API answers with nginx's HTML page, not the JSON envelope. */
export class EntityTooLargeError extends Error {
  constructor() {
    super('Request Entity Too Large');
    this.name = 'EntityTooLargeError';
  }
}
