import { describe, expect, it } from 'vitest';
import type { LayerStats } from '../types.ts';
import {
  absoluteMovement,
  activationSparsity,
  DEFAULT_DIAGNOSIS_THRESHOLDS,
  diagnoseEpoch,
  diverged,
  relativeMovement,
  summarize,
  updateRatio,
} from './weights.ts';

const f32 = (...v: number[]) => Float32Array.from(v);

describe('movements', () => {
  it('relativeMovement is ‖W_t − W_0‖ / ‖W_0‖', () => {
    // W_0 = (3, 4): norm 5. W_t − W_0 = (0, −1, …): ‖(3,3) − (3,4)‖ = 1.
    expect(relativeMovement(f32(3, 3), f32(3, 4))).toBeCloseTo(0.2, 15);
    expect(relativeMovement(f32(1, 2, 2), f32(1, 0, 0))).toBeCloseTo(Math.sqrt(8), 12);
    expect(relativeMovement(f32(0.5, -0.5), f32(0.5, -0.5))).toBe(0);
  });

  it('relativeMovement: 0/0 is 0, x/0 is Infinity, NaN propagates', () => {
    expect(relativeMovement(f32(0, 0), f32(0, 0))).toBe(0);
    expect(relativeMovement(f32(0, 1e-3), f32(0, 0))).toBe(Number.POSITIVE_INFINITY);
    expect(relativeMovement(f32(Number.NaN, 0), f32(1, 0))).toBeNaN();
  });

  it('absoluteMovement is ‖b_t − b_0‖', () => {
    expect(absoluteMovement(f32(0.3, -0.4), f32(0, 0))).toBeCloseTo(0.5, 7);
    expect(absoluteMovement(f32(), f32())).toBe(0);
  });

  it('updateRatio is ‖W_t − W_{t−1}‖ / ‖W_{t−1}‖', () => {
    expect(updateRatio(f32(2, 0, 0, 2), f32(2, 0, 0, 1))).toBeCloseTo(1 / Math.sqrt(5), 12);
  });

  it('rejects arrays of different lengths, saying which', () => {
    expect(() => relativeMovement(f32(1, 2), f32(1))).toThrow(/relativeMovement: current has 2 values but initial has 1/);
    expect(() => updateRatio(f32(1), f32(1, 2))).toThrow(/updateRatio: current has 1 values but previous has 2/);
    expect(() => absoluteMovement(f32(1), f32())).toThrow(/absoluteMovement/);
  });
});

describe('summarize', () => {
  it('matches numpy on a hand-checked kernel', () => {
    // numpy: mean 0.25, std 1.6529194950580193, quantile(..., [0,.05,.25,.5,.75,.95,1]) below.
    const values = f32(0.5, -1.5, 2, -0.25, 0, 3, -2);
    const s = summarize(values);
    expect(s.mean).toBeCloseTo(0.25, 15);
    expect(s.std).toBeCloseTo(1.6529194950580193, 14);
    expect(s.fractionNegative).toBeCloseTo(3 / 7, 15);
    const numpy = [-2.0, -1.85, -0.875, 0.0, 1.25, 2.6999999999999993, 3.0];
    expect(s.quantiles).toHaveLength(numpy.length);
    s.quantiles.forEach((q, i) => {
      expect(q).toBeCloseTo(numpy[i]!, 12);
    });
    // The caller's array is not reordered.
    expect(Array.from(values)).toEqual([0.5, -1.5, 2, -0.25, 0, 3, -2]);
  });

  it('interpolates like numpy between order statistics', () => {
    const s = summarize(f32(4, 1, 3, 2));
    const numpy = [1.0, 1.15, 1.75, 2.5, 3.25, 3.8499999999999996, 4.0];
    s.quantiles.forEach((q, i) => {
      expect(q).toBeCloseTo(numpy[i]!, 12);
    });
  });

  it('handles one value, −0, and NaN', () => {
    const single = summarize(f32(-0));
    expect(single.mean === 0 && single.std === 0 && single.fractionNegative === 0).toBe(true); // −0 is not negative
    expect(single.quantiles.every((q) => q === 0)).toBe(true);
    const broken = summarize(f32(1, Number.NaN, -1));
    expect(broken.mean).toBeNaN();
    expect(broken.quantiles.every(Number.isNaN)).toBe(true);
    expect(broken.fractionNegative).toBeCloseTo(1 / 3, 15);
  });

  it('rejects an empty array', () => {
    expect(() => summarize(f32())).toThrow(/summarize: no values/);
  });
});

describe('activationSparsity', () => {
  it('counts exact zeros and the units zero on every row', () => {
    // 3 rows × 4 units; unit 2 is dead, unit 0 is zero on one row only.
    const a = f32(0, 1, 0, 2, 0.5, 0, 0, 1, 1, 3, -0, 0.1);
    const s = activationSparsity(a, 4);
    expect(s.sparsity).toBeCloseTo(5 / 12, 15);
    expect(s.deadFraction).toBe(0.25);
  });

  it('treats NaN as not zero and a fully zero layer as all dead', () => {
    expect(activationSparsity(f32(Number.NaN, 0, Number.NaN, 0), 2)).toEqual({ sparsity: 0.5, deadFraction: 0.5 });
    expect(activationSparsity(new Float32Array(6), 3)).toEqual({ sparsity: 1, deadFraction: 1 });
  });

  it('rejects partial rows and bad unit counts', () => {
    expect(() => activationSparsity(f32(1, 2, 3), 2)).toThrow(/3 activations do not form whole rows of 2 units/);
    expect(() => activationSparsity(f32(), 2)).toThrow(/do not form whole rows/);
    expect(() => activationSparsity(f32(1), 0)).toThrow(/nUnits must be a positive integer, got 0/);
  });
});

