/**
 * HubSpot derives a file's type (image, audio player, video player, download link) from its extension, so
 * every uploaded file needs one that matches its content.
 */
const EXTENSION_BY_MIME_TYPE: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/pjpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'image/heic': 'heic',
  'image/heif': 'heif',
  'image/svg+xml': 'svg',
  'image/tiff': 'tiff',
  'audio/ogg': 'ogg',
  'audio/opus': 'opus',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/mp4': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/m4a': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/webm': 'weba',
  'audio/flac': 'flac',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'video/3gpp': '3gp',
  'video/x-msvideo': 'avi',
  'video/mpeg': 'mpeg',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
  'application/json': 'json',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'text/html': 'html',
  'text/vcard': 'vcf',
  'text/x-vcard': 'vcf',
};

/** The extension for a MIME type (parameters and case ignored), or undefined when it is not a known type. */
export function extensionForMimeType(mimeType: string): string | undefined {
  const essence = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  return EXTENSION_BY_MIME_TYPE[essence];
}

const UNSAFE_NAME_CHARACTERS = /[^A-Za-z0-9._-]+/g;

function hasExtension(fileName: string): boolean {
  return /\.[A-Za-z0-9]{1,8}$/.test(fileName);
}

/**
 * The name an attachment is uploaded under: the provider's name (with the MIME type's extension added when
 * it has none), else `<kind>-<provider message id>-<index>.<ext>` with characters such as `:` replaced.
 */
export function uploadFileName(input: {
  readonly providerFileName: string | undefined;
  readonly mimeType: string;
  readonly kind: string;
  readonly providerMessageId: string;
  readonly index: number;
}): string {
  const extension = extensionForMimeType(input.mimeType);
  const providerName = input.providerFileName?.trim();
  if (providerName !== undefined && providerName !== '') {
    return extension === undefined || hasExtension(providerName)
      ? providerName
      : `${providerName}.${extension}`;
  }
  const base = `${input.kind}-${input.providerMessageId}-${String(input.index)}`
    .replace(UNSAFE_NAME_CHARACTERS, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 100);
  return extension === undefined ? base : `${base}.${extension}`;
}
