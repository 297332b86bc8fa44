import { describe, expect, it } from 'vitest';
import { Arena } from './arena.ts';

describe('Arena', () => {
  it('hands out zeroed, separate arrays, and zeroes memory it hands out again after a reset', () => {
    const arena = new Arena();
    const a = arena.f64(10).fill(7);
    const b = arena.i32(3).fill(-1);
    const c = arena.u8(5).fill(255);
    expect([...b]).toEqual([-1, -1, -1]);
    expect(a.every((x) => x === 7)).toBe(true);
    expect(c.every((x) => x === 255)).toBe(true);
    arena.reset();
    const again = arena.f64(10);
    expect(again.buffer).toBe(a.buffer);
    expect([...again]).toEqual(new Array(10).fill(0));
    expect([...arena.i32(3)]).toEqual([0, 0, 0]);
  });

  it('allocates what does not fit fresh, then grows to hold a whole suggestion after the reset', () => {
    const arena = new Arena();
    const small = arena.f64(100);
    const big = arena.f64(20_000);
    expect(big.buffer).not.toBe(small.buffer);
    expect(big.length).toBe(20_000);
    arena.reset();
    const first = arena.f64(100);
    const second = arena.f64(20_000);
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(800);
  });
});