describe('diagnoseEpoch', () => {
  const epoch1: LayerStats[] = [
    { layer: 'conv1', trainable: false, kernelMovement: 0, updateRatio: 0, deadFraction: 0.1 },
    { layer: 'conv2', trainable: true, kernelMovement: 2e-5, updateRatio: 2e-5, biasMovement: 0.01, deadFraction: 0.3 },
    { layer: 'head', trainable: true, kernelMovement: 3e-5, updateRatio: 3e-5, biasMovement: 0.02 },
  ];

  it('flags a stalled network: every trainable kernel below 1e-4 while a bias still grows', () => {
    const epoch2: LayerStats[] = [
      { layer: 'conv1', trainable: false, kernelMovement: 0, updateRatio: 0, deadFraction: 0.1 },
      { layer: 'conv2', trainable: true, kernelMovement: 3e-5, updateRatio: 1e-5, biasMovement: 0.01, deadFraction: 0.3 },
      { layer: 'head', trainable: true, kernelMovement: 5e-5, updateRatio: 2e-5, biasMovement: 0.035 },
    ];
    const d = diagnoseEpoch(epoch2, [epoch1]);
    expect(d.stalled).toBe(true);
    expect(d.dying).toBe(false);
    expect(d.detail).toContain('stalled: largest update ratio 0.00002 (head) < 0.0001');
    expect(d.detail).toContain('head 0.02 → 0.035');
  });

  it('is not stalled when one trainable kernel still learns, or no bias grows', () => {
    const learning = epoch1.map((l) => (l.layer === 'head' ? { ...l, updateRatio: 3e-3, biasMovement: 0.05 } : l));
    expect(diagnoseEpoch(learning, [epoch1]).stalled).toBe(false);
    const biasesStill = epoch1.map((l) => ({ ...l }));
    expect(diagnoseEpoch(biasesStill, [epoch1]).stalled).toBe(false);
  });

  it('on the first epoch compares with the pretrained start (movements 0)', () => {
    expect(diagnoseEpoch(epoch1, []).stalled).toBe(true);
    expect(diagnoseEpoch(epoch1, [epoch1]).stalled).toBe(diagnoseEpoch(epoch1, []).stalled); // `layers` itself in history is skipped
  });

  it('falls back to the growth of kernel movement when there is no update ratio', () => {
    const noRatio = (m: number, b: number): LayerStats[] => [{ layer: 'head', trainable: true, kernelMovement: m, biasMovement: b }];
    expect(diagnoseEpoch(noRatio(0.10005, 0.2), [noRatio(0.1, 0.1)]).stalled).toBe(true); // grew 5e-5
    expect(diagnoseEpoch(noRatio(0.12, 0.2), [noRatio(0.1, 0.1)]).stalled).toBe(false); // grew 2e-2
  });

  it('ignores frozen layers and NaN kernels, and needs kernel statistics', () => {
    const frozenOnly: LayerStats[] = [{ layer: 'conv1', trainable: false, updateRatio: 0, biasMovement: 1 }];
    expect(diagnoseEpoch(frozenOnly, []).stalled).toBe(false);
    expect(diagnoseEpoch(frozenOnly, []).detail).toContain('no trainable kernel statistics');
    const nan: LayerStats[] = [{ layer: 'head', trainable: true, updateRatio: Number.NaN, biasMovement: 1 }];
    expect(diagnoseEpoch(nan, []).stalled).toBe(false);
  });

  it('flags dying units: the largest dead fraction above 0.5 and rising', () => {
    const withDead = (dead: number): LayerStats[] => [
      { layer: 'relu1', trainable: true, updateRatio: 1e-2, deadFraction: 0.05 },
      { layer: 'relu2', trainable: true, updateRatio: 1e-2, deadFraction: dead },
    ];
    const d = diagnoseEpoch(withDead(0.75), [withDead(0.2), withDead(0.55)]);
    expect(d.dying).toBe(true);
    expect(d.detail).toContain('dying: largest dead fraction 0.75 (relu2), previous epoch 0.55, threshold 0.5');
    expect(diagnoseEpoch(withDead(0.75), [withDead(0.75)]).dying).toBe(false); // not rising
    expect(diagnoseEpoch(withDead(0.45), [withDead(0.3)]).dying).toBe(false); // rising but below threshold
    expect(diagnoseEpoch(withDead(0.75), []).dying).toBe(false); // no previous epoch to rise from
    expect(diagnoseEpoch(withDead(0.45), [withDead(0.3)], { deadFraction: 0.4 }).dying).toBe(true);
  });

  it('documents its defaults', () => {
    expect(DEFAULT_DIAGNOSIS_THRESHOLDS).toEqual({ stalledUpdateRatio: 1e-4, deadFraction: 0.5 });
  });
});

describe('diverged', () => {
  it('is true for NaN and infinities only', () => {
    expect(diverged(Number.NaN)).toBe(true);
    expect(diverged(Number.POSITIVE_INFINITY)).toBe(true);
    expect(diverged(Number.NEGATIVE_INFINITY)).toBe(true);
    expect(diverged(0.69)).toBe(false);
    expect(diverged(1e30)).toBe(false);
  });
});
