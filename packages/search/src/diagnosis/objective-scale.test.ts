import type { TrialView } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { diagnoseTrial } from './diagnose.ts';
import { objectiveScale } from './objective-scale.ts';

/** A completed trial reporting `values` of `metric` at epochs 1, 2, …, with moving kernels. */
function trial(n: number, params: TrialView['params'], metric: string, values: number[], direction: 'maximize' | 'minimize'): TrialView {
  const best = direction === 'maximize' ? Math.max(...values) : Math.min(...values);
  return {
    id: `t${n}`,
    number: n,
    params,
    state: 'completed',
    value: best,
    epochs: values.map((v, i) => ({
      epoch: i + 1,
      metrics: { [metric]: v },
      layers: [{ layer: 'dense/kernel', trainable: true, kernelMovement: 0.05 * (i + 1), updateRatio: 0.01 }],
    })),
  };
}

describe('objectiveScale', () => {
  it('is 1 for a maximised score in [0, 1], and the median starting size otherwise', () => {
    const auc = [trial(0, {}, 'acc', [0.3, 0.6], 'maximize'), trial(1, {}, 'acc', [0.5, 0.9], 'maximize')];
    expect(objectiveScale(auc, 'acc', 'maximize')).toBe(1);
    const ce = [2.3, 2.2, 2.4].map((start, i) => trial(i, {}, 'val_loss', [start, 1.0], 'minimize'));
    expect(objectiveScale(ce, 'val_loss', 'minimize')).toBeCloseTo(2.3, 12);
    const psnr = [trial(0, {}, 'psnr', [18, 25], 'maximize'), trial(1, {}, 'psnr', [20, 27], 'maximize')];
    expect(objectiveScale(psnr, 'psnr', 'maximize')).toBe(19);
    // Nothing reported, or training that starts at zero: units as they are.
    expect(objectiveScale([], 'val_loss', 'minimize')).toBe(1);
    expect(objectiveScale([trial(0, {}, 'x', [0, 1], 'minimize')], 'x', 'minimize')).toBe(1);
  });
});

describe('diagnoseTrial on objectives of other scales', () => {
  it('an MSE falling from 0.02 to 0.008 learned, and a peer at half its error is clearly better', () => {
    const mine = trial(0, { learning_rate: 0.001, optimizer: 'adam' }, 'val_mse', [0.02, 0.012, 0.008], 'minimize');
    const peer = trial(1, { learning_rate: 0.003, optimizer: 'adam' }, 'val_mse', [0.021, 0.009, 0.004], 'minimize');
    const d = diagnoseTrial(mine, [mine, peer], { metric: 'val_mse', direction: 'minimize' });
    expect(d.verdict, d.summary).not.toBe('no-learning');
    // In absolute units a 0.004 gap would be nothing; here it halves the error.
    expect(d.advice).toContain('Trial 1 did clearly better (0.004) with learning_rate=0.003');
  });

  it('a cross-entropy peer 0.06 lower out of 2.3 is not clearly better', () => {
    const mine = trial(0, { learning_rate: 0.001, optimizer: 'adam' }, 'val_loss', [2.3, 1.4, 1.0], 'minimize');
    const peer = trial(1, { learning_rate: 0.003, optimizer: 'adam' }, 'val_loss', [2.3, 1.3, 0.94], 'minimize');
    const d = diagnoseTrial(mine, [mine, peer], { metric: 'val_loss', direction: 'minimize' });
    expect(d.advice).not.toMatch(/clearly better/);
  });
});
