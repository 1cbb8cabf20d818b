import { z } from 'zod';
import { deliveryIdentifierSchema, shortTextSchema } from '../common.js';

/**
 * The connector's answer to `connector.credentials.validate.v2` (and v1).
 * Routing key `connector.credentials.validated.v1`. Unordered.
 */
export const connectorCredentialsValidatedV1Schema = z
  .strictObject({
    /** requestId of the validate request this answers. */
    requestId: z.uuid(),
    ok: z.boolean(),
    /** Suggested account name, e.g. the Telegram bot's name or Twilio number's friendly name. */
    accountName: shortTextSchema.optional(),
    /** The account's own address to register in HubSpot, e.g. the bot id or the Twilio number. */
    deliveryIdentifier: deliveryIdentifierSchema.optional(),
    /** Present exactly when ok is false. */
    error: z
      .strictObject({
        /** Stable machine code, e.g. `invalid-credentials`, `number-not-on-account`, `provider-unavailable`. */
        code: z
          .string()
          .max(64)
          .regex(/^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/i, 'must be a code such as invalid-credentials'),
        /** Human-readable message shown in the connection popup. */
        message: shortTextSchema,
      })
      .optional(),
  })
  .superRefine((reply, ctx) => {
    if (!reply.ok && reply.error === undefined) {
      ctx.addIssue({ code: 'custom', path: ['error'], message: 'required when ok is false' });
    }
    if (reply.ok && reply.error !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['error'], message: 'must be absent when ok is true' });
    }
  });

export type ConnectorCredentialsValidatedV1 = z.infer<typeof connectorCredentialsValidatedV1Schema>;
