import { z } from 'zod';
import { e164Schema, providerSchema } from '../common.js';
import { channelAccountIdSchema } from '../conversation.js';

/** Telegram: the bot token from BotFather, `<bot id>:<secret>`. */
export const telegramCredentialsSchema = z.strictObject({
  provider: z.literal('telegram'),
  botToken: z
    .string()
    .max(200)
    .regex(/^[0-9]{1,20}:[A-Za-z0-9_-]{30,150}$/, 'must be a Telegram bot token (<bot id>:<secret>)'),
});

/** Twilio: account SID + auth token, and the Twilio number customers write to. */
export const twilioCredentialsSchema = z.strictObject({
  provider: z.literal('twilio'),
  /** `AC` followed by 32 hex digits. */
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio account SID (AC + 32 hex digits)'),
  authToken: z.string().regex(/^[A-Za-z0-9]{32}$/, 'must be a 32-character Twilio auth token'),
  /** The account's Twilio number, E.164. */
  phoneNumber: e164Schema,
});

/** Generic webhook: where the bridge posts replies, and the secret both sides sign requests with. */
export const genericWebhookCredentialsSchema = z.strictObject({
  provider: z.literal('generic-webhook'),
  /** HTTPS URL the connector posts replies to. */
  callbackUrl: z.url({ protocol: /^https$/ }).max(2_048),
  /** HMAC secret, at least 32 characters. */
  sharedSecret: z.string().min(32).max(512),
});

export const providerCredentialsSchema = z.discriminatedUnion('provider', [
  telegramCredentialsSchema,
  twilioCredentialsSchema,
  genericWebhookCredentialsSchema,
]);
export type ProviderCredentials = z.infer<typeof providerCredentialsSchema>;

/**
 * Request from the gateway (connection popup) to the connector: check these credentials against the
 * provider. The connector answers with `connector.credentials.validated.v1` carrying the same requestId.
 * Routing key `connector.credentials.validate.v1`. Unordered.
 *
 * WARNING: carries secrets. Never log the payload; log `requestId` and `provider` only.
 */
export const connectorCredentialsValidateV1Schema = z
  .strictObject({
    /** UUID chosen by the gateway; correlates the reply. */
    requestId: z.uuid(),
    provider: providerSchema,
    /** Set when re-validating credentials of an existing channel account; absent in a new connection. */
    channelAccountId: channelAccountIdSchema.optional(),
    credentials: providerCredentialsSchema,
  })
  .superRefine((request, ctx) => {
    if (request.credentials.provider !== request.provider) {
      ctx.addIssue({ code: 'custom', path: ['credentials', 'provider'], message: 'must equal provider' });
    }
  });

export type ConnectorCredentialsValidateV1 = z.infer<typeof connectorCredentialsValidateV1Schema>;
