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

/** `hubspot-url:<portalId>:<url>`: a file HubSpot gave only as a URL, fetched by `GET /internal/files` as is. */
export function hubspotUrlRef(portalId: string, url: string): string {
  return `hubspot-url:${portalId}:${url}`;
}

export type HubSpotFileRef =
  | { readonly portalId: string; readonly fileId: string }
  | { readonly portalId: string; readonly url: string };

export function parseHubSpotFileRef(ref: string): HubSpotFileRef | undefined {
  const byId = /^hubspot-file:(\d{1,15}):(\d{1,30})$/.exec(ref);
  if (byId !== null) {
    return { portalId: byId[1] ?? '', fileId: byId[2] ?? '' };
  }
  const byUrl = /^hubspot-url:(\d{1,15}):(https?:\/\/\S+)$/.exec(ref);
  return byUrl === null ? undefined : { portalId: byUrl[1] ?? '', url: byUrl[2] ?? '' };
}

/**
 * The FILE attachments of a rep's reply, as the webhook carries them. The shape is not documented (§2.2): HubSpot
 * gives a numeric Files id, and live integrations also see only an absolute URL, in `url` or in `fileId`.
 */
export type WebhookFileAttachment = {
  readonly fileUsageType?: string;
  readonly name?: string;
} & ({ readonly fileId: string } | { readonly url: string });

export function fileAttachmentsOf(attachments: readonly Record<string, unknown>[] | undefined): {
  files: WebhookFileAttachment[];
  unsupported: string[];
} {
  const files: WebhookFileAttachment[] = [];
  const unsupported: string[] = [];
  for (const attachment of attachments ?? []) {
    const type = attachment['type'];
    const source = type === 'FILE' || type === undefined ? fileSourceOf(attachment) : undefined;
    if (source === undefined) {
      unsupported.push(typeof type === 'string' ? type.slice(0, 40) : 'unknown');
      continue;
    }
    const usage = attachment['fileUsageType'];
    const name = attachment['name'];
    files.push({
      ...source,
      ...(typeof usage === 'string' ? { fileUsageType: usage } : {}),
      ...(typeof name === 'string' && name !== '' ? { name: name.slice(0, 255) } : {}),
    });
  }
  return { files, unsupported };
}

/** A URL longer than this would not fit a download reference (2,048 characters with its prefix). */
const MAX_FILE_URL_LENGTH = 1_900;

function fileSourceOf(
  attachment: Record<string, unknown>,
): { readonly fileId: string } | { readonly url: string } | undefined {
  const fileId = attachment['fileId'];
  if ((typeof fileId === 'string' || typeof fileId === 'number') && /^\d{1,30}$/.test(String(fileId))) {
    return { fileId: String(fileId) };
  }
  for (const candidate of [attachment['url'], fileId]) {
    if (typeof candidate === 'string' && candidate.length <= MAX_FILE_URL_LENGTH && URL.canParse(candidate)) {
      const url = new URL(candidate);
      if (url.protocol === 'https:' || url.protocol === 'http:') {
        return { url: url.toString() };
      }
    }
  }
  return undefined;
}

/** The file name a URL's last path segment gives, if any (`…/hubfs/123/invoice%201.pdf` → `invoice 1.pdf`). */
export function fileNameOfUrl(url: string): string | undefined {
  const segment = new URL(url).pathname.split('/').at(-1) ?? '';
  try {
    const name = decodeURIComponent(segment);
    return name === '' ? undefined : name.slice(0, 255);
  } catch {
    return undefined;
  }
}

/** The extension of a file name (`scan.PDF` → `PDF`), if it has one. */
export function extensionOf(name: string | undefined): string | undefined {
  const match = /\.([A-Za-z0-9]{1,10})$/.exec(name ?? '');
  return match?.[1];
}
