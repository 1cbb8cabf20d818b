const MB = 1024 * 1024;

/** What the registered channel declares for files (hubspot-api.md §1.4); `0` / empty means no limit declared. */
export interface InboundMediaLimits {
  readonly allowedMimeTypes: readonly string[];
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  /** `maxFileAttachmentCount`: files one message carries at most. */
  readonly maxFileCount: number;
}

/** `Image/PNG; charset=x` → `image/png`; blank → `undefined`. */
export function normaliseMimeType(value: string | null | undefined): string | undefined {
  const bare = value?.split(';')[0]?.trim().toLowerCase();
  return bare === undefined || bare === '' ? undefined : bare;
}

/**
 * The type to upload a download as: the connector's answer, unless it says nothing more than "some bytes"
 * (`application/octet-stream`, or no type at all); then the type the provider declared in the message.
 */
export function effectiveMimeType(answered: string | null | undefined, declared: string): string {
  const type = normaliseMimeType(answered);
  return type === undefined || type === 'application/octet-stream'
    ? (normaliseMimeType(declared) ?? declared)
    : type;
}

const megabytes = (bytes: number): string => {
  const value = bytes / MB;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
};

/**
 * Why a customer's file cannot be carried into HubSpot, in words the agent understands (it is shown next to
 * an `UNSUPPORTED_CONTENT` placeholder), or `undefined` when it can. `earlierBytes` is what the message's
 * other files already take of the per-message limit.
 */
export function inboundMediaRefusal(
  file: { readonly mimeType: string; readonly sizeBytes?: number | undefined },
  limits: InboundMediaLimits,
  earlierBytes = 0,
): string | undefined {
  const type = normaliseMimeType(file.mimeType) ?? file.mimeType;
  if (
    limits.allowedMimeTypes.length > 0 &&
    !limits.allowedMimeTypes.some((allowed) => normaliseMimeType(allowed) === type)
  ) {
    return `not shown: this channel does not accept ${type} files; ask the customer to send it in a common format (for example JPEG, PNG, MP4 or PDF)`;
  }
  if (file.sizeBytes === undefined) {
    return undefined;
  }
  if (limits.maxFileBytes > 0 && file.sizeBytes > limits.maxFileBytes) {
    return `larger than the channel's ${megabytes(limits.maxFileBytes)} MB file limit`;
  }
  if (limits.maxTotalBytes > 0 && earlierBytes + file.sizeBytes > limits.maxTotalBytes) {
    return `not shown: with the message's other files it is over the channel's ${megabytes(limits.maxTotalBytes)} MB limit per message; ask the customer to send it separately`;
  }
  return undefined;
}

/**
 * Why a customer's file is not carried because the message's earlier files already take the channel's
 * `maxFileAttachmentCount` (HubSpot refuses the whole message past it), or `undefined` when it fits.
 */
export function inboundFileCountRefusal(
  earlierFiles: number,
  limits: Pick<InboundMediaLimits, 'maxFileCount'>,
): string | undefined {
  if (limits.maxFileCount > 0 && earlierFiles >= limits.maxFileCount) {
    return `not shown: the channel carries at most ${limits.maxFileCount} files per message; ask the customer to send it separately`;
  }
  return undefined;
}
