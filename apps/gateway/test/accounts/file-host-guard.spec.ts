import { describe, expect, it } from '@jest/globals';
import { checkFileUrl, hostMatches, isPublicAddress } from '../../src/accounts/file-host-guard.js';

const policy = {
  apiOrigin: new URL('http://127.0.0.1:4010'),
  fileHosts: ['*.hubspotusercontent-na1.net', 'cdn.example.com:8443'],
};

describe('file host guard (SSRF)', () => {
  it('trusts the configured API origin as configured, even on loopback', () => {
    expect(checkFileUrl('http://127.0.0.1:4010/hubfs/1/a.png?Signature=x', policy)).toEqual({
      allowed: true,
      trustedHost: true,
    });
    expect(checkFileUrl('http://127.0.0.1:4011/hubfs/1/a.png', policy)).toMatchObject({ allowed: false });
  });

  it('allows HubSpot CDN hosts over HTTPS only, never literal IPs, credentials or other hosts', () => {
    expect(checkFileUrl('https://f.hubspotusercontent-na1.net/a.png', policy)).toEqual({
      allowed: true,
      trustedHost: false,
    });
    expect(checkFileUrl('http://f.hubspotusercontent-na1.net/a.png', policy)).toMatchObject({
      allowed: false,
    });
    expect(checkFileUrl('https://hubspotusercontent-na1.net.evil.com/a', policy)).toMatchObject({
      allowed: false,
    });
    expect(checkFileUrl('https://169.254.169.254/latest/meta-data', policy)).toMatchObject({
      allowed: false,
    });
    expect(checkFileUrl('https://[::1]/x', policy)).toMatchObject({ allowed: false });
    expect(checkFileUrl('https://user:pw@f.hubspotusercontent-na1.net/a', policy)).toMatchObject({
      allowed: false,
    });
    expect(checkFileUrl('https://cdn.example.com/a', policy)).toMatchObject({ allowed: false });
    expect(checkFileUrl('https://cdn.example.com:8443/a', policy)).toMatchObject({ allowed: true });
    expect(checkFileUrl('file:///etc/passwd', policy)).toMatchObject({ allowed: false });
  });

  it('matches wildcard suffixes on a label boundary only', () => {
    expect(hostMatches('*.hubspot.net', new URL('https://a.hubspot.net'))).toBe(true);
    expect(hostMatches('*.hubspot.net', new URL('https://evilhubspot.net'))).toBe(false);
    expect(hostMatches('*.hubspot.net', new URL('https://hubspot.net'))).toBe(false);
  });

  it('treats private, loopback, link-local, CGNAT and multicast addresses as not public', () => {
    for (const address of [
      '10.1.2.3',
      '127.0.0.1',
      '169.254.169.254',
      '172.20.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ]) {
      expect([address, isPublicAddress(address)]).toEqual([address, false]);
    }
    expect(isPublicAddress('104.16.0.1')).toBe(true);
    expect(isPublicAddress('2606:4700::1')).toBe(true);
  });
});
