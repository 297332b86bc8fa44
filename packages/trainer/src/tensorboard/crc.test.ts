import { crc32c as awsCrc32c } from '@aws-crypto/crc32c';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c } from './crc.ts';
import { FIXTURES_DIR, fixtureFiles } from './fixtures.ts';

describe('crc32c', () => {
  it('gives the CRC-32C check value for "123456789"', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('agrees with @aws-crypto/crc32c on random data of every length up to 300 bytes and at offsets', () => {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let n = 0; n <= 300; n++) {
      const data = Uint8Array.from({ length: n + 7 }, next);
      expect(crc32c(data, 0, n)).toBe(awsCrc32c(data.subarray(0, n)));
      expect(crc32c(data, 3, n + 3)).toBe(awsCrc32c(data.subarray(3, n + 3)));
    }
  });

  it('masks as TFRecord does: the stored CRCs of a real event file record match', () => {
    const bytes = readFileSync(join(FIXTURES_DIR, 'torch', fixtureFiles('torch')[0]!));
    const length = Number(bytes.readBigUInt64LE(0));
    expect(maskedCrc32c(bytes, 0, 8)).toBe(bytes.readUInt32LE(8));
    expect(maskedCrc32c(bytes, 12, 12 + length)).toBe(bytes.readUInt32LE(12 + length));
    expect(maskedCrc32c(bytes, 0, 8)).not.toBe(crc32c(bytes, 0, 8));
  });
});
