import { z } from 'zod';
import { isoDateTimeSchema, providerSchema, shortTextSchema } from '../common.js';
import { channelAccountIdSchema } from '../conversation.js';

/**
 * A provider refused a connected account's credentials while the bridge used them (Telegram `401
 * Unauthorized`: the bot token was revoked; Twilio `20003`: the auth token was rotated). The connector has
 * stopped using the account; the gateway marks it `authorized: false` in HubSpot, so admins see it needs
 * reconnecting. Published once per rejection, when the account goes from usable to refused.
 * Routing key `connector.channel-account.credentials-rejected.v1`. Ordered per `channelAccountId`.
 */
export const connectorCredentialsRejectedV1Schema = z.strictObject({
  channelAccountId: channelAccountIdSchema,
  provider: providerSchema,
  /** Plain words for the admin, e.g. "Telegram no longer accepts the bot token". */
  reason: shortTextSchema,
  /** The provider's code, e.g. Telegram `401` or Twilio `20003`. */
  providerErrorCode: z.string().min(1).max(64).optional(),
  /** When the provider refused them (ISO-8601). */
  occurredAt: isoDateTimeSchema,
});

export type ConnectorCredentialsRejectedV1 = z.infer<typeof connectorCredentialsRejectedV1Schema>;
