import { z } from 'zod';
import { idSchema, shortTextSchema } from '../common.js';
import { channelAccountIdSchema } from '../conversation.js';

/**
 * What changed on a channel account. `authorized`/`deauthorized` follow HubSpot's `authorized` flag
 * (credentials usable or revoked); `activated`/`deactivated` follow `active` (the admin switched it on/off);
 * `moved` means the account now feeds another inbox (for example a help desk).
 */
export const ChannelAccountChanges = [
  'renamed',
  'authorized',
  'deauthorized',
  'activated',
  'deactivated',
  'moved',
] as const;
export const channelAccountChangeSchema = z.enum(ChannelAccountChanges);
export type ChannelAccountChange = z.infer<typeof channelAccountChangeSchema>;

/**
 * The kind of HubSpot inbox an account feeds: a conversations inbox, or a help desk (threads become tickets,
 * assignment goes to the ticket owner). `UNKNOWN` when HubSpot did not say.
 */
export const InboxTypes = ['INBOX', 'HELP_DESK', 'UNKNOWN'] as const;
export const inboxTypeSchema = z.enum(InboxTypes);
export type InboxType = z.infer<typeof inboxTypeSchema>;

/**
 * A channel account changed (HubSpot `CHANNEL_ACCOUNT_UPDATED`, or an admin action in the bridge).
 * Routing key `gateway.channel-account.updated.v1`. Ordered per `channelAccountId`.
 * Fields other than `channelAccountId` and `changes` carry the new state and are present when they changed.
 */
export const gatewayChannelAccountUpdatedV1Schema = z
  .strictObject({
    channelAccountId: channelAccountIdSchema,
    /** New name; present when `changes` contains `renamed`. */
    name: shortTextSchema.optional(),
    /** New HubSpot `authorized` flag; present when `changes` contains `authorized` or `deauthorized`. */
    authorized: z.boolean().optional(),
    /** New HubSpot `active` flag; present when `changes` contains `activated` or `deactivated`. */
    active: z.boolean().optional(),
    /** The inbox the account moved to; present when `changes` contains `moved`. */
    inboxId: idSchema.optional(),
    /** That inbox's kind; present when `changes` contains `moved`. */
    inboxType: inboxTypeSchema.optional(),
    changes: z.array(channelAccountChangeSchema).min(1).max(ChannelAccountChanges.length),
  })
  .superRefine((update, ctx) => {
    const changes = new Set(update.changes);
    if (changes.size !== update.changes.length) {
      ctx.addIssue({ code: 'custom', path: ['changes'], message: 'must not repeat a change' });
    }
    if (changes.has('renamed') && update.name === undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'required when changes contains renamed' });
    }
    for (const field of ['inboxId', 'inboxType'] as const) {
      if (changes.has('moved') && update[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'required when changes contains moved' });
      }
    }
    const pairs = [
      ['authorized', 'authorized', 'deauthorized'],
      ['active', 'activated', 'deactivated'],
    ] as const;
    for (const [field, on, off] of pairs) {
      if (changes.has(on) && changes.has(off)) {
        ctx.addIssue({ code: 'custom', path: ['changes'], message: `cannot contain both ${on} and ${off}` });
      } else if (changes.has(on) && update[field] !== true) {
        ctx.addIssue({ code: 'custom', path: [field], message: `must be true when changes contains ${on}` });
      } else if (changes.has(off) && update[field] !== false) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `must be false when changes contains ${off}`,
        });
      }
    }
  });

export type GatewayChannelAccountUpdatedV1 = z.infer<typeof gatewayChannelAccountUpdatedV1Schema>;
