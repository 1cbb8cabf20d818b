import { createHash, randomBytes } from 'node:crypto';

/** Which Bot API directory a file lives in; also the type a `file_id` cannot change (video ≠ photo). */
export type FileKind =
  'photo' | 'voice' | 'audio' | 'video' | 'video_note' | 'animation' | 'sticker' | 'document' | 'thumbnail';

export interface FileRecord {
  readonly botId: number;
  readonly fileId: string;
  readonly fileUniqueId: string;
  readonly kind: FileKind;
  readonly size: number;
  readonly mimeType: string;
  readonly fileName?: string;
  /** Absent for files declared bigger than the sandbox keeps (only their size matters). */
  readonly bytes?: Buffer;
  /** Media metadata echoed when the file is resent by `file_id` (duration, width, ...). */
  meta: Record<string, unknown>;
  filePath?: string;
}

export interface PutFileInput {
  readonly botId: number;
  readonly kind: FileKind;
  readonly mimeType: string;
  readonly fileName?: string;
  readonly bytes?: Buffer;
  /** Declared size when `bytes` is absent. */
  readonly size?: number;
  /** Distinguishes derived files with the same bytes (photo sizes, thumbnails). */
  readonly variant?: string;
  readonly meta?: Record<string, unknown>;
}

const DIRECTORIES: Readonly<Record<FileKind, string>> = {
  photo: 'photos',
  voice: 'voice',
  audio: 'music',
  video: 'videos',
  video_note: 'video_notes',
  animation: 'animations',
  sticker: 'stickers',
  document: 'documents',
  thumbnail: 'thumbnails',
};

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'audio/ogg': 'oga',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'application/pdf': 'pdf',
  'application/x-tgsticker': 'tgs',
};

/**
 * Files by bot-specific `file_id`. `file_unique_id` is derived from the content, so the same bytes share it
 * across bots; a `file_id` only works for the bot it was issued to.
 */
export class FileStore {
  private readonly byId = new Map<string, FileRecord>();
  private readonly byPath = new Map<string, FileRecord>();
  private nextPath = 1;

  put(input: PutFileInput): FileRecord {
    const size = input.bytes?.length ?? input.size ?? 0;
    const digest = createHash('sha256')
      .update(input.bytes ?? Buffer.from(`${input.kind}:${size}:${randomBytes(8).toString('hex')}`))
      .update(input.variant ?? '')
      .digest('base64url');
    const record: FileRecord = {
      botId: input.botId,
      fileId: `${prefix(input.kind)}${input.botId.toString(36)}_${randomBytes(18).toString('base64url')}`,
      fileUniqueId: `AgAD${digest.slice(0, 12)}`,
      kind: input.kind,
      size,
      mimeType: input.mimeType,
      ...(input.fileName === undefined ? {} : { fileName: input.fileName }),
      ...(input.bytes === undefined ? {} : { bytes: input.bytes }),
      meta: { ...input.meta },
    };
    this.byId.set(record.fileId, record);
    return record;
  }

  find(botId: number, fileId: string): FileRecord | undefined {
    const record = this.byId.get(fileId);
    return record?.botId === botId ? record : undefined;
  }

  /** Assigns the opaque download path on first `getFile` (`documents/file_3.pdf`). */
  pathFor(record: FileRecord): string {
    if (record.filePath === undefined) {
      const extension = EXTENSIONS[record.mimeType] ?? 'bin';
      record.filePath = `${DIRECTORIES[record.kind]}/file_${this.nextPath++}.${extension}`;
      this.byPath.set(`${record.botId}/${record.filePath}`, record);
    }
    return record.filePath;
  }

  findByPath(botId: number, filePath: string): FileRecord | undefined {
    return this.byPath.get(`${botId}/${filePath}`);
  }

  reset(): void {
    this.byId.clear();
    this.byPath.clear();
  }
}

function prefix(kind: FileKind): string {
  switch (kind) {
    case 'photo':
    case 'thumbnail':
      return 'AgACAgIAAxk';
    case 'voice':
      return 'AwACAgIAAxk';
    case 'sticker':
      return 'CAACAgIAAxk';
    case 'video':
    case 'video_note':
    case 'animation':
      return 'BAACAgIAAxk';
    case 'audio':
    case 'document':
      return 'BQACAgIAAxk';
  }
}
