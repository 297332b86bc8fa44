import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx, readIdxFile } from './idx.ts';

describe('IDX reader', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);

  it('reads dimensions and values, plain or gzipped', () => {
    const plain = encodeIdx([2, 3, 4], data);
    for (const bytes of [plain, gzipSync(plain)]) {
      const t = parseIdx(bytes, 'x');
      expect(t.dims).toEqual([2, 3, 4]);
      expect([...t.data]).toEqual([...data]);
    }
  });

  it('rejects bad magic, other element types, and lengths that do not match the dimensions', () => {
    const good = encodeIdx([2, 3, 4], data);
    const badMagic = good.slice();
    badMagic[0] = 0x50;
    expect(() => parseIdx(badMagic, 'f.idx')).toThrow(/IDX file f\.idx: bad magic number 50 00 08 03/);
    const floats = good.slice();
    floats[2] = 0x0d;
    expect(() => parseIdx(floats, 'f.idx')).toThrow(/element type 0x0d \(float\) is not supported/);
    expect(() => parseIdx(good.subarray(0, good.length - 5), 'f.idx')).toThrow(
      /\[2, 3, 4\] need 24 data bytes but the file has 19 \(truncated\?\)/,
    );
    expect(() => parseIdx(Uint8Array.of(0, 0, 8, 3, 0, 0), 'f.idx')).toThrow(/too short for a header of 3 dimensions/);
    expect(() => parseIdx(Uint8Array.of(0, 0), 'f.idx')).toThrow(/too short for the 4-byte magic/);
    expect(() => parseIdx(Uint8Array.of(0x1f, 0x8b, 1, 2, 3), 'f.gz')).toThrow(/IDX file f\.gz: gzip data is corrupt/);
  });

  it('names the file it cannot read', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'idx-'));
    expect(() => readIdxFile(path.join(dir, 'missing-idx1-ubyte'))).toThrow(/cannot read IDX file .*missing-idx1-ubyte/);
    writeFileSync(path.join(dir, 'ok'), encodeIdx([3], Uint8Array.of(1, 2, 3)));
    expect(readIdxFile(path.join(dir, 'ok')).dims).toEqual([3]);
  });
});
