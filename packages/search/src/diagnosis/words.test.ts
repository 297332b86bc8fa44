import { describe, expect, it } from 'vitest';
import { pct } from './words.ts';

describe('pct', () => {
  it('gives 3 significant digits, 2 below 10 %, and an exponent for the tiny and the huge', () => {
    expect(pct(0)).toBe('0 %');
    expect(pct(2.2)).toBe('220 %');
    expect(pct(0.0625)).toBe('6.3 %');
    expect(pct(1e-6)).toBe('1.0e-4 %');
    expect(pct(9876)).toBe('988000 %');
    // A diverged trial's kernel movement (SGD at lr 100): not "142000000000000000 %".
    expect(pct(1.42e15)).toBe('1.4e+17 %');
  });
});
