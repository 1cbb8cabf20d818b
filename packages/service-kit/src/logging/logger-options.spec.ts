import { describe, expect, it } from '@jest/globals';
import { redactUrl } from './logger-options.js';

describe('redactUrl', () => {
  it('replaces the values of credential parameters, whatever their case or count, and keeps the rest', () => {
    expect(redactUrl('/crm/v3/owners?hapikey=k1&appId=7&HAPIKEY=k2&code=c')).toBe(
      '/crm/v3/owners?hapikey=%5Bredacted%5D&appId=7&HAPIKEY=%5Bredacted%5D&code=%5Bredacted%5D',
    );
    expect(redactUrl('/ui/1/settings?accountToken=t&state=s')).toBe(
      '/ui/1/settings?accountToken=%5Bredacted%5D&state=s',
    );
  });

  it('leaves a URL without credentials exactly as it was', () => {
    expect(redactUrl('/things/1')).toBe('/things/1');
    expect(redactUrl('/things/1?limit=10&after=a%20b')).toBe('/things/1?limit=10&after=a%20b');
  });
});
