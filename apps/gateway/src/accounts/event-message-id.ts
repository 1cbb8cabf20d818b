import { createHash } from 'node:crypto';

/**
 * A UUID derived from the stored webhook and what is published for it, so processing the same event twice
 * (an expired lease) publishes the same message id and consumers' inbox dedupe drops the copy.
 */
export function eventMessageId(storedEventId: string, routingKey: string): string {
  const hex = createHash('sha256').update(`hubspot-webhook:${storedEventId}:${routingKey}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
