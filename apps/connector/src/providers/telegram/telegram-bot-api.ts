import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { HttpTransportError, type HttpResponse, type OutboundHttp } from '../../http/outbound-http.js';

/** A Bot API error envelope (providers-api.md §1.2), or a transport failure (`errorCode` 0). */
export class TelegramApiError extends Error {
  override readonly name = 'TelegramApiError';
  constructor(
    /** HTTP status = `error_code`; 0 when Telegram was not reached. */
    readonly errorCode: number,
    readonly description: string,
    readonly retryAfterSeconds?: number,
    /** The group became this supergroup (§1.2): the same call succeeds there. */
    readonly migrateToChatId?: number,
  ) {
    super(`Telegram ${errorCode}: ${description}`);
  }

  get isTransient(): boolean {
    return this.errorCode === 0 || this.errorCode === 429 || this.errorCode >= 500;
  }
}

interface Envelope<T> {
  readonly ok: boolean;
  readonly result?: T;
  readonly error_code?: number;
  readonly description?: string;
  readonly parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number };
}

export interface UploadFile {
  readonly field: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly body: Readable;
}

/**
 * One bot's Bot API (`<base>/bot<token>/<method>`). The token is part of every URL, so URLs never reach logs
 * or error messages: errors carry only the method name and Telegram's description.
 */
export class TelegramBotApi {
  constructor(
    private readonly http: OutboundHttp,
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** JSON call; resolves with `result` or throws `TelegramApiError`. */
  async call<T>(method: string, params: Readonly<Record<string, unknown>> = {}): Promise<T> {
    const response = await this.send(method, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
    });
    return this.unwrap<T>(method, response);
  }

  /** multipart/form-data call that streams `file` (never buffered whole) next to the plain `params`. */
  async upload<T>(method: string, params: Readonly<Record<string, string>>, file: UploadFile): Promise<T> {
    const boundary = `----inbox-bridge-${randomBytes(12).toString('hex')}`;
    const body = new PassThrough();
    const quote = (value: string) => value.replace(/["\r\n\\]/g, '_');
    const head = Object.entries(params)
      .map(
        ([name, value]) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`,
      )
      .join('');
    body.write(
      `${head}--${boundary}\r\nContent-Disposition: form-data; name="${quote(file.field)}"; filename="${quote(file.fileName)}"\r\n` +
        `Content-Type: ${file.contentType.replace(/[\r\n]/g, '')}\r\n\r\n`,
    );
    file.body.on('error', (error) => body.destroy(error));
    file.body.on('end', () => body.end(`\r\n--${boundary}--\r\n`));
    file.body.pipe(body, { end: false });
    const response = await this.send(method, {
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    return this.unwrap<T>(method, response);
  }

  /**
   * The download URL of a `getFile` path, or undefined when the path has `.`/`..` segments (they would move the
   * request, and the token in it, off `/file/bot<token>/`). Contains the token: never log it.
   */
  fileUrl(filePath: string): string | undefined {
    const segments = filePath.split('/');
    if (segments.some((segment) => segment === '.' || segment === '..')) {
      return undefined;
    }
    return `${this.baseUrl.replace(/\/+$/, '')}/file/bot${this.token}/${segments.map(encodeURIComponent).join('/')}`;
  }

  private async send(
    method: string,
    init: { headers: Record<string, string>; body: string | Readable },
  ): Promise<HttpResponse> {
    try {
      return await this.http.request({
        method: 'POST',
        url: `${this.baseUrl.replace(/\/+$/, '')}/bot${this.token}/${method}`,
        headers: init.headers,
        body: init.body,
      });
    } catch (error) {
      if (error instanceof HttpTransportError) {
        throw new TelegramApiError(0, `Telegram could not be reached (${error.code})`);
      }
      throw error;
    }
  }

  private async unwrap<T>(method: string, response: HttpResponse): Promise<T> {
    let envelope: Envelope<T>;
    try {
      envelope = await response.json<Envelope<T>>();
    } catch {
      // 413 from Telegram's nginx is an HTML page, not the JSON envelope (§1.10).
      throw new TelegramApiError(
        response.status === 200 ? 502 : response.status,
        response.status === 413 ? 'Request Entity Too Large' : `unexpected answer to ${method}`,
      );
    }
    if (envelope.ok && envelope.result !== undefined) {
      return envelope.result;
    }
    const headerRetry = Number(response.headers['retry-after']);
    const retryAfter =
      envelope.parameters?.retry_after ??
      (Number.isFinite(headerRetry) && headerRetry > 0 ? headerRetry : undefined);
    const migrateTo = envelope.parameters?.migrate_to_chat_id;
    throw new TelegramApiError(
      envelope.error_code ?? response.status,
      envelope.description ?? `${method} failed`,
      retryAfter,
      Number.isSafeInteger(migrateTo) ? migrateTo : undefined,
    );
  }
}
