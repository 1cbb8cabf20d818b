import { readFileSync } from 'node:fs';
import { silentOggOpus } from './ogg-opus.js';

/** A file the customer page attaches: its bytes, MIME type and a file name. */
export interface SampleMedia {
  readonly bytes: Buffer;
  readonly mimeType: string;
  readonly fileName: string;
}

/** The kinds of message the customer page sends. */
export const PAGE_KINDS = ['text', 'photo', 'voice', 'sticker', 'video', 'location'] as const;
export type PageKind = (typeof PAGE_KINDS)[number];

/** Where the customer "is" when sharing a location (Berlin, Alexanderplatz). */
export const SAMPLE_LOCATION = { latitude: 52.521918, longitude: 13.413215 } as const;

/**
 * Tiny real media files, loaded once: a 320×240 JPEG, a 256×256 WebP sticker (128×128 PNG for MMS, which
 * has no WebP), a 1.6 s H.264 MP4 (all four committed under `assets/`, made with Chromium's canvas and
 * MediaRecorder), and a 1 s silent Ogg Opus voice note generated here.
 */
export class Samples {
  readonly photo = asset('photo.jpg', 'image/jpeg');
  readonly sticker = asset('sticker.webp', 'image/webp');
  readonly stickerPng = asset('sticker.png', 'image/png');
  readonly video = asset('video.mp4', 'video/mp4');
  readonly voice: SampleMedia = { bytes: silentOggOpus(1_000), mimeType: 'audio/ogg', fileName: 'voice.ogg' };

  /** What an iPhone attaches to an MMS when sharing a location: a vCard whose URL opens the map. */
  readonly locationCard: SampleMedia = {
    bytes: Buffer.from(
      [
        'BEGIN:VCARD',
        'VERSION:3.0',
        'N:;Current Location;;;',
        'FN:Current Location',
        `item1.URL;type=pref:https://maps.apple.com/?ll=${SAMPLE_LOCATION.latitude}\\,${SAMPLE_LOCATION.longitude}&q=${SAMPLE_LOCATION.latitude}\\,${SAMPLE_LOCATION.longitude}`,
        'item1.X-ABLabel:map url',
        'END:VCARD',
        '',
      ].join('\r\n'),
      'utf8',
    ),
    mimeType: 'text/vcard',
    fileName: 'Current Location.loc.vcf',
  };
}

function asset(fileName: string, mimeType: string): SampleMedia {
  // `src/customer` and `dist/customer` are both two levels below the app, next to `assets/`.
  return { bytes: readFileSync(new URL(`../../assets/${fileName}`, import.meta.url)), mimeType, fileName };
}
