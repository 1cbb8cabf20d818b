import { z } from 'zod';

/** HubSpot's wire shapes for custom channels (§1), modelled from the reference, strict everywhere. */

export const DELIVERY_IDENTIFIER_TYPES = [
  'HS_EMAIL_ADDRESS',
  'HS_PHONE_NUMBER',
  'HS_SHORT_CODE',
  'CHANNEL_SPECIFIC_OPAQUE_ID',
] as const;
export const THREADING_MODELS = ['INTEGRATION_THREAD_ID', 'DELIVERY_IDENTIFIER'] as const;
export const RICH_TEXT_OPTIONS = [
  'BLOCKQUOTE',
  'BOLD',
  'FONT_SIZE',
  'FONT_STYLE',
  'HYPERLINK',
  'ITALIC',
  'LISTS',
  'TEXT_ALIGNMENT',
  'TEXT_HIGHLIGHT_COLOR',
  'TEXT_COLOR',
  'UNDERLINE',
] as const;
export const OUTGOING_ATTACHMENT_TYPES = ['FILE', 'QUICK_REPLIES'] as const;

export const deliveryIdentifierSchema = z.strictObject({
  type: z.enum(DELIVERY_IDENTIFIER_TYPES),
  value: z.string(),
});

export const channelCreateSchema = z.strictObject({
  name: z.string().min(1),
  capabilities: z.record(z.string(), z.unknown()),
  webhookUrl: z.string().optional(),
  channelAccountConnectionRedirectUrl: z.string().optional(),
  channelDescription: z.string().optional(),
  channelLogoUrl: z.string().optional(),
});

/**
 * PATCH (§1.3): the date-versioned spec marks every field required, the BETA guide allows partial updates and
 * the reference advises sending the whole definition. Strictest usable reading: `name` and `capabilities` are
 * required as on create (the whole definition); the optional fields not sent keep their values.
 */
export const channelPatchSchema = channelCreateSchema;

export const channelAccountCreateSchema = z.strictObject({
  inboxId: z.string().min(1),
  name: z.string().min(1),
  authorized: z.boolean(),
  deliveryIdentifier: deliveryIdentifierSchema.optional(),
});

export const channelAccountUpdateSchema = z.strictObject({
  authorized: z.boolean().optional(),
  name: z.string().min(1).optional(),
});

/**
 * Both fields optional, the body too: so in 2026-03 and before, the versions served here; 2026-09 requires both
 * (§1.6, §7.10).
 */
export const stagingTokenUpdateSchema = z.strictObject({
  accountName: z.string().min(1).optional(),
  deliveryIdentifier: deliveryIdentifierSchema.optional(),
});

const participantSchema = z.strictObject({
  deliveryIdentifier: deliveryIdentifierSchema,
  name: z.string().optional(),
  senderActorId: z.string().optional(),
});

/**
 * A contact card entry. The reference names no fields inside, only the `type` enums: phones CELL/HOME/MAIN/WORK,
 * addresses and emails "include" HOME/WORK (strictest reading: only those two).
 */
const contactItem = (types: readonly [string, ...string[]]) =>
  z.object({ type: z.enum(types).optional() }).catchall(z.union([z.string(), z.array(z.string())]));
const HOME_OR_WORK = ['HOME', 'WORK'] as const;

export const attachmentSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('FILE'),
    fileId: z.string().regex(/^\d+$/, { error: 'expected a HubSpot File Manager id (digits)' }),
    fileUsageType: z.enum(['AUDIO', 'IMAGE', 'OTHER', 'STICKER', 'VOICE_RECORDING']),
  }),
  z.strictObject({
    type: z.literal('LOCATION'),
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
    address: z.string().optional(),
    name: z.string().optional(),
    url: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('CONTACT'),
    contactProfile: z.strictObject({
      name: z.string().optional(),
      org: z.string().optional(),
      addresses: z.array(contactItem(HOME_OR_WORK)).optional(),
      emails: z.array(contactItem(HOME_OR_WORK)).optional(),
      phones: z.array(contactItem(['CELL', 'HOME', 'MAIN', 'WORK'])).optional(),
      urls: z.array(z.record(z.string(), z.union([z.string(), z.array(z.string())]))).optional(),
    }),
  }),
  z.strictObject({ type: z.literal('UNSUPPORTED_CONTENT') }),
  z.strictObject({
    type: z.literal('MESSAGE_HEADER'),
    fileId: z.number().int().optional(),
    text: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('QUICK_REPLIES'),
    quickReplies: z
      .array(
        z.strictObject({
          value: z.string().min(1),
          valueType: z.enum(['TEXT', 'URL']),
          label: z.string().optional(),
        }),
      )
      .min(1),
  }),
  z.strictObject({
    type: z.literal('SOCIAL_MEDIA_METADATA'),
    socialMetadata: z.strictObject({
      mediaType: z
        .enum([
          'ARTICLE',
          'AUDIO',
          'CAROUSEL',
          'DOCUMENT',
          'GIF',
          'LINK',
          'NONE',
          'PHOTO',
          'POLL',
          'STORY',
          'VIDEO',
        ])
        .optional(),
      id: z.string().optional(),
      description: z.string().optional(),
      mediaTitle: z.string().optional(),
      mediaUrl: z.string().optional(),
      mediaUrlString: z.string().optional(),
      thumbnailUrl: z.string().optional(),
    }),
  }),
]);

export const messageEggSchema = z.strictObject({
  channelAccountId: z.string().min(1),
  messageDirection: z.enum(['INCOMING', 'OUTGOING']),
  text: z.string(),
  richText: z.string().optional(),
  senders: z.array(participantSchema).min(1),
  recipients: z.array(participantSchema).min(1),
  timestamp: z.iso.datetime({ offset: true }),
  attachments: z.array(attachmentSchema),
  integrationThreadId: z.string().min(1).optional(),
  integrationIdempotencyId: z.string().min(1).optional(),
  inReplyToId: z.string().min(1).optional(),
  associateWithContactId: z.number().int().positive().optional(),
  preResolvedContacts: z
    .strictObject({
      contacts: z.array(
        z.strictObject({
          contactVid: z.number().int().positive(),
          contactPropertiesLeadingToMatch: z.array(z.string()),
        }),
      ),
    })
    .optional(),
});

export type MessageEgg = z.output<typeof messageEggSchema>;

export const messageUpdateSchema = z.strictObject({
  statusType: z.enum(['SENT', 'FAILED', 'READ']),
  errorMessage: z.string().min(1).optional(),
});
