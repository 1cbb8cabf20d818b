/**
 * The digest kept in `forgotten_messages` of a published message's idempotency id once its thread was deleted in
 * HubSpot, as SQL over `column`: a Telegram idempotency id holds the customer's chat id, so it is not kept in the
 * clear. The publishing ledger counts a message whose digest is there as published already, so a redelivered old
 * customer message never starts a new thread.
 */
export const IDEMPOTENCY_DIGEST_SQL = (column: string): string =>
  `encode(sha256(convert_to(${column}, 'UTF8')), 'hex')`;
