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

/**
 * How the port of a signed URL is written (§2.7: Twilio has signed some requests with the port and some without):
 * `as_configured`, `without_port` (any port removed) or `with_port` (the scheme's default port added when none).
 */
export type SignatureUrlPort = 'as_configured' | 'without_port' | 'with_port';

const AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*))(?::(\d*))?/i;

/** The URL to sign for a request to `url`: only the port changes, the rest stays exactly as configured. */
export function signedUrl(url: string, port: SignatureUrlPort): string {
  const match = AUTHORITY.exec(url);
  if (port === 'as_configured' || match === null) {
    return url;
  }
  const [authority = '', host = '', given] = match;
  const rest = url.slice(authority.length);
  if (port === 'without_port') {
    return host + rest;
  }
  const defaultPort = host.toLowerCase().startsWith('https:') ? '443' : '80';
  return given === undefined || given === '' ? `${host}:${defaultPort}${rest}` : url;
}
