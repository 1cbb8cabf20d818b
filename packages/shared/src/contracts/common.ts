import { z } from 'zod';

/**
 * Size limits shared by the contracts. They bound what a hostile or buggy producer can make a consumer
 * allocate; the transport must also cap the raw message size before JSON parsing.
 */
export const ContractLimits = {
  /** Longest id accepted (HubSpot ids, provider ids, conversation keys). */
  idLength: 200,
  /** Longest plain or rich message text, in UTF-16 code units. */
  textLength: 65_536,
  /** Longest caption, name, reason or other short human-readable text. */
  shortTextLength: 1_024,
  /** Most attachments on one message (Telegram albums and Twilio MMS allow 10). */
  attachments: 20,
  /** Longest opaque media reference. */
  downloadRefLength: 2_048,
  /** Largest media size accepted, in bytes (4 GiB). */
  mediaSizeBytes: 4 * 1024 * 1024 * 1024,
} as const;

/** Printable, no whitespace: ids end up in log lines, SQL keys and ordering keys. */
const idPattern = /^[^\s\p{Cc}]+$/u;

/** An identifier of a HubSpot or provider object, always carried as a string (HubSpot returns strings). */
export const idSchema = z
  .string()
  .min(1)
  .max(ContractLimits.idLength)
  .regex(idPattern, 'must not contain whitespace');

/** ISO-8601 instant with an explicit offset (`Z` or `+hh:mm`), e.g. `2025-05-01T10:15:30.123Z`. */
export const isoDateTimeSchema = z.iso.datetime({ offset: true });

/** Short human-readable text (names, captions, reasons). */
export const shortTextSchema = z.string().min(1).max(ContractLimits.shortTextLength);

/** Message body text. */
export const messageTextSchema = z.string().max(ContractLimits.textLength);

/** Phone number in E.164 form: `+` and up to 15 digits, e.g. `+14155550123`. */
export const e164Schema = z.e164();

export const emailSchema = z.email().max(254);

/** The messaging providers the connector speaks to. */
export const Providers = ['telegram', 'twilio', 'generic-webhook'] as const;
export const providerSchema = z.enum(Providers);
export type Provider = z.infer<typeof providerSchema>;

/**
 * A HubSpot delivery identifier (`PublicDeliveryIdentifier`): how HubSpot addresses a participant.
 * `HS_PHONE_NUMBER` values are E.164, `HS_EMAIL_ADDRESS` values are email addresses, and
 * `CHANNEL_SPECIFIC_OPAQUE_ID` values are provider ids (e.g. a Telegram chat id), only checked for non-blank.
 */
export const deliveryIdentifierSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('HS_PHONE_NUMBER'), value: e164Schema }),
  z.strictObject({ type: z.literal('HS_EMAIL_ADDRESS'), value: emailSchema }),
  z.strictObject({
    type: z.literal('CHANNEL_SPECIFIC_OPAQUE_ID'),
    value: z.string().trim().min(1).max(ContractLimits.idLength),
  }),
]);
export type DeliveryIdentifier = z.infer<typeof deliveryIdentifierSchema>;
export type DeliveryIdentifierType = DeliveryIdentifier['type'];

/** The same address: the same bot, number or email. */
export function sameDeliveryIdentifier(a: DeliveryIdentifier, b: DeliveryIdentifier): boolean {
  return a.type === b.type && a.value === b.value;
}

/**
 * An opaque, authenticated reference to a media file that only the bridge can resolve (the gateway through
 * the connector for provider media, the connector through the gateway for HubSpot files), e.g.
 * `media:telegram:AgADBAADr6cxG...`. Never a raw provider or HubSpot URL: those can embed credentials
 * (Telegram file URLs contain the bot token) and expire.
 */
export const downloadRefSchema = z
  .string()
  .min(1)
  .max(ContractLimits.downloadRefLength)
  .regex(idPattern, 'must not contain whitespace')
  .refine((ref) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(ref), {
    message: 'must be an opaque reference, not a URL',
  });

/** A MIME type such as `image/jpeg` or `audio/ogg; codecs=opus`. */
export const mimeTypeSchema = z
  .string()
  .max(255)
  .regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(\s*;.*)?$/i, 'must be a MIME type such as image/jpeg');

export const fileNameSchema = z.string().min(1).max(255);

/** Size in bytes. */
export const sizeBytesSchema = z.number().int().nonnegative().max(ContractLimits.mediaSizeBytes);

/** Kinds of media file, mapped to HubSpot `FILE` attachments and their `fileUsageType`. */
export const MediaKinds = ['image', 'audio', 'voice-note', 'sticker', 'video', 'file'] as const;
export const mediaKindSchema = z.enum(MediaKinds);
export type MediaKind = z.infer<typeof mediaKindSchema>;
