import { e164Schema, emailSchema, MediaKinds } from '@inbox-bridge/shared';
import { z } from 'zod';

/** Generic webhook spec version this connector speaks (docs/providers/generic-webhook.md). */
export const GENERIC_SPEC_VERSION = '1';

const id = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s\p{Cc}]+$/u, 'must not contain whitespace');
const shortText = z.string().min(1).max(1024);

/** The last instant PostgreSQL's timestamptz and an ISO-8601 four-digit year both hold. */
const LAST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * An ISO-8601 instant the bridge stores (a parked status report's `occurred_at`): zod takes any four-digit year
 * and any `±hh:mm` offset, PostgreSQL refuses year 0000 and offsets past ±15:59, so the instant must lie in
 * 1970–9999 and is passed on in UTC.
 */
const storableInstant = z.iso
  .datetime({ offset: true })
  .refine((value) => {
    const instant = Date.parse(value);
    return instant >= 0 && instant <= LAST_INSTANT;
  }, 'must be an instant between 1970 and 9999')
  .transform((value) => new Date(value).toISOString());

/** Media URLs end up inside the download reference (base64url), which is capped at 2048 characters. */
const mediaUrl = z.url({ protocol: /^https?$/ }).max(1400);

const mediaAttachment = z.object({
  type: z.enum(MediaKinds),
  url: mediaUrl,
  mimeType: z
    .string()
    .max(255)
    .regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(\s*;.*)?$/i, 'must be a MIME type such as image/jpeg'),
  fileName: z.string().min(1).max(255).optional(),
  sizeBytes: z.number().int().nonnegative().optional(),
  caption: z.string().max(4096).optional(),
});

const locationAttachment = z.object({
  type: z.literal('location'),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  name: shortText.optional(),
  address: shortText.optional(),
});

const contactAttachment = z.object({
  type: z.literal('contact'),
  name: shortText,
  phoneNumbers: z.array(z.string().min(1).max(64)).max(20).default([]),
  emails: z.array(emailSchema).max(20).optional(),
});

export const genericInboundMessageSchema = z.object({
  specVersion: z.literal(GENERIC_SPEC_VERSION),
  type: z.literal('message'),
  message: z.object({
    id,
    conversationId: id,
    sender: z.object({
      id: z.string().min(1).max(200),
      name: shortText.optional(),
      phoneNumber: e164Schema.optional(),
      email: emailSchema.optional(),
      username: z.string().min(1).max(256).optional(),
    }),
    sentAt: z.iso.datetime({ offset: true }),
    text: z.string().max(65_536).optional(),
    replyToId: id.optional(),
    attachments: z
      .array(z.discriminatedUnion('type', [mediaAttachment, locationAttachment, contactAttachment]))
      .max(20)
      .default([]),
  }),
});

export const genericInboundStatusSchema = z.object({
  specVersion: z.literal(GENERIC_SPEC_VERSION),
  type: z.literal('status'),
  status: z.object({
    /** The `message.id` the bridge sent, or the `id` the receiver answered with. */
    messageId: id,
    status: z.enum(['delivered', 'read', 'failed']),
    reason: shortText.optional(),
    occurredAt: storableInstant.optional(),
  }),
});

export const genericInboundSchema = z.discriminatedUnion('type', [
  genericInboundMessageSchema,
  genericInboundStatusSchema,
]);
export type GenericInbound = z.output<typeof genericInboundSchema>;

/** What the receiver may answer to an outbound POST (anything else, or an empty body, is fine too). */
export const genericOutboundAnswerSchema = z.object({ id: id.optional() }).loose();
