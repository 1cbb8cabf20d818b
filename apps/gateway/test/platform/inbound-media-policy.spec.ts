import { describe, expect, it } from '@jest/globals';
import {
  effectiveMimeType,
  inboundMediaRefusal,
  normaliseMimeType,
  type InboundMediaLimits,
} from '../../src/platform/publishing/inbound-media-policy.js';

const MB = 1024 * 1024;

const limits: InboundMediaLimits = {
  allowedMimeTypes: ['image/jpeg', 'image/png', 'audio/ogg', 'application/pdf'],
  maxFileBytes: 5 * MB,
  maxTotalBytes: 5 * MB,
  maxFileCount: 10,
};

describe('normaliseMimeType', () => {
  it('lower-cases, drops parameters and treats blank as absent', () => {
    expect(normaliseMimeType('Image/PNG; charset=binary')).toBe('image/png');
    expect(normaliseMimeType('  ')).toBeUndefined();
    expect(normaliseMimeType(null)).toBeUndefined();
  });
});

describe('effectiveMimeType', () => {
  it("prefers the message's declared type when the connector answers octet-stream or nothing", () => {
    expect(effectiveMimeType('application/octet-stream', 'image/png')).toBe('image/png');
    expect(effectiveMimeType('Application/Octet-Stream; q=1', 'image/png')).toBe('image/png');
    expect(effectiveMimeType(null, 'audio/ogg')).toBe('audio/ogg');
    expect(effectiveMimeType('', 'audio/ogg')).toBe('audio/ogg');
  });

  it("keeps the connector's answer when it names a real type", () => {
    expect(effectiveMimeType('image/jpeg', 'image/png')).toBe('image/jpeg');
    expect(effectiveMimeType('audio/ogg; codecs=opus', 'audio/mpeg')).toBe('audio/ogg');
  });
});

describe('inboundMediaRefusal', () => {
  it('accepts a declared type within the limits, whatever the case or parameters', () => {
    expect(inboundMediaRefusal({ mimeType: 'image/jpeg', sizeBytes: MB }, limits)).toBeUndefined();
    expect(inboundMediaRefusal({ mimeType: 'IMAGE/PNG; x=y' }, limits)).toBeUndefined();
  });

  it('refuses a type the channel does not declare, naming it and what to do', () => {
    const reason = inboundMediaRefusal({ mimeType: 'application/x-msdownload', sizeBytes: 10 }, limits);
    expect(reason).toMatch(/does not accept application\/x-msdownload files/);
    expect(reason).toMatch(/ask the customer/);
  });

  it('refuses a file over the per-file limit, and one that takes the message over its total', () => {
    expect(inboundMediaRefusal({ mimeType: 'image/png', sizeBytes: 6 * MB }, limits)).toBe(
      "larger than the channel's 5 MB file limit",
    );
    expect(inboundMediaRefusal({ mimeType: 'image/png', sizeBytes: 2 * MB }, limits, 4 * MB)).toMatch(
      /over the channel's 5 MB limit per message/,
    );
    expect(inboundMediaRefusal({ mimeType: 'image/png', sizeBytes: 2 * MB }, limits, 3 * MB)).toBeUndefined();
  });

  it('declares no limit with an empty list and zero sizes', () => {
    const open: InboundMediaLimits = {
      allowedMimeTypes: [],
      maxFileBytes: 0,
      maxTotalBytes: 0,
      maxFileCount: 0,
    };
    expect(
      inboundMediaRefusal({ mimeType: 'video/webm', sizeBytes: 500 * MB }, open, 500 * MB),
    ).toBeUndefined();
  });
});
