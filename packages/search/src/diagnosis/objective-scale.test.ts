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
  it('is 1 for a score in [0, 1] either way, and the median magnitude of the values otherwise', () => {
    const acc = [trial(0, {}, 'acc', [0.3, 0.6], 'maximize'), trial(1, {}, 'acc', [0.5, 0.9], 'maximize')];
    expect(objectiveScale(acc, 'acc', 'maximize')).toBe(1);
    expect(objectiveScale([trial(0, {}, 'err', [0.08, 0.05], 'minimize')], 'err', 'minimize')).toBe(1);
    // A loss is sized by its magnitude even inside [0, 1].
    expect(objectiveScale([trial(0, {}, 'val_mse', [0.02, 0.008], 'minimize')], 'val_mse', 'minimize')).toBe(0.02);
    expect(objectiveScale([trial(0, {}, 'val_loss', [0.69, 0.3], 'minimize')], 'val_loss', 'minimize')).toBe(0.69);
    const ce = [2.3, 2.2, 2.4].map((start, i) => trial(i, {}, 'val_loss', [start, 1.0], 'minimize'));
    expect(objectiveScale(ce, 'val_loss', 'minimize')).toBeCloseTo(2.3, 12);
    // Accuracy in percent is a score in percent: its margins are those of [0, 1] times 100.
    const percent = [trial(0, {}, 'acc', [10, 80], 'maximize'), trial(1, {}, 'acc', [12, 70], 'maximize')];
    expect(objectiveScale(percent, 'acc', 'maximize')).toBe(100);
    // Values in [0, 100] whose name says nothing of a score are sized by their magnitude.
    const other = [trial(0, {}, 'val_metric', [10, 80], 'maximize'), trial(1, {}, 'val_metric', [12, 70], 'maximize')];
    expect(objectiveScale(other, 'val_metric', 'maximize')).toBe(75);
    const reward = [trial(0, {}, 'reward', [0, 500], 'maximize'), trial(1, {}, 'reward', [-20, 520], 'maximize')];
    expect(objectiveScale(reward, 'reward', 'maximize')).toBe(510);
    // Nothing reported, or only zeros: units as they are.
    expect(objectiveScale([], 'val_loss', 'minimize')).toBe(1);
    expect(objectiveScale([trial(0, {}, 'x', [0, 0], 'minimize')], 'x', 'minimize')).toBe(1);
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

  it('accuracy in percent: half a point is not clearly better, ten points is', () => {
    const mine = trial(0, { learning_rate: 0.001, optimizer: 'adam' }, 'acc', [10, 60, 80], 'maximize');
    const close = trial(1, { learning_rate: 0.003, optimizer: 'adam' }, 'acc', [11, 62, 80.5], 'maximize');
    const far = trial(2, { learning_rate: 0.01, optimizer: 'adam' }, 'acc', [12, 75, 90], 'maximize');
    const objective = { metric: 'acc', direction: 'maximize' as const };
    expect(diagnoseTrial(mine, [mine, close], objective).advice).not.toMatch(/clearly better/);
    expect(diagnoseTrial(mine, [mine, close, far], objective).advice).toContain('Trial 2 did clearly better (90) with learning_rate=0.01');
  });

  it('a score near its top learned when it took a good share of the room left: accuracy 0.92 → 0.95, error 0.08 → 0.05', () => {
    const objective = { metric: 'val_acc', direction: 'maximize' as const };
    const rising = trial(0, { learning_rate: 1e-4, optimizer: 'adam' }, 'val_acc', [0.92, 0.935, 0.95], 'maximize');
    const d = diagnoseTrial(rising, [rising], objective);
    expect(d.verdict, d.summary).not.toBe('no-learning');
    expect(d.summary).not.toMatch(/did not learn|no learning/i);
    const error = trial(0, { learning_rate: 1e-4, optimizer: 'adam' }, 'val_error', [0.08, 0.06, 0.05], 'minimize');
    expect(diagnoseTrial(error, [error], { metric: 'val_error', direction: 'minimize' }).verdict).not.toBe('no-learning');
    // The same curves in percent read the same.
    const percent = trial(0, { learning_rate: 1e-4, optimizer: 'adam' }, 'val_acc', [92, 93.5, 95], 'maximize');
    expect(diagnoseTrial(percent, [percent], objective).verdict).toBe(d.verdict);
    // A rise within the noise is not learning, however little room is left.
    const flat = trial(0, { learning_rate: 1e-4, optimizer: 'adam' }, 'val_acc', [0.96, 0.965, 0.968], 'maximize');
    expect(diagnoseTrial(flat, [flat], objective).verdict).toBe(diagnoseTrial(flat, [flat], objective, { headroomShare: 1 }).verdict);
    expect(diagnoseTrial(flat, [flat], objective, { headroomShare: 1 }).verdict).not.toBe(d.verdict);
  });
});
