import { describe, expect, it } from '@jest/globals';
import { parseAdminTokens, portalOfBearer, portalOfToken } from './admin-tokens.js';

describe('admin tokens', () => {
  const entries = parseAdminTokens('101:token-for-portal-101, 202:token-for-portal-202');

  it('finds the portal of a token and nothing for an unknown or partial one', () => {
    expect(portalOfToken(entries, 'token-for-portal-101')).toBe(101);
    expect(portalOfToken(entries, 'token-for-portal-202')).toBe(202);
    expect(portalOfToken(entries, 'token-for-portal-10')).toBeUndefined();
    expect(portalOfToken(entries, '')).toBeUndefined();
  });

  it('reads the token of a bearer header only', () => {
    expect(portalOfBearer(entries, 'Bearer token-for-portal-202')).toBe(202);
    expect(portalOfBearer(entries, undefined)).toBeUndefined();
    expect(portalOfBearer(entries, 'Bearer ')).toBeUndefined();
    expect(portalOfBearer(entries, 'Basic token-for-portal-202')).toBeUndefined();
  });

  it('rejects malformed entries naming their position', () => {
    expect(() => parseAdminTokens('abc:token-for-portal-101')).toThrow(/entry 1/);
    expect(() => parseAdminTokens('101:short')).toThrow(/entry 1 has a token shorter/);
    expect(parseAdminTokens('')).toEqual([]);
  });

  it('refuses portal ids that are 0 or beyond a safe integer (they would name another portal)', () => {
    expect(() => parseAdminTokens('0:token-for-portal-zero')).toThrow(/entry 1 must start/);
    expect(() =>
      parseAdminTokens('101:token-for-portal-101,9007199254740993:token-for-a-rounded-portal'),
    ).toThrow(/entry 2 must start/);
  });
});
