import { createHmac } from 'node:crypto';

/** Form parameters as Twilio posts them: a repeated name carries several values. */
export type TwilioParams = Readonly<Record<string, string | readonly string[]>>;

/**
 * `X-Twilio-Signature` (reference §2.7): the URL exactly as configured, then every parameter name followed
 * by its value, names sorted in code-unit order (a repeated name contributes each distinct value, sorted),
 * HMAC-SHA1 keyed with the account's auth token, base64.
 */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    const values = typeof value === 'string' ? [value] : [...new Set(value)].sort();
    for (const item of values) {
      data += key + item;
    }
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}
