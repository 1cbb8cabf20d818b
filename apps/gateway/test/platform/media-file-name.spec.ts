import { describe, expect, it } from '@jest/globals';
import { extensionForMimeType, uploadFileName } from '../../src/platform/publishing/media-file-name.js';

const named = (providerFileName: string | undefined, mimeType: string, kind = 'file'): string =>
  uploadFileName({ providerFileName, mimeType, kind, providerMessageId: '1000001:5', index: 0 });

describe('uploaded file names', () => {
  it.each([
    ['image/jpeg', 'jpg'],
    ['image/png', 'png'],
    ['image/gif', 'gif'],
    ['image/webp', 'webp'],
    ['audio/ogg', 'ogg'],
    ['audio/ogg; codecs=opus', 'ogg'],
    ['audio/mpeg', 'mp3'],
    ['audio/mp4', 'm4a'],
    ['video/mp4', 'mp4'],
    ['VIDEO/QuickTime', 'mov'],
    ['video/webm', 'webm'],
    ['application/pdf', 'pdf'],
    ['text/plain', 'txt'],
  ])('%s → .%s', (mimeType, extension) => {
    expect(extensionForMimeType(mimeType)).toBe(extension);
  });

  it('knows no extension for an unknown type', () => {
    expect(extensionForMimeType('application/octet-stream')).toBeUndefined();
    expect(extensionForMimeType('')).toBeUndefined();
  });

  it('gives a nameless attachment a safe base and the extension of its type', () => {
    expect(named(undefined, 'video/mp4', 'video')).toBe('video-1000001-5-0.mp4');
    expect(named(undefined, 'audio/ogg', 'voice-note')).toBe('voice-note-1000001-5-0.ogg');
    expect(named('  ', 'image/jpeg', 'image')).toBe('image-1000001-5-0.jpg');
    expect(named(undefined, 'application/octet-stream')).toBe('file-1000001-5-0');
  });

  it('adds the extension to a provider name lacking one, and keeps a name that has one', () => {
    expect(named('holiday', 'image/png')).toBe('holiday.png');
    expect(named('report.PDF', 'application/pdf')).toBe('report.PDF');
    expect(named('notes.txt', 'application/octet-stream')).toBe('notes.txt');
    expect(named('archive', 'application/octet-stream')).toBe('archive');
  });
});
