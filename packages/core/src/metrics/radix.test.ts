import { describe, expect, it } from 'vitest';
import { Rng } from '../space/random.ts';
import { orderKey, radixSort, sortByUpperHalf } from './radix.ts';

describe('orderKey', () => {
  it('orders float32 bit patterns like the floats, with -0 equal to +0', () => {
    const values = Float32Array.of(Number.NEGATIVE_INFINITY, -3e38, -1, -1e-40, -0, 0, 1e-45, 0.5, 1, 3e38, Number.POSITIVE_INFINITY);
    const keys = Array.from(new Uint32Array(values.buffer), orderKey);
    for (let i = 1; i < keys.length; i++) {
      if (values[i] === values[i - 1]) expect(keys[i]).toBe(keys[i - 1]);
      else expect(keys[i]!).toBeGreaterThan(keys[i - 1]!);
    }
  });
});

describe('sortByUpperHalf', () => {
  it('sorts segments of every size by their upper 16 bits, in place or in scratch', () => {
    const rng = new Rng(5);
    const counts = new Uint32Array(512);
    for (const [m, spread] of [
      [5, 0xffff],
      [40, 3],
      [1000, 0xff],
      [5000, 0xffff],
      [3000, 0],
    ] as const) {
      const values = new Uint32Array(m + 20);
      for (let i = 0; i < values.length; i++) values[i] = (((1000 + rng.int(spread + 1)) << 16) | rng.int(0x10000)) >>> 0;
      const original = values.slice();
      const scratch = new Uint32Array(m);
      const inScratch = sortByUpperHalf(values, scratch, 10, 10 + m, counts);
      const sorted = inScratch ? scratch.slice(0, m) : values.slice(10, 10 + m);
      const upper = Array.from(sorted, (v) => v >>> 16);
      expect(upper).toEqual([...upper].sort((a, b) => a - b));
      // The same values (a permutation), and nothing outside the segment touched.
      expect(Array.from(sorted).sort()).toEqual(Array.from(original.slice(10, 10 + m)).sort());
      expect(values.slice(0, 10)).toEqual(original.slice(0, 10));
      expect(values.slice(10 + m)).toEqual(original.slice(10 + m));
    }
  });
});

describe('radixSort', () => {
  it('sorts 64-bit keys with their payloads, stably', () => {
    const rng = new Rng(8);
    const n = 5000;
    const hi = Uint32Array.from({ length: n }, () => rng.int(4) * 0x40000000 + rng.int(3));
    const lo = Uint32Array.from({ length: n }, () => rng.uint32() >>> rng.int(32));
    const payload = Uint16Array.from({ length: n }, (_, i) => i % 65536);
    const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || a - b);
    const sorted = radixSort({ hi: hi.slice(), lo: lo.slice(), payload });
    expect(Array.from(sorted.payload)).toEqual(expected);
    expect(Array.from(sorted.hi)).toEqual(expected.map((i) => hi[i]));
    expect(Array.from(sorted.lo!)).toEqual(expected.map((i) => lo[i]));
  });
});
