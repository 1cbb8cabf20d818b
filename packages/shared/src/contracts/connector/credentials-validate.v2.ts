import { z } from 'zod';
import { providerSchema } from '../common.js';
import { channelAccountIdSchema } from '../conversation.js';

/**
 * A sealed value: `v1.<keyId>.<ephemeral public key>.<iv>.<tag>.<ciphertext>`, base64url parts (service-kit's
 * `TransitSealer`). 8 KiB holds the largest credentials the v1 schema allows, sealed.
 */
export const sealedValueSchema = z
  .string()
  .max(8_192)
  .regex(
    /^v1\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
    'must be a sealed value (v1.<keyId>.<key>.<iv>.<tag>.<ciphertext>)',
  );

/**
 * Request from the gateway (connection popup, admin API) to the connector: check these credentials against the
 * provider. The connector answers with `connector.credentials.validated.v1` carrying the same requestId.
 * Routing key `connector.credentials.validate.v2`. Unordered.
 *
 * Unlike v1, the credentials travel sealed to the connector's transit key (`CREDENTIALS_TRANSIT_PRIVATE_KEYS`):
 * the gateway's outbox, the broker's queues, retry tiers and dead letters only ever hold the sealed value, which
 * only the connector can open, and only for this request of this portal ({@link credentialsSealBinding}).
 */
export const connectorCredentialsValidateV2Schema = z.strictObject({
  /** UUID chosen by the gateway; correlates the reply. */
  requestId: z.uuid(),
  provider: providerSchema,
  /** Set when re-validating credentials of an existing channel account; absent in a new connection. */
  channelAccountId: channelAccountIdSchema.optional(),
  /**
   * `ProviderCredentials` (the v1 `credentials`) as JSON, sealed with {@link credentialsSealBinding} of this
   * message as authenticated data.
   */
  sealedCredentials: sealedValueSchema,
});

export type ConnectorCredentialsValidateV2 = z.infer<typeof connectorCredentialsValidateV2Schema>;

/**
 * The authenticated data of `sealedCredentials`: the message's portal and every field of the payload the connector
 * acts on, so sealed credentials copied into another request, another portal's message or another account's
 * re-validation no longer open.
 */
export function credentialsSealBinding(
  portalId: number,
  request: Omit<ConnectorCredentialsValidateV2, 'sealedCredentials'>,
): string {
  return JSON.stringify([
    'connector.credentials.validate.v2',
    portalId,
    request.requestId,
    request.provider,
    request.channelAccountId ?? null,
  ]);
}
