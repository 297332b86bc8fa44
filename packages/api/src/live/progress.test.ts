import { parseSpec } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import type { LeaderboardRow } from '../views/leaderboard.ts';
import { progressOf } from './hub.ts';

const spec = parseSpec({
  name: 'grid',
  objective: { metric: 'auc', direction: 'maximize' },
  space: { lr: { type: 'float', low: 1e-4, high: 1e-1, log: true } },
  budget: { max_trials: 20, max_epochs: 3 },
});
const row = (state: LeaderboardRow['state'], epochs: number) => ({ state, epochs, maxEpochs: 3 }) as LeaderboardRow;

describe('study progress', () => {
  it('is out of max_trials, or, once completed before them (its grid ran out), out of the trials it had', () => {
    const rows = [row('completed', 3), row('stopped', 1), row('running', 2)];
    expect(progressOf(rows, { state: 'running', spec })).toEqual({ finished: 2, epochsDone: 8, planned: 20 });
    const done = [row('completed', 3), row('stopped', 1), row('completed', 3)];
    expect(progressOf(done, { state: 'completed', spec })).toEqual({ finished: 3, epochsDone: 9, planned: 3 });
    // A stopped study stopped short: out of its max_trials still.
    expect(progressOf(done, { state: 'stopped', spec }).planned).toBe(20);
  });
});
