import type { FileKind, FileRecord, FileStore } from './stores/file.store.js';
import type { TgPhotoSize } from './telegram.types.js';

/** Default MIME type of each kind when neither the upload nor the customer script says otherwise. */
export const DEFAULT_MIME: Readonly<Record<FileKind, string>> = {
  photo: 'image/jpeg',
  voice: 'audio/ogg',
  audio: 'audio/mpeg',
  video: 'video/mp4',
  video_note: 'video/mp4',
  animation: 'video/mp4',
  sticker: 'image/webp',
  document: 'application/octet-stream',
  thumbnail: 'image/jpeg',
};

/** Deterministic filler bytes of a plausible container for `mimeType` (magic number first). */
export function syntheticBytes(mimeType: string, size: number): Buffer {
  const magic: Readonly<Record<string, number[]>> = {
    'image/jpeg': [0xff, 0xd8, 0xff, 0xe0],
    'image/png': [0x89, 0x50, 0x4e, 0x47],
    'image/webp': [0x52, 0x49, 0x46, 0x46],
    'audio/ogg': [0x4f, 0x67, 0x67, 0x53],
    'video/mp4': [0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70],
    'application/pdf': [0x25, 0x50, 0x44, 0x46],
  };
  const bytes = Buffer.alloc(Math.max(size, 8));
  for (let index = 0; index < bytes.length; index += 1) {
    bytes[index] = (index * 31 + 7) % 251;
  }
  Buffer.from(magic[mimeType] ?? []).copy(bytes);
  if (mimeType === 'image/webp' && size >= 12) {
    // A RIFF container names its form after the chunk size: `RIFF <size> WEBP` is what sniffers look for.
    bytes.writeUInt32LE(size - 8, 4);
    bytes.write('WEBP', 8, 'latin1');
  }
  return bytes.subarray(0, size);
}

export function photoSize(record: FileRecord, width: number, height: number): TgPhotoSize {
  return {
    file_id: record.fileId,
    file_unique_id: record.fileUniqueId,
    file_size: record.size,
    width,
    height,
  };
}

/** A thumbnail `PhotoSize` (stored as its own file), JPEG unless said otherwise. */
export function thumbnailFor(
  files: FileStore,
  botId: number,
  width: number,
  height: number,
  mimeType = 'image/jpeg',
): TgPhotoSize {
  const size = Math.min(8_000, Math.round((width * height) / 8));
  const record = files.put({
    botId,
    kind: 'thumbnail',
    mimeType,
    bytes: syntheticBytes(mimeType, size),
    variant: `thumb:${width}x${height}:${mimeType}`,
  });
  return photoSize(record, width, height);
}

/**
 * The wire object for a file of `kind` (Voice, Audio, Video, VideoNote, Animation, Sticker, Document),
 * in the server's key order: metadata first, then `file_id`, `file_unique_id`, `file_size`.
 * A `thumbnail` is echoed under the legacy key `thumb` too.
 */
export function mediaObject(record: FileRecord, thumbnail?: TgPhotoSize): Record<string, unknown> {
  const meta = record.meta;
  const named = record.fileName === undefined ? {} : { file_name: record.fileName };
  const thumbs = thumbnail === undefined ? {} : { thumbnail, thumb: thumbnail };
  const ids = { file_id: record.fileId, file_unique_id: record.fileUniqueId, file_size: record.size };
  switch (record.kind) {
    case 'voice':
      return { duration: meta.duration ?? 0, mime_type: record.mimeType, ...ids };
    case 'audio':
      return {
        duration: meta.duration ?? 0,
        ...pick(meta, ['performer', 'title']),
        ...named,
        mime_type: record.mimeType,
        ...thumbs,
        ...ids,
      };
    case 'video':
    case 'animation':
      return {
        duration: meta.duration ?? 0,
        width: meta.width ?? 640,
        height: meta.height ?? 360,
        ...named,
        mime_type: record.mimeType,
        ...thumbs,
        ...ids,
      };
    case 'video_note':
      return { duration: meta.duration ?? 0, length: meta.length ?? 240, ...thumbs, ...ids };
    case 'sticker':
      return {
        width: meta.width ?? 512,
        height: meta.height ?? 512,
        ...pick(meta, ['emoji', 'set_name']),
        is_animated: meta.is_animated ?? false,
        is_video: meta.is_video ?? false,
        type: meta.type ?? 'regular',
        ...thumbs,
        ...ids,
      };
    case 'photo':
    case 'thumbnail':
    case 'document':
      return { ...named, mime_type: record.mimeType, ...thumbs, ...ids };
  }
}

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => source[key] !== undefined).map((key) => [key, source[key]]));
}
