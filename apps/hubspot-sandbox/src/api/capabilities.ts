import { HubSpotError, type HubSpotErrorDetail } from '../common/hubspot-error.js';
import { detail, invalidInput } from '../common/validation.js';
import type { DeliveryIdentifier } from '../store/channel-account.store.js';
import {
  DELIVERY_IDENTIFIER_TYPES,
  OUTGOING_ATTACHMENT_TYPES,
  RICH_TEXT_OPTIONS,
  THREADING_MODELS,
} from './custom-channel.schemas.js';

const isStringArrayOf = (allowed: readonly string[]) => (value: unknown) =>
  Array.isArray(value) && value.every((item) => typeof item === 'string' && allowed.includes(item));
const isBoolean = (value: unknown) => typeof value === 'boolean';
const isCount = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const MIME_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+*-]+$/i;

/** Every documented key (§1.4) with its check; anything else is rejected (strictest reading). */
const CAPABILITY_CHECKS: Record<string, (value: unknown) => boolean> = {
  deliveryIdentifierTypes: isStringArrayOf(DELIVERY_IDENTIFIER_TYPES),
  threadingModel: (value) =>
    typeof value === 'string' && (THREADING_MODELS as readonly string[]).includes(value),
  richText: isStringArrayOf(RICH_TEXT_OPTIONS),
  allowConversationStart: isBoolean,
  allowMultipleRecipients: isBoolean,
  allowInlineImages: isBoolean,
  allowOutgoingMessages: isBoolean,
  outgoingAttachmentTypes: isStringArrayOf(OUTGOING_ATTACHMENT_TYPES),
  allowedFileAttachmentMimeTypes: (value) =>
    Array.isArray(value) && value.every((item) => typeof item === 'string' && MIME_TYPE.test(item)),
  maxFileAttachmentCount: isCount,
  maxFileAttachmentSizeBytes: isCount,
  maxTotalFileAttachmentSizeBytes: isCount,
};

/** 400 `CustomChannelsError.INVALID_CHANNEL_CAPABILITY_VALUES` listing `key=value` of every bad entry. */
export function validateCapabilities(capabilities: Record<string, unknown>): void {
  const bad = Object.entries(capabilities).filter(([key, value]) => {
    const check = CAPABILITY_CHECKS[key];
    return check === undefined || !check(value);
  });
  if (bad.length > 0) {
    throw HubSpotError.validation(
      `Invalid channel capability values: ${bad.map(([key]) => key).join(', ')}`,
      {
        subCategory: 'CustomChannelsError.INVALID_CHANNEL_CAPABILITY_VALUES',
        context: { capabilityKeysAndValues: bad.map(([key, value]) => `${key}=${JSON.stringify(value)}`) },
      },
    );
  }
}

export interface EffectiveCapabilities {
  readonly deliveryIdentifierTypes: readonly string[];
  readonly threadingModel: 'INTEGRATION_THREAD_ID' | 'DELIVERY_IDENTIFIER';
  readonly allowOutgoingMessages: boolean;
  readonly allowMultipleRecipients: boolean;
  readonly outgoingAttachmentTypes: readonly string[];
  readonly maxFileAttachmentCount: number;
  readonly maxFileAttachmentSizeBytes: number;
  readonly maxTotalFileAttachmentSizeBytes: number;
  /** Absent: no restriction (the reference does not list HubSpot's "fairly permissive" default). */
  readonly allowedFileAttachmentMimeTypes?: readonly string[];
}

/** The documented defaults (§1.4, §7.12) applied to a validated capabilities object. */
export function effectiveCapabilities(capabilities: Record<string, unknown>): EffectiveCapabilities {
  return {
    deliveryIdentifierTypes: (capabilities.deliveryIdentifierTypes as string[] | undefined) ?? [],
    threadingModel:
      (capabilities.threadingModel as EffectiveCapabilities['threadingModel'] | undefined) ??
      'INTEGRATION_THREAD_ID',
    allowOutgoingMessages: capabilities.allowOutgoingMessages === true,
    allowMultipleRecipients: capabilities.allowMultipleRecipients === true,
    outgoingAttachmentTypes: (capabilities.outgoingAttachmentTypes as string[] | undefined) ?? [],
    maxFileAttachmentCount: (capabilities.maxFileAttachmentCount as number | undefined) ?? 0,
    maxFileAttachmentSizeBytes: (capabilities.maxFileAttachmentSizeBytes as number | undefined) ?? 0,
    maxTotalFileAttachmentSizeBytes:
      (capabilities.maxTotalFileAttachmentSizeBytes as number | undefined) ?? 0,
    ...(capabilities.allowedFileAttachmentMimeTypes === undefined
      ? {}
      : { allowedFileAttachmentMimeTypes: capabilities.allowedFileAttachmentMimeTypes as string[] }),
  };
}

