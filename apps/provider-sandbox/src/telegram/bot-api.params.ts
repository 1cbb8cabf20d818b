import { BotApiError } from './bot-api.error.js';

export interface UploadedFile {
  readonly fieldName: string;
  readonly fileName: string;
  readonly mimeType: string;
  readonly bytes: Buffer;
}

/**
 * A Bot API call's parameters from any of the four encodings. Query, form and multipart values are
 * strings (structured ones JSON-serialised); JSON bodies carry native values. Accessors coerce both.
 */
export class BotApiParams {
  constructor(
    readonly values: Readonly<Record<string, unknown>>,
    readonly files: ReadonlyMap<string, UploadedFile> = new Map(),
  ) {}

  has(name: string): boolean {
    const value = this.values[name];
    return value !== undefined && value !== null && value !== '';
  }

  string(name: string): string | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) {
      return undefined;
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  integer(name: string): number | undefined {
    const value = this.values[name];
    if (value === undefined || value === null || value === '') {
      return undefined;
    }
    const number = typeof value === 'number' ? value : Number(value);
    if (!Number.isInteger(number)) {
      throw BotApiError.badRequest(`invalid ${name} specified`);
    }
    return number;
  }

  number(name: string): number | undefined {
    const value = this.values[name];
    if (value === undefined || value === null || value === '') {
      return undefined;
    }
    const number = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(number)) {
      throw BotApiError.badRequest(`invalid ${name} specified`);
    }
    return number;
  }

  boolean(name: string): boolean {
    const value = this.values[name];
    return value === true || value === 'true' || value === 'True' || value === '1' || value === 1;
  }

  /** A structured parameter: a JSON string in query/form/multipart, a native value in JSON bodies. */
  json(name: string, what: string): unknown {
    const value = this.values[name];
    if (value === undefined || value === null || value === '') {
      return undefined;
    }
    if (typeof value !== 'string') {
      return value;
    }
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw BotApiError.badRequest(`can't parse ${what} JSON object`);
    }
  }

  /** A multipart part by field name, or one referenced as `attach://<name>`. */
  file(name: string): UploadedFile | undefined {
    const direct = this.files.get(name);
    if (direct !== undefined) {
      return direct;
    }
    const value = this.string(name);
    return value?.startsWith('attach://') === true
      ? this.files.get(value.slice('attach://'.length))
      : undefined;
  }

  /** Parameters for the call log: values as sent, uploads summarised. */
  summary(): Record<string, unknown> {
    const summary: Record<string, unknown> = { ...this.values };
    for (const [name, file] of this.files) {
      summary[name] = { upload: file.fileName, mime_type: file.mimeType, size: file.bytes.length };
    }
    return summary;
  }
}
