import { createHmac, timingSafeEqual } from 'node:crypto';

export type TwilioParams = Readonly<Record<string, readonly string[]>>;

/** Form parameters in arrival order, repeated names kept (Twilio signs every value). */
export function parseTwilioForm(rawBody: Buffer): TwilioParams {
  const params: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(rawBody.toString('utf8'))) {
    (params[name] ??= []).push(value);
  }
  return params;
}

/** providers-api.md §2.7: base64(HMAC-SHA1(authToken, url + sorted name+value pairs)). */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const values = params[name] ?? [];
    for (const value of values.length > 1 ? [...new Set(values)].sort() : values) {
      data += name + value;
    }
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Twilio has signed some callbacks with the port and some without: accept both forms (§2.7). */
export function urlVariants(url: string): string[] {
  const parsed = new URL(url);
  const withoutPort = new URL(url);
  withoutPort.port = '';
  const defaultPort = parsed.protocol === 'https:' ? '443' : '80';
  const withPort =
    parsed.port === ''
      ? `${parsed.protocol}//${parsed.host}:${defaultPort}${parsed.pathname}${parsed.search}`
      : parsed.toString();
  return [...new Set([url, withoutPort.toString(), withPort])];
}

/** Checks `X-Twilio-Signature` against every URL variant, in constant time. */
export function isValidTwilioSignature(
  authToken: string,
  header: string | undefined,
  url: string,
  params: TwilioParams,
): boolean {
  if (header === undefined || header === '') {
    return false;
  }
  const given = Buffer.from(header, 'utf8');
  return urlVariants(url).some((candidate) => {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params), 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}
