import { parseSpec, type TrialView } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { leaderboard } from '../views/leaderboard.ts';
import { bestSoFar } from './hub.ts';

describe('the best-so-far line of the live board', () => {
  it('steps only on ranked trials: a value reported before a crash is not a best', () => {
    const spec = parseSpec({
      name: 'line',
      objective: { metric: 'auc', direction: 'maximize' },
      space: { lr: { type: 'float', low: 1e-5, high: 1e-1, log: true } },
      budget: { max_trials: 3, max_epochs: 1 },
      trainer: { runner: 'noop' },
    });
    const trial = (number: number, state: TrialView['state'], value: number): TrialView => ({
      id: `t${number}`,
      number,
      params: { lr: 1e-3 },
      state,
      value,
      epochs: [{ epoch: 1, metrics: { auc: value }, layers: [] }],
    });
    const rows = leaderboard([trial(0, 'completed', 0.7), trial(1, 'failed', 0.9), trial(2, 'completed', 0.8)], spec);
    expect(bestSoFar(rows, 'maximize')).toEqual([
      { number: 0, value: 0.7 },
      { number: 2, value: 0.8 },
    ]);
  });
});