/**
 * Why a rep may not send these files on the channel (§1.4): FILE must be declared in `outgoingAttachmentTypes`,
 * and their number, each size, the total size and each MIME type (`type/*` patterns allowed) must fit the
 * channel's limits. Empty when they may be sent. Problems name `fileIds` or `fileIds.<index>`.
 */
export function outgoingFileProblems(
  files: readonly { readonly size: number; readonly mimeType: string }[],
  capabilities: EffectiveCapabilities,
): HubSpotErrorDetail[] {
  if (files.length === 0) {
    return [];
  }
  if (!capabilities.outgoingAttachmentTypes.includes('FILE')) {
    return [
      detail(
        'Field "fileIds": the channel does not declare FILE in outgoingAttachmentTypes',
        'CAPABILITY_NOT_DECLARED',
        'body',
        'fileIds',
      ),
    ];
  }
  const problems: HubSpotErrorDetail[] = [];
  if (files.length > capabilities.maxFileAttachmentCount) {
    problems.push(
      detail(
        `Field "fileIds": the channel takes at most ${capabilities.maxFileAttachmentCount} file(s) per message`,
        'CAPABILITY_EXCEEDED',
        'body',
        'fileIds',
      ),
    );
  }
  const allowed = capabilities.allowedFileAttachmentMimeTypes;
  files.forEach((file, index) => {
    const field = `fileIds.${index}`;
    if (file.size > capabilities.maxFileAttachmentSizeBytes) {
      problems.push(
        detail(
          `Field "${field}": ${file.size} bytes exceed maxFileAttachmentSizeBytes (${capabilities.maxFileAttachmentSizeBytes})`,
          'CAPABILITY_EXCEEDED',
          'body',
          field,
        ),
      );
    }
    if (allowed !== undefined && !allowed.some((pattern) => mimeMatches(pattern, file.mimeType))) {
      problems.push(
        detail(
          `Field "${field}": MIME type ${file.mimeType} is not in the channel's allowedFileAttachmentMimeTypes`,
          'CAPABILITY_NOT_DECLARED',
          'body',
          field,
        ),
      );
    }
  });
  const total = files.reduce((sum, file) => sum + file.size, 0);
  if (total > capabilities.maxTotalFileAttachmentSizeBytes) {
    problems.push(
      detail(
        `Field "fileIds": ${total} bytes in all exceed maxTotalFileAttachmentSizeBytes (${capabilities.maxTotalFileAttachmentSizeBytes})`,
        'CAPABILITY_EXCEEDED',
        'body',
        'fileIds',
      ),
    );
  }
  return problems;
}

function mimeMatches(pattern: string, mimeType: string): boolean {
  const [type, subtype] = pattern.toLowerCase().split('/');
  const [actualType, actualSubtype] = (mimeType.toLowerCase().split(';')[0] ?? '').trim().split('/');
  return (type === '*' || type === actualType) && (subtype === '*' || subtype === actualSubtype);
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** E.164: libphonenumber is not available offline, so the strict wire format stands in for it. */
const E164 = /^\+[1-9]\d{6,14}$/;
const SHORT_CODE = /^\d{3,8}$/;

/** Why `identifier` is unacceptable for a channel declaring `allowedTypes`, or undefined when it is fine. */
export function deliveryIdentifierProblem(
  identifier: DeliveryIdentifier,
  allowedTypes: readonly string[],
): string | undefined {
  if (!allowedTypes.includes(identifier.type)) {
    return `delivery identifier type ${identifier.type} is not declared in the channel's deliveryIdentifierTypes`;
  }
  switch (identifier.type) {
    case 'HS_EMAIL_ADDRESS':
      return EMAIL.test(identifier.value) ? undefined : 'expected a valid email address';
    case 'HS_PHONE_NUMBER':
      return E164.test(identifier.value)
        ? undefined
        : 'expected a phone number in E.164 format (+<country><number>)';
    case 'HS_SHORT_CODE':
      return SHORT_CODE.test(identifier.value) ? undefined : 'expected an SMS short code (3 to 8 digits)';
    default:
      return identifier.value.trim() === '' ? 'must not be blank' : undefined;
  }
}

export function assertDeliveryIdentifier(
  identifier: DeliveryIdentifier | undefined,
  allowedTypes: readonly string[],
  field: string,
): void {
  if (identifier === undefined) {
    return;
  }
  const problem = deliveryIdentifierProblem(identifier, allowedTypes);
  if (problem !== undefined) {
    throw invalidInput(
      [
        detail(
          `Invalid delivery identifier in field "${field}": ${problem}`,
          'INVALID_DELIVERY_IDENTIFIER',
          'body',
          field,
        ),
      ],
      'CustomChannelsError.INVALID_DELIVERY_IDENTIFIER',
    );
  }
}
