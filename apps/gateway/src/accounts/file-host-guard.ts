import { isIP } from 'node:net';

/** `host`, `host:port` or `*.suffix` (any port for host names without one). */
export function hostMatches(pattern: string, url: URL): boolean {
  const hostname = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const [patternHost = '', patternPort] = pattern.split(/:(?=\d+$)/);
  if (patternPort !== undefined && patternPort !== portOf(url)) {
    return false;
  }
  if (patternHost.startsWith('*.')) {
    return hostname.endsWith(patternHost.slice(1)) && hostname.length > patternHost.length - 1;
  }
  return hostname === patternHost;
}

function portOf(url: URL): string {
  if (url.port !== '') {
    return url.port;
  }
  return url.protocol === 'https:' ? '443' : '80';
}

export interface FileHostPolicy {
  /** The configured HubSpot API origin: trusted as configured (the sandbox runs on loopback in development). */
  readonly apiOrigin: URL;
  /** Other allowed hosts (HubSpot's file CDN): HTTPS only, public addresses only. */
  readonly fileHosts: readonly string[];
}

export function fileHostPolicyOf(config: {
  readonly HUBSPOT_API_BASE_URL: string;
  readonly HUBSPOT_FILE_HOSTS: readonly string[];
}): FileHostPolicy {
  return { apiOrigin: new URL(config.HUBSPOT_API_BASE_URL), fileHosts: config.HUBSPOT_FILE_HOSTS };
}

export type FileUrlVerdict =
  | { readonly allowed: true; readonly trustedHost: boolean }
  | { readonly allowed: false; readonly reason: string };

/** Whether the gateway may fetch a signed file URL HubSpot gave it (engineering notes §10.4). */
export function checkFileUrl(raw: string, policy: FileHostPolicy): FileUrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { allowed: false, reason: 'not a URL' };
  }
  if (url.username !== '' || url.password !== '') {
    return { allowed: false, reason: 'credentials in the URL' };
  }
  if (url.protocol === policy.apiOrigin.protocol && url.host === policy.apiOrigin.host) {
    return { allowed: true, trustedHost: true };
  }
  if (url.protocol !== 'https:') {
    return { allowed: false, reason: `${url.protocol} is not allowed` };
  }
  if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) {
    return { allowed: false, reason: 'a literal IP address is not a HubSpot file host' };
  }
  if (!policy.fileHosts.some((pattern) => hostMatches(pattern, url))) {
    return { allowed: false, reason: `${url.hostname} is not an allowed file host` };
  }
  return { allowed: true, trustedHost: false };
}

/** Loopback, private, link-local (cloud metadata), CGNAT, multicast and reserved ranges. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return !(
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 192 && b === 0) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  if (family === 6) {
    const lower = address.toLowerCase();
    if (lower.startsWith('::ffff:')) {
      return isPublicAddress(lower.slice(7));
    }
    return !(
      lower === '::' ||
      lower === '::1' ||
      lower.startsWith('fc') ||
      lower.startsWith('fd') ||
      lower.startsWith('fe8') ||
      lower.startsWith('fe9') ||
      lower.startsWith('fea') ||
      lower.startsWith('feb') ||
      lower.startsWith('ff')
    );
  }
  return false;
}
