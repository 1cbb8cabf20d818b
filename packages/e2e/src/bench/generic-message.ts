import { createHmac } from 'node:crypto';
import type { LoadRequest } from './load.js';

/** A customer message in the generic webhook format (docs/providers/generic-webhook.md §3), signed. */
export function signedGenericMessage(options: {
  readonly url: string;
  readonly secret: string;
  readonly id: string;
  readonly conversationId: string;
  readonly sentAt: Date;
  readonly text: string;
}): LoadRequest {
  const body = JSON.stringify({
    specVersion: '1',
    type: 'message',
    message: {
      id: options.id,
      conversationId: options.conversationId,
      sender: { id: `customer-${options.conversationId}`, name: `Customer ${options.conversationId}` },
      sentAt: options.sentAt.toISOString(),
      text: options.text,
    },
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', options.secret).update(`${timestamp}.${body}`).digest('hex');
  return {
    url: options.url,
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-signature': `t=${timestamp},v1=${signature}`,
    },
    body,
  };
}

export interface GenericMessageBody {
  readonly message: {
    readonly id: string;
    readonly conversationId: string;
    readonly sender: { readonly id: string; readonly name?: string };
    readonly sentAt: string;
    readonly text?: string;
  };
}
