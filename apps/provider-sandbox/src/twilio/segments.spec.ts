import { describe, expect, it } from '@jest/globals';
import { smsSegments } from './segments.js';

describe('smsSegments (reference §2.9)', () => {
  it('counts GSM-7 septets, with extension characters costing two', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('a'.repeat(161)).segments).toBe(2);
    expect(smsSegments('a'.repeat(306)).segments).toBe(2);
    expect(smsSegments('a'.repeat(307)).segments).toBe(3);
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
  });

  it('switches the whole body to UCS-2 for one non-GSM character', () => {
    expect(smsSegments('¿tienen la factura?').encoding).toBe('GSM-7');
    expect(smsSegments(`${'a'.repeat(69)}ç`)).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments(`${'a'.repeat(70)}ç`).segments).toBe(2);
    expect(smsSegments('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
  });
});
