import { Injectable } from '@nestjs/common';
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { HubSpotError, type HubSpotErrorDetail } from '../common/hubspot-error.js';
import { detail, invalidInput, parseStrict } from '../common/validation.js';
import { SettingsStore } from '../control/settings.store.js';
import { IdGenerator } from '../store/ids.js';
import {
  FILE_ACCESS,
  FileStore,
  type FileAccess,
  type Folder,
  type ImportTask,
  type StoredFile,
} from './file.store.js';

/** One multipart part as multer hands it over. */
export interface UploadedPart {
  readonly fieldname: string;
  readonly originalname: string;
  readonly mimetype: string;
  readonly size: number;
  readonly buffer: Buffer;
}

const UPLOAD_FIELDS = ['fileName', 'folderId', 'folderPath', 'charsetHunch', 'options'];
/** `ImportFromUrlInput`: `access` and `url` required (the other fields of the upload's `options` optional). */
export const importFromUrlSchema = z.strictObject({
  access: z.enum(FILE_ACCESS),
  url: z.url({ protocol: /^https?$/ }),
  name: z.string().min(1).optional(),
  folderId: z.string().regex(/^\d+$/).optional(),
  folderPath: z.string().optional(),
  ttl: z.string().optional(),
  overwrite: z.boolean().optional(),
  duplicateValidationStrategy: z.enum(['NONE', 'REJECT', 'RETURN_EXISTING']).optional(),
  duplicateValidationScope: z.enum(['ENTIRE_PORTAL', 'EXACT_FOLDER']).optional(),
  expiresAt: z.string().optional(),
});
/** How long the sandbox waits for an imported URL. */
const IMPORT_TIMEOUT_MS = 10_000;
const optionsSchema = z.strictObject({
  access: z.enum(FILE_ACCESS),
  ttl: z.string().optional(),
  overwrite: z.boolean().optional(),
  duplicateValidationStrategy: z.enum(['NONE', 'REJECT', 'RETURN_EXISTING']).optional(),
  duplicateValidationScope: z.enum(['ENTIRE_PORTAL', 'EXACT_FOLDER']).optional(),
});
const DAY_MS = 86_400_000;
const TTL_UNITS: Record<string, number> = { D: DAY_MS, W: 7 * DAY_MS, M: 30 * DAY_MS, Y: 365 * DAY_MS };
const TYPES: [string, string[]][] = [
  ['IMG', ['jpg', 'jpeg', 'png', 'gif', 'webp', 'svg', 'bmp', 'tif', 'tiff', 'ico', 'heic']],
  ['MOVIE', ['mp4', 'mov', 'avi', 'webm', 'mkv', 'ogv', 'mpeg', '3gp']],
  ['AUDIO', ['mp3', 'ogg', 'oga', 'opus', 'wav', 'm4a', 'aac', 'flac', 'weba', 'amr']],
  ['DOCUMENT', ['pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'txt', 'csv', 'rtf', 'odt', 'ods']],
];

export const isHidden = (access: FileAccess) => access.startsWith('HIDDEN_') || access === 'SENSITIVE';
export const isPublic = (access: FileAccess) =>
  access.startsWith('PUBLIC_') || access === 'HIDDEN_INDEXABLE' || access === 'HIDDEN_NOT_INDEXABLE';

/** `http://host:port` of the request, for absolute file URLs. */
export const originOf = (req: { protocol: string; get(name: string): string | undefined }) =>
  `${req.protocol}://${req.get('host') ?? 'localhost'}`;

/** A file a rep attaches: the webhook's attachment, with the size and MIME type the channel's limits apply to. */
export interface ReplyFile {
  readonly attachment: Record<string, unknown>;
  readonly size: number;
  readonly mimeType: string;
}

/** A rep's attachments: `{ type: FILE, fileId, fileUsageType, name, url }` (§2.2, assumption of §9.4). */
export function replyAttachments(
  files: FilesService,
  portalId: number,
  fileIds: readonly string[],
  origin: string,
): ReplyFile[] {
  return fileIds.map((fileId) => {
    const file = files.get(portalId, fileId);
    const usage = file.type === 'IMG' ? 'IMAGE' : file.type === 'AUDIO' ? 'AUDIO' : 'OTHER';
    return {
      attachment: fileAttachment(files, file, usage, origin),
      size: file.size,
      mimeType: file.mimeType,
    };
  });
}

/** A message's `FILE` attachment as HubSpot answers it (`PublicFile`, §1.7): `fileId`, `fileUsageType`, `name`, `url`. */
export function fileAttachment(
  files: FilesService,
  file: StoredFile,
  fileUsageType: string,
  origin: string,
): Record<string, unknown> {
  return {
    type: 'FILE',
    fileId: file.id,
    fileUsageType,
    name: file.extension === '' ? file.name : `${file.name}.${file.extension}`,
    url: files.urls(file, origin).url,
  };
}

export interface UploadResult {
  readonly file: StoredFile;
  /** True when an existing file was returned (`RETURN_EXISTING`) or overwritten. */
  readonly existing: boolean;
}

/** Files API (§5.1): multipart upload, read, signed download URLs served under `/hubfs/`. */
@Injectable()
export class FilesService {
  private readonly signingKey = randomBytes(32);

  constructor(
    private readonly files: FileStore,
    private readonly settings: SettingsStore,
    private readonly ids: IdGenerator,
  ) {}

  /** Parses the form; the caller checks the scope for `options.access` before `store`. */
  parseUpload(fields: Record<string, unknown>, parts: readonly UploadedPart[]) {
    const errors: HubSpotErrorDetail[] = [];
    for (const name of Object.keys(fields)) {
      if (!UPLOAD_FIELDS.includes(name)) {
        errors.push(detail(`Unrecognized field "${name}"`, 'UNRECOGNIZED_FIELD', 'body', name));
      }
    }
    for (const part of parts) {
      if (part.fieldname !== 'file') {
        errors.push(
          detail(`Unrecognized field "${part.fieldname}"`, 'UNRECOGNIZED_FIELD', 'body', part.fieldname),
        );
      }
    }
    const files = parts.filter((part) => part.fieldname === 'file');
    if (files.length !== 1) {
      errors.push(
        files.length === 0
          ? detail('Missing required field "file"', 'MISSING_REQUIRED_FIELD', 'body', 'file')
          : detail('Field "file" must hold exactly one file', 'INVALID_VALUE', 'body', 'file'),
      );
    }
    const text = (name: string): string | undefined => {
      const value = fields[name];
      if (value === undefined) {
        return undefined;
      }
      if (typeof value !== 'string') {
        errors.push(
          detail(`Invalid type for field "${name}": expected a string`, 'INVALID_TYPE', 'body', name),
        );
        return undefined;
      }
      return value;
    };
    const folderId = text('folderId');
    const folderPath = text('folderPath');
    const fileName = text('fileName');
    text('charsetHunch');
    if ((folderId === undefined) === (folderPath === undefined)) {
      errors.push(
        detail(
          'Exactly one of "folderId" and "folderPath" is required',
          folderId === undefined ? 'MISSING_REQUIRED_FIELD' : 'INVALID_VALUE',
          'body',
          'folderPath',
        ),
      );
    }
    if (folderPath !== undefined && !/^\/?[^\\]*$/.test(folderPath)) {
      errors.push(detail('Invalid value for field "folderPath"', 'INVALID_VALUE', 'body', 'folderPath'));
    }
    const rawOptions = text('options');
    let options: z.output<typeof optionsSchema> | undefined;
    if (rawOptions === undefined) {
      errors.push(
        detail(
          'Missing required field "options" (with "access")',
          'MISSING_REQUIRED_FIELD',
          'body',
          'options',
        ),
      );
    } else {
      try {
        options = parseStrict(optionsSchema, JSON.parse(rawOptions) as unknown, 'body');
      } catch (error) {
        if (error instanceof HubSpotError) {
          for (const item of (error.body.errors as HubSpotErrorDetail[] | undefined) ?? []) {
            const field = `options.${item.context?.propertyName?.[0] ?? ''}`;
            errors.push({
              ...item,
              message: item.message.replace(/"([^"]*)"/, `"${field}"`),
              context: { propertyName: [field] },
            });
          }
        } else {
          errors.push(
            detail(
              'Invalid value for field "options": expected a JSON object',
              'INVALID_VALUE',
              'body',
              'options',
            ),
          );
        }
      }
    }
    const ttlMs = parseTtl(options?.ttl, 'options.ttl', errors);
    const part = files[0];
    if (errors.length > 0 || options === undefined || part === undefined) {
      throw invalidInput(errors);
    }
    return { part, folderId, folderPath, fileName, options, ttlMs };
  }

  store(portalId: number, upload: ReturnType<FilesService['parseUpload']>): UploadResult {
    const { part, options } = upload;
    const max = this.settings.maxUploadBytes;
    if (part.size > max) {
      throw HubSpotError.envelope(
        413,
        'VALIDATION_ERROR',
        `File too large: ${part.size} bytes; the maximum upload size is ${max} bytes`,
        {
          errors: [
            detail(`File of ${part.size} bytes exceeds ${max} bytes`, 'FILE_TOO_LARGE', 'body', 'file'),
          ],
        },
      );
    }
    const folder = this.folder(portalId, upload.folderId, upload.folderPath);
    const { name, extension } = splitName(upload.fileName ?? part.originalname, part.originalname);
    const sha256 = createHash('sha256').update(part.buffer).digest('hex');
    const strategy = options.duplicateValidationStrategy ?? 'NONE';
    if (strategy !== 'NONE') {
      const duplicate = this.files
        .portalFiles(portalId)
        .find(
          (file) =>
            file.sha256 === sha256 &&
            ((options.duplicateValidationScope ?? 'ENTIRE_PORTAL') === 'ENTIRE_PORTAL' ||
              file.folderId === folder.id),
        );
      if (duplicate !== undefined && strategy === 'REJECT') {
        throw HubSpotError.conflict(`Duplicate file: file ${duplicate.id} has the same content`);
      }
      if (duplicate !== undefined) {
        return { file: duplicate, existing: true };
      }
    }
    const now = new Date().toISOString();
    const sameName = this.files
      .portalFiles(portalId)
      .find((file) => file.folderId === folder.id && file.name === name && file.extension === extension);
    if (sameName !== undefined && options.overwrite === true) {
      Object.assign(sameName, {
        bytes: part.buffer,
        size: part.size,
        sha256,
        mimeType: part.mimetype,
        access: options.access,
        updatedAt: now,
      });
      return { file: sameName, existing: true };
    }
    let finalName = name;
    for (
      let suffix = 1;
      this.files
        .portalFiles(portalId)
        .some(
          (file) => file.folderId === folder.id && file.name === finalName && file.extension === extension,
        );
      suffix += 1
    ) {
      finalName = `${name}-${suffix}`;
    }
    const file = this.files.saveFile({
      id: String(this.ids.next('file', 180_000_000_001)),
      portalId,
      name: finalName,
      extension,
      folderId: folder.id,
      path: `${folder.path}/${finalName}${extension === '' ? '' : `.${extension}`}`,
      size: part.size,
      type: fileType(extension),
      mimeType: part.mimetype,
      access: options.access,
      bytes: part.buffer,
      sha256,
      createdAt: now,
      updatedAt: now,
      ...(upload.ttlMs === undefined ? {} : { expiresAt: Date.now() + upload.ttlMs }),
      archived: false,
    });
    return { file, existing: false };
  }

  /** Starts an import task (answered at once); the fetch and the store happen in the background. */
  importFromUrl(portalId: number, body: unknown): ImportTask {
    const input = parseStrict(importFromUrlSchema, body);
    const errors: HubSpotErrorDetail[] = [];
    if ((input.folderId === undefined) === (input.folderPath === undefined)) {
      errors.push(
        detail(
          'Exactly one of "folderId" and "folderPath" is required',
          input.folderId === undefined ? 'MISSING_REQUIRED_FIELD' : 'INVALID_VALUE',
          'body',
          'folderPath',
        ),
      );
    }
    const ttlMs = parseTtl(input.ttl, 'ttl', errors);
    if (errors.length > 0) {
      throw invalidInput(errors);
    }
    if (input.folderId !== undefined) {
      this.folder(portalId, input.folderId, undefined);
    }
    const task: ImportTask = {
      id: randomUUID(),
      portalId,
      status: 'PENDING',
      requestedAt: new Date().toISOString(),
    };
    this.files.importTasks.set(task.id, task);
    setImmediate(() => {
      void this.runImport(task, input, ttlMs);
    });
    return task;
  }

  importTask(portalId: number, taskId: string): ImportTask {
    const task = this.files.importTasks.get(taskId);
    if (task?.portalId !== portalId) {
      throw HubSpotError.notFound(`Task ${taskId} not found`);
    }
    return task;
  }

  /** `FileActionResponse`: the task's status, and the `File` or the error once complete. */
  toPublicTask(task: ImportTask, origin: string): Record<string, unknown> {
    const file = task.fileId === undefined ? undefined : this.files.file(task.portalId, task.fileId);
    return {
      status: task.status,
      taskId: task.id,
      requestedAt: task.requestedAt,
      ...(task.startedAt === undefined ? {} : { startedAt: task.startedAt }),
      ...(task.completedAt === undefined ? {} : { completedAt: task.completedAt }),
      ...(file === undefined ? {} : { result: this.toPublicFile(file, origin) }),
      ...(task.error === undefined
        ? {}
        : {
            numErrors: 1,
            errors: [{ status: 'error', category: 'VALIDATION_ERROR', message: task.error }],
          }),
    };
  }

  private async runImport(
    task: ImportTask,
    input: z.output<typeof importFromUrlSchema>,
    ttlMs: number | undefined,
  ): Promise<void> {
    task.status = 'PROCESSING';
    task.startedAt = new Date().toISOString();
    try {
      const response = await fetch(input.url, { signal: AbortSignal.timeout(IMPORT_TIMEOUT_MS) });
      if (!response.ok) {
        throw new Error(`the URL answered HTTP ${response.status}`);
      }
      const buffer = Buffer.from(await response.arrayBuffer());
      const originalname = decodeURIComponent(new URL(input.url).pathname.split('/').pop() ?? '') || 'file';
      const { file } = this.store(task.portalId, {
        part: {
          fieldname: 'file',
          originalname,
          mimetype: (response.headers.get('content-type') ?? 'application/octet-stream').split(';')[0] ?? '',
          size: buffer.length,
          buffer,
        },
        folderId: input.folderId,
        folderPath: input.folderPath,
        fileName: input.name,
        options: {
          access: input.access,
          ...(input.overwrite === undefined ? {} : { overwrite: input.overwrite }),
          ...(input.duplicateValidationStrategy === undefined
            ? {}
            : { duplicateValidationStrategy: input.duplicateValidationStrategy }),
          ...(input.duplicateValidationScope === undefined
            ? {}
            : { duplicateValidationScope: input.duplicateValidationScope }),
        },
        ttlMs,
      });
      task.fileId = file.id;
    } catch (error) {
      task.error =
        error instanceof HubSpotError
          ? String(error.body.message)
          : `Failed to import ${input.url}: ${error instanceof Error ? error.message : String(error)}`;
    }
    task.status = 'COMPLETE';
    task.completedAt = new Date().toISOString();
  }

  get(portalId: number, fileId: string): StoredFile {
    const file = /^\d+$/.test(fileId) ? this.files.file(portalId, fileId) : undefined;
    if (file === undefined) {
      throw HubSpotError.notFound(`File ${fileId} not found`);
    }
    return file;
  }

  /** `GET …/signed-url`: a download URL valid for `expirationSeconds` (default 3600). */
  signedUrl(file: StoredFile, origin: string, expirationSeconds: number): Record<string, unknown> {
    const expires = Math.floor(Date.now() / 1000) + expirationSeconds;
    const url = new URL(`/hubfs/${file.portalId}${encodePath(file.path)}`, origin);
    url.searchParams.set('Expires', String(expires));
    url.searchParams.set('Signature', this.sign(file, expires));
    url.searchParams.set('Key-Pair-Id', 'SANDBOX');
    return {
      url: url.toString(),
      expiresAt: new Date(expires * 1000).toISOString(),
      name: file.name,
      extension: file.extension,
      type: file.type,
      size: file.size,
    };
  }

  /** `/hubfs/{portalId}/{path}`: public files as-is, others only with a valid, unexpired signature. */
  download(
    portalId: number,
    path: string,
    query: Record<string, unknown>,
  ): StoredFile | 'FORBIDDEN' | undefined {
    const file = this.files.portalFiles(portalId).find((candidate) => candidate.path === path);
    if (file === undefined) {
      return undefined;
    }
    if (isPublic(file.access)) {
      return file;
    }
    const expires = Number(query.Expires);
    const signature = typeof query.Signature === 'string' ? Buffer.from(query.Signature) : Buffer.alloc(0);
    const expected = Buffer.from(this.sign(file, expires));
    const valid =
      Number.isInteger(expires) &&
      expires * 1000 > Date.now() &&
      signature.length === expected.length &&
      timingSafeEqual(signature, expected);
    return valid ? file : 'FORBIDDEN';
  }

  urls(file: StoredFile, origin: string): { url: string; defaultHostingUrl: string } {
    const hosted = new URL(`/hubfs/${file.portalId}${encodePath(file.path)}`, origin).toString();
    return isPublic(file.access)
      ? { url: hosted, defaultHostingUrl: hosted }
      : {
          url: new URL(
            `/filemanager/api/v2/files/${file.id}/signed-url-redirect?portalId=${file.portalId}`,
            origin,
          ).toString(),
          defaultHostingUrl: hosted,
        };
  }

  toPublicFile(file: StoredFile, origin: string): Record<string, unknown> {
    return {
      id: file.id,
      createdAt: file.createdAt,
      updatedAt: file.updatedAt,
      archived: false,
      parentFolderId: file.folderId,
      name: file.name,
      path: file.path,
      size: file.size,
      type: file.type,
      extension: file.extension,
      ...this.urls(file, origin),
      isUsableInContent: isPublic(file.access),
      access: file.access,
      sourceGroup: 'CONVERSATIONS',
      ...(file.expiresAt === undefined ? {} : { expiresAt: file.expiresAt }),
    };
  }

  private sign(file: StoredFile, expires: number): string {
    return createHmac('sha256', this.signingKey)
      .update(`${file.id}:${file.sha256}:${expires}`)
      .digest('base64url');
  }

  /** `folderPath` is created on demand; an unknown `folderId` is a 400 naming it. */
  private folder(portalId: number, folderId: string | undefined, folderPath: string | undefined): Folder {
    if (folderId !== undefined) {
      const folder = this.files.folder(portalId, folderId);
      if (folder === undefined) {
        throw invalidInput([
          detail(
            `Invalid value for field "folderId": folder ${folderId} not found`,
            'INVALID_VALUE',
            'body',
            'folderId',
          ),
        ]);
      }
      return folder;
    }
    const path = `/${(folderPath ?? '')
      .split('/')
      .filter((segment) => segment !== '')
      .join('/')}`.replace(/^\/$/, '');
    return (
      this.files.folderByPath(portalId, path) ??
      this.files.saveFolder({ id: String(this.ids.next('folder', 170_000_000_001)), portalId, path })
    );
  }
}

function splitName(fileName: string, originalName: string): { name: string; extension: string } {
  const split = (value: string) => {
    const dot = value.lastIndexOf('.');
    return dot > 0
      ? { name: value.slice(0, dot), extension: value.slice(dot + 1).toLowerCase() }
      : { name: value, extension: '' };
  };
  const own = split(fileName);
  return own.extension === '' ? { name: own.name, extension: split(originalName).extension } : own;
}

function fileType(extension: string): string {
  return TYPES.find(([, extensions]) => extensions.includes(extension))?.[0] ?? 'OTHER';
}

function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/** `ttl`: an ISO 8601 period `P<n>D|W|M|Y` from 1 day to 1 year; problems are added to `errors`. */
function parseTtl(ttl: string | undefined, field: string, errors: HubSpotErrorDetail[]): number | undefined {
  if (ttl === undefined) {
    return undefined;
  }
  const match = /^P(\d+)([DWMY])$/.exec(ttl);
  const ttlMs = match === null ? undefined : Number(match[1]) * (TTL_UNITS[match[2] ?? 'D'] ?? DAY_MS);
  if (ttlMs === undefined || ttlMs < DAY_MS || ttlMs > 365 * DAY_MS) {
    errors.push(
      detail(
        `Invalid value for field "${field}": expected an ISO 8601 period from P1D to P1Y (e.g. P30D)`,
        'INVALID_VALUE',
        'body',
        field,
      ),
    );
    return undefined;
  }
  return ttlMs;
}
