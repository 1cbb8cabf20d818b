import { describe, expect, it } from '@jest/globals';
import { oggCrc, silentOggOpus } from './ogg-opus.js';

/** Splits an Ogg stream into pages: [header type, granule, sequence, CRC ok, payload]. */
function pages(bytes: Buffer) {
  const result: { flags: number; granule: bigint; sequence: number; crcOk: boolean; payload: Buffer }[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    expect(bytes.toString('latin1', offset, offset + 4)).toBe('OggS');
    const count = bytes.readUInt8(offset + 26);
    const table = [...bytes.subarray(offset + 27, offset + 27 + count)];
    const length = 27 + count + table.reduce((sum, value) => sum + value, 0);
    const pageBytes = Buffer.from(bytes.subarray(offset, offset + length));
    const crc = pageBytes.readUInt32LE(22);
    pageBytes.writeUInt32LE(0, 22);
    result.push({
      flags: bytes.readUInt8(offset + 5),
      granule: bytes.readBigInt64LE(offset + 6),
      sequence: bytes.readUInt32LE(offset + 18),
      crcOk: oggCrc(pageBytes) === crc,
      payload: bytes.subarray(offset + 27 + count, offset + length),
    });
    offset += length;
  }
  return result;
}

describe('silentOggOpus', () => {
  it('computes the Ogg CRC-32 (poly 0x04C11DB7, init 0, no reflection: check value 0x89A1897F)', () => {
    expect(oggCrc(Buffer.alloc(0))).toBe(0);
    // CRC-32/MPEG-2 without its init/xor: the check value of "123456789" for poly 0x04C11DB7, init 0, no reflection.
    expect(oggCrc(Buffer.from('123456789', 'latin1'))).toBe(0x89a1897f);
  });

  it('writes OpusHead, OpusTags and one audio page with valid CRCs, flags and the final granule', () => {
    const stream = silentOggOpus(1_000);
    const [head, tags, audio, ...rest] = pages(stream);
    expect(rest).toEqual([]);
    expect([head?.flags, tags?.flags, audio?.flags]).toEqual([0x02, 0, 0x04]);
    expect([head?.sequence, tags?.sequence, audio?.sequence]).toEqual([0, 1, 2]);
    expect([head, tags, audio].every((item) => item?.crcOk)).toBe(true);
    expect(head?.payload.toString('latin1', 0, 8)).toBe('OpusHead');
    expect(head?.payload.readUInt8(9)).toBe(1);
    expect(head?.payload.readUInt32LE(12)).toBe(48_000);
    expect(tags?.payload.toString('latin1', 0, 8)).toBe('OpusTags');
    expect(audio?.payload.length).toBe(50 * 3);
    expect(audio?.granule).toBe(BigInt(312 + 50 * 960));
  });
});
