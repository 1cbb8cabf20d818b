import type { MediaKind } from '@inbox-bridge/shared';

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
  '3gp': 'video/3gpp',
  mpeg: 'video/mpeg',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  wav: 'audio/wav',
  amr: 'audio/amr',
  flac: 'audio/flac',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  rtf: 'application/rtf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  zip: 'application/zip',
  json: 'application/json',
};

/** HubSpot's Files API reports an extension, not a MIME type; unknown extensions are plain bytes. */
export function mimeTypeOf(extension: string | undefined): string {
  return MIME_BY_EXTENSION[(extension ?? '').toLowerCase()] ?? 'application/octet-stream';
}

/** The attachment's kind from HubSpot's `fileUsageType`, falling back to the MIME type for `OTHER`. */
export function mediaKindOf(fileUsageType: string | undefined, mimeType: string): MediaKind {
  switch (fileUsageType) {
    case 'STICKER':
      return 'sticker';
    case 'VOICE_RECORDING':
      return 'voice-note';
    case 'AUDIO':
      return 'audio';
    case 'IMAGE':
      return mimeType.startsWith('video/') ? 'video' : 'image';
    default:
      if (mimeType.startsWith('image/')) {
        return 'image';
      }
      if (mimeType.startsWith('video/')) {
        return 'video';
      }
      if (mimeType.startsWith('audio/')) {
        return 'audio';
      }
      return 'file';
  }
}

/** `hubspot-file:<portalId>:<fileId>`, resolved by the gateway's `GET /internal/files`. */
export function hubspotFileRef(portalId: string, fileId: string): string {
  return `hubspot-file:${portalId}:${fileId}`;
}

export function parseHubSpotFileRef(ref: string): { portalId: string; fileId: string } | undefined {
  const match = /^hubspot-file:(\d{1,15}):(\d{1,30})$/.exec(ref);
  return match === null ? undefined : { portalId: match[1] ?? '', fileId: match[2] ?? '' };
}

/** The FILE attachments of a rep's reply, as the webhook carries them (the shape is not documented, §2.2). */
export interface WebhookFileAttachment {
  readonly fileId: string;
  readonly fileUsageType?: string;
  readonly name?: string;
}

export function fileAttachmentsOf(attachments: readonly Record<string, unknown>[] | undefined): {
  files: WebhookFileAttachment[];
  unsupported: string[];
} {
  const files: WebhookFileAttachment[] = [];
  const unsupported: string[] = [];
  for (const attachment of attachments ?? []) {
    const fileId = attachment['fileId'];
    const type = attachment['type'];
    if (
      (type === 'FILE' || type === undefined) &&
      (typeof fileId === 'string' || typeof fileId === 'number')
    ) {
      const id = String(fileId);
      if (/^\d{1,30}$/.test(id)) {
        const usage = attachment['fileUsageType'];
        const name = attachment['name'];
        files.push({
          fileId: id,
          ...(typeof usage === 'string' ? { fileUsageType: usage } : {}),
          ...(typeof name === 'string' && name !== '' ? { name: name.slice(0, 255) } : {}),
        });
        continue;
      }
    }
    unsupported.push(typeof type === 'string' ? type.slice(0, 40) : 'unknown');
  }
  return { files, unsupported };
}
