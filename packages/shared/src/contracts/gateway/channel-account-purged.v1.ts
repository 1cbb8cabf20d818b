import { z } from 'zod';
import { channelAccountIdSchema } from '../conversation.js';

/**
 * A channel account was deleted in HubSpot (`CHANNEL_ACCOUNT_PURGED`): stop using it, drop its credentials
 * and mappings. Routing key `gateway.channel-account.purged.v1`. Ordered per `channelAccountId`.
 */
export const gatewayChannelAccountPurgedV1Schema = z.strictObject({
  channelAccountId: channelAccountIdSchema,
});

export type GatewayChannelAccountPurgedV1 = z.infer<typeof gatewayChannelAccountPurgedV1Schema>;
