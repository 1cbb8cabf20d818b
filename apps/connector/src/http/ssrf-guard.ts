import { BlockList, isIP } from 'node:net';

/**
 * Address ranges no provider-supplied URL may reach: loopback, private, carrier-grade NAT, link-local (cloud
 * metadata at 169.254.169.254 and fd00:ec2::254), documentation, multicast and reserved ranges.
 */
const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`), else undefined. */
function mappedIpv4(address: string): string | undefined {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return match?.[1];
}

/** True when `address` (an IP literal) is a public unicast address a server may call out to. */
export function isPublicAddress(address: string): boolean {
  const unbracketed = address.replace(/^\[|\]$/g, '');
  const family = isIP(unbracketed);
  if (family === 0) {
    return false;
  }
  if (family === 6) {
    const v4 = mappedIpv4(unbracketed);
    if (v4 !== undefined) {
      return !blocked.check(v4, 'ipv4');
    }
    return !blocked.check(unbracketed, 'ipv6');
  }
  return !blocked.check(unbracketed, 'ipv4');
}

export class SsrfBlockedError extends Error {
  override readonly name = 'SsrfBlockedError';
  constructor(
    readonly host: string,
    reason: string,
  ) {
    super(`refused to call ${host}: ${reason}`);
  }
}

/**
 * Host allow-list check: `hostname` as URL.hostname gives it (IPv6 in brackets), compared lower-case. `*`
 * allows every host (the client for the bridge's own internal services, whose URLs come from configuration).
 */
export function isAllowedHost(hostname: string, allowedHosts: readonly string[]): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return allowedHosts.includes('*') || allowedHosts.includes(host);
}
