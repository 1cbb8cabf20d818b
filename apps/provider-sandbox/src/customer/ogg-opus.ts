/**
 * A minimal Ogg Opus writer (RFC 7845) for the customer page's sample voice note: mono, 48 kHz, made of 20 ms
 * Opus packets that decode to silence, so it is a real, playable `audio/ogg` file without an encoder or a
 * committed binary.
 */

/** An Opus packet: TOC 0xF8 (CELT fullband, 20 ms, mono, one frame) and a frame that decodes to silence. */
const SILENT_PACKET = Buffer.from([0xf8, 0xff, 0xfe]);
const SAMPLES_PER_PACKET = 960;
const PRE_SKIP = 312;
const SERIAL = 0x1b_5a_d0_0d;

const CRC_TABLE = Array.from({ length: 256 }, (_, index) => {
  let crc = index << 24;
  for (let bit = 0; bit < 8; bit += 1) {
    crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
});

/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final XOR. */
export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] ?? 0)) >>> 0;
  }
  return crc;
}

function page(packets: readonly Buffer[], flags: number, granule: bigint, sequence: number): Buffer {
  const segments: number[] = [];
  for (const packet of packets) {
    let remaining = packet.length;
    while (remaining >= 255) {
      segments.push(255);
      remaining -= 255;
    }
    segments.push(remaining);
  }
  const header = Buffer.alloc(27 + segments.length);
  header.write('OggS', 0, 'latin1');
  header.writeUInt8(0, 4);
  header.writeUInt8(flags, 5);
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(SERIAL, 14);
  header.writeUInt32LE(sequence, 18);
  header.writeUInt8(segments.length, 26);
  Buffer.from(segments).copy(header, 27);
  const bytes = Buffer.concat([header, ...packets]);
  bytes.writeUInt32LE(oggCrc(bytes), 22);
  return bytes;
}

/** A silent mono Ogg Opus stream of `durationMs` (rounded to 20 ms; at most about 5 s, one audio page). */
export function silentOggOpus(durationMs: number): Buffer {
  const packetCount = Math.min(250, Math.max(1, Math.round(durationMs / 20)));
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head.writeUInt8(1, 8);
  head.writeUInt8(1, 9);
  head.writeUInt16LE(PRE_SKIP, 10);
  head.writeUInt32LE(48_000, 12);
  head.writeInt16LE(0, 16);
  head.writeUInt8(0, 18);
  const vendor = Buffer.from('inbox-bridge provider-sandbox', 'utf8');
  const tags = Buffer.alloc(16 + vendor.length);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length);
  const audio = Array.from({ length: packetCount }, () => SILENT_PACKET);
  const granule = BigInt(PRE_SKIP + packetCount * SAMPLES_PER_PACKET);
  return Buffer.concat([page([head], 0x02, 0n, 0), page([tags], 0, 0n, 1), page(audio, 0x04, granule, 2)]);
}
