import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkFileUrl, isPublicAddress, type FileHostPolicy } from './file-host-guard.js';

export class FileHostRefused extends Error {
  constructor(readonly reason: string) {
    super(`refused to fetch the HubSpot file: ${reason}`);
    this.name = 'FileHostRefused';
  }
}

const MAX_REDIRECTS = 3;

/** Resolves like `dns.lookup`, then refuses non-public addresses, so DNS rebinding cannot reach the inside. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error !== null) {
      callback(error, '', 0);
      return;
    }
    const usable = addresses.filter((entry) => isPublicAddress(entry.address));
    const first = usable[0];
    if (first === undefined) {
      callback(
        Object.assign(new Error(`${hostname} resolves to no public address`), { code: 'EADDRNOTPUBLIC' }),
        '',
        0,
      );
      return;
    }
    if (options.all === true) {
      (callback as unknown as (err: null, all: LookupAddress[]) => void)(null, usable);
      return;
    }
    callback(null, first.address, first.family);
  });
};

function get(url: URL, trustedHost: boolean, timeoutMs: number): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: 'GET', timeout: timeoutMs, ...(trustedHost ? {} : { lookup: publicOnlyLookup }) },
      resolve,
    );
    outgoing.on('timeout', () =>
      outgoing.destroy(new Error(`HubSpot file host timed out after ${timeoutMs} ms`)),
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/**
 * Fetches a HubSpot signed file URL behind the SSRF guard: allowed hosts only (re-checked on every
 * redirect), public addresses only for hosts other than the configured API origin, no credentials
 * forwarded, a connect/read timeout. The caller streams the answer's body.
 */
export async function fetchHubSpotFile(
  rawUrl: string,
  policy: FileHostPolicy,
  timeoutMs = 30_000,
): Promise<IncomingMessage> {
  let current = rawUrl;
  for (let hop = 0; ; hop += 1) {
    const verdict = checkFileUrl(current, policy);
    if (!verdict.allowed) {
      throw new FileHostRefused(verdict.reason);
    }
    const response = await get(new URL(current), verdict.trustedHost, timeoutMs);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location !== undefined) {
      response.resume();
      if (hop >= MAX_REDIRECTS) {
        throw new FileHostRefused('too many redirects');
      }
      current = new URL(location, current).toString();
      continue;
    }
    return response;
  }
}
