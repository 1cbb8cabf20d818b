import { z } from 'zod';
import { deliveryIdentifierSchema, idSchema, providerSchema, shortTextSchema } from '../common.js';
import { channelAccountIdSchema } from '../conversation.js';

/**
 * A channel account was connected to a HubSpot inbox or help desk (HubSpot `CHANNEL_ACCOUNT_CREATED`, or an
 * admin action). Routing key `gateway.channel-account.connected.v1`. Ordered per `channelAccountId`.
 */
export const gatewayChannelAccountConnectedV1Schema = z.strictObject({
  channelAccountId: channelAccountIdSchema,
  /** HubSpot custom channel id (`channelId`) the account belongs to. */
  hubspotChannelId: idSchema,
  /** HubSpot inbox or help-desk id the account is attached to. */
  inboxId: idSchema,
  provider: providerSchema,
  /** Account name shown in HubSpot's inbox settings. */
  name: shortTextSchema,
  /** The account's own address (bot id, business phone number), as registered in HubSpot. */
  deliveryIdentifier: deliveryIdentifierSchema.optional(),
  /**
   * The `requestId` of the `connector.credentials.validate` request (v2, or v1 before it) whose credentials this account uses, when
   * it was connected through the popup: the connector binds the credentials it validated and stored under that
   * request to this account. Absent when the account was connected without a credentials check.
   */
  credentialsRequestId: z.uuid().optional(),
});

export type GatewayChannelAccountConnectedV1 = z.infer<typeof gatewayChannelAccountConnectedV1Schema>;
