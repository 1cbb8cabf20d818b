import { z } from 'zod';

/**
 * The custom-channel webhooks HubSpot sends (hubspot-api.md §2.2). Fields we rely on are checked strictly;
 * fields we do not know are dropped, not refused: HubSpot adds fields over time and would retry a 400 for
 * 24 hours. HubSpot documents ids as strings; numbers are accepted and normalised.
 */
const idLike = z.union([z.string().trim().min(1).max(200), z.number().int().nonnegative()]).transform(String);

/** `portalId`: a string of digits (or a number) that fits a PostgreSQL bigint / JS safe integer. */
export const portalIdSchema = z
  .union([z.string().regex(/^\d{1,15}$/, 'must be a positive integer'), z.number().int().positive()])
  .transform(Number)
  .refine((value) => Number.isSafeInteger(value) && value > 0, 'must be a positive integer');

const LAST_ISO_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const BEFORE_YEAR_10000 = 'must be an instant before the year 10000';

/** Epoch milliseconds of an instant an ISO-8601 string can carry on (it ends with the year 9999, a JS Date earlier). */
export const epochMillisSchema = z.number().int().nonnegative().max(LAST_ISO_INSTANT_MS, BEFORE_YEAR_10000);

/** ISO 8601 per the reference (an offset can push 9999-12-31 past the year); epoch milliseconds are accepted too. */
const timestampSchema = z.union([
  z.iso
    .datetime({ offset: true })
    .refine((value) => Date.parse(value) <= LAST_ISO_INSTANT_MS, BEFORE_YEAR_10000),
  epochMillisSchema,
]);

const deliveryIdentifierSchema = z.object({
  type: z.string().min(1).max(100),
  value: z.string().min(1).max(1000),
});

const actorSchema = z.object({
  /** Present in HubSpot's sketch; the sandbox may omit it for a participant without an actor. */
  actorId: z.string().min(1).max(200).optional(),
  deliveryIdentifier: deliveryIdentifierSchema.optional(),
  name: z.string().max(1000).optional(),
});

const channelAccountEventFields = {
  portalId: portalIdSchema,
  channelId: idLike,
  eventTimestamp: timestampSchema,
  channelAccountId: idLike,
  /** The guide says string; it is probably an object `{type, value}` (reference §2.2); null when unset. */
  channelAccountDeliveryIdentifier: z
    .union([z.string().max(1000), deliveryIdentifierSchema])
    .nullable()
    .optional(),
  authorized: z.boolean().optional(),
  eventId: idLike.optional(),
};

export const channelAccountCreatedSchema = z.object({
  type: z.literal('CHANNEL_ACCOUNT_CREATED'),
  ...channelAccountEventFields,
});
export const channelAccountUpdatedSchema = z.object({
  type: z.literal('CHANNEL_ACCOUNT_UPDATED'),
  ...channelAccountEventFields,
});
export const channelAccountPurgedSchema = z.object({
  type: z.literal('CHANNEL_ACCOUNT_PURGED'),
  ...channelAccountEventFields,
});

export const outgoingChannelMessageCreatedSchema = z.object({
  type: z.literal('OUTGOING_CHANNEL_MESSAGE_CREATED'),
  portalId: portalIdSchema,
  channelId: idLike,
  eventTimestamp: timestampSchema,
  eventId: idLike,
  channelIntegrationThreadIds: z.array(z.string().min(1).max(1000)).max(100).optional(),
  message: z.object({
    id: idLike,
    type: z.literal('MESSAGE'),
    direction: z.literal('OUTGOING'),
    channelId: idLike,
    channelAccountId: idLike,
    conversationsThreadId: idLike,
    createdAt: timestampSchema,
    createdBy: z.string().min(1).max(200),
    senders: z.array(actorSchema).max(100),
    recipients: z.array(actorSchema).max(100),
    text: z.string().optional(),
    richText: z.string().optional(),
    inReplyToId: idLike.optional(),
    truncationStatus: z.string().max(100).optional(),
    /** The table says string, the read model an object (reference §2.2): accept both. */
    status: z.union([z.string().max(100), z.object({ statusType: z.string().max(100) })]).optional(),
    /** The webhook's attachment shape is not documented (reference §2.2): kept as given, mapped later. */
    attachments: z.array(z.record(z.string(), z.unknown())).max(100).optional(),
  }),
});

export const HubSpotWebhookTypes = [
  'CHANNEL_ACCOUNT_CREATED',
  'CHANNEL_ACCOUNT_UPDATED',
  'CHANNEL_ACCOUNT_PURGED',
  'OUTGOING_CHANNEL_MESSAGE_CREATED',
] as const;
export type HubSpotWebhookType = (typeof HubSpotWebhookTypes)[number];

export const hubspotWebhookSchemas = {
  CHANNEL_ACCOUNT_CREATED: channelAccountCreatedSchema,
  CHANNEL_ACCOUNT_UPDATED: channelAccountUpdatedSchema,
  CHANNEL_ACCOUNT_PURGED: channelAccountPurgedSchema,
  OUTGOING_CHANNEL_MESSAGE_CREATED: outgoingChannelMessageCreatedSchema,
} as const;

export type ChannelAccountCreatedEvent = z.output<typeof channelAccountCreatedSchema>;
export type ChannelAccountUpdatedEvent = z.output<typeof channelAccountUpdatedSchema>;
export type ChannelAccountPurgedEvent = z.output<typeof channelAccountPurgedSchema>;
export type OutgoingChannelMessageCreatedEvent = z.output<typeof outgoingChannelMessageCreatedSchema>;
export type HubSpotWebhookEvent =
  | ChannelAccountCreatedEvent
  | ChannelAccountUpdatedEvent
  | ChannelAccountPurgedEvent
  | OutgoingChannelMessageCreatedEvent;

export function isKnownWebhookType(type: string): type is HubSpotWebhookType {
  return (HubSpotWebhookTypes as readonly string[]).includes(type);
}

/**
 * The key HubSpot redeliveries share: the message id for outgoing messages (engineering notes §6.1), the
 * `eventId` for account events, else the account, type and event time (account events may lack `eventId`).
 */
export function dedupeKeyOf(event: HubSpotWebhookEvent): string {
  if (event.type === 'OUTGOING_CHANNEL_MESSAGE_CREATED') {
    return `message:${event.message.id}`;
  }
  if (event.eventId !== undefined) {
    return `event:${event.eventId}`;
  }
  return `account:${event.channelAccountId}:${event.type}:${String(event.eventTimestamp)}`;
}

/** Events of one channel account, or of one HubSpot thread for replies, are processed in arrival order. */
export function orderingKeyOf(event: HubSpotWebhookEvent): string {
  return event.type === 'OUTGOING_CHANNEL_MESSAGE_CREATED'
    ? `thread:${event.message.conversationsThreadId}`
    : `account:${event.channelAccountId}`;
}
