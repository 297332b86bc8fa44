import { describe, expect, it } from 'vitest';
import { parseSpec } from './parse.ts';
import { budgetWarnings } from './warnings.ts';

const spec = (budget: Record<string, number>, extra: Record<string, unknown> = {}) =>
  parseSpec({
    name: 's',
    objective: {},
    space: { lr: { type: 'float', low: 1e-4, high: 1e-1, log: true } },
    budget: { max_epochs: 3, ...budget },
    ...extra,
  });

describe('budgetWarnings', () => {
  it('says when parallelism exceeds max_trials', () => {
    expect(budgetWarnings(spec({ max_trials: 4, parallelism: 8 }))).toEqual([
      { path: 'budget.parallelism', message: '8 is more than max_trials (4): at most 4 trial(s) run at once' },
    ]);
  });

  it('says when a budget of one trial runs the baseline alone', () => {
    expect(budgetWarnings(spec({ max_trials: 1 }, { baseline: { lr: 0.01 } }))).toEqual([
      { path: 'budget.max_trials', message: '1 runs the baseline alone (it is trial 0): nothing is searched to compare it with' },
    ]);
    expect(budgetWarnings(spec({ max_trials: 1 }))).toEqual([]);
    expect(budgetWarnings(spec({ max_trials: 2 }, { baseline: { lr: 0.01 } }))).toEqual([]);
  });

  it('has nothing to say of a budget that fits together', () => {
    expect(budgetWarnings(spec({ max_trials: 20, parallelism: 4 }))).toEqual([]);
    expect(budgetWarnings(spec({ max_trials: 4, parallelism: 4 }))).toEqual([]);
  });
});
