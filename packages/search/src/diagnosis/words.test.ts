import { describe, expect, it } from 'vitest';
import { formatRate, formatRateAmong, formatRateBeside, pct, rangeOf, valInUnit } from './words.ts';

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

describe('valInUnit', () => {
  it('is val inside [0, 1], and outside shows as outside: 1.004, not 1; -1.0e-4, not 0', () => {
    expect([0.5, 1, 0.99951, 1.0044, 1.00001, -0.0001, -0.0004, 1.2, Number.NaN].map(valInUnit)).toEqual([
      '0.5',
      '1',
      '1',
      '1.004',
      '1.00001',
      '-1.0e-4',
      '-4.0e-4',
      '1.2',
      'NaN',
    ]);
  });
});

describe('formatRate and rangeOf', () => {
  it('writes rates with 2 significant digits, an exponent outside 1e-3 … 1e4', () => {
    expect([5.5e-6, 1e-4, 0.01, 0.3, 300, 1.2e4, 2e-5, 3.33e-5].map((x) => formatRate(x))).toEqual([
      '5.5e-6',
      '1e-4',
      '0.01',
      '0.3',
      '300',
      '1.2e4',
      '2e-5',
      '3.3e-5',
    ]);
  });

  it("gives a peer's rate the digits it takes not to read as the trial's own", () => {
    // A review: "Learning rate 0.01: … 1 a lower one (0.01)" of a peer at 0.00996.
    expect(rangeOf([0.00996], 0.01)).toBe('0.00996');
    expect(rangeOf([0.00996, 0.0046], 0.01)).toBe('0.0046 … 0.00996');
    expect(formatRateBeside(1.02e-5, 1e-5)).toBe('1.02e-5');
    expect(formatRateBeside(1.0001e-5, 1e-5)).toBe('1.0001e-5');
    // Either way round, and read as numbers: 9.996e-4 and 0.001 both read "0.001" at 2 digits.
    expect(formatRateBeside(0.01, 0.00996)).toBe('0.01');
    expect(formatRateBeside(0.00996, 0.01)).toBe('0.00996');
    expect(formatRateBeside(9.996e-4, 1e-3)).toBe('9.996e-4');
    expect(formatRateAmong(0.00996, [0.01, 0.0046])).toBe('0.00996');
    // Apart already, or the same rate: as formatRate writes it.
    expect(rangeOf([0.0046], 0.01)).toBe('0.0046');
    expect(formatRateBeside(0.01, 0.01)).toBe('0.01');
  });
});
