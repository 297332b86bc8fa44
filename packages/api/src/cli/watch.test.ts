import { describe, expect, it } from 'vitest';
import { drawScreen, type LiveBoard } from './watch.ts';

const board = (state: string, running: number, final: boolean): LiveBoard => ({
  id: 1,
  final,
  study: {
    id: 'st_1',
    name: 'demo',
    state,
    reason: state === 'running' ? null : 'stopped by user',
    createdAt: new Date(0).toISOString(),
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    budget: { max_trials: 4, max_epochs: 3 },
    counts: { queued: 0, running, completed: 1, stopped: 3 - running, failed: 0 },
  },
  total: 0,
  columns: [],
  progress: { finished: 4 - running, epochsDone: 6, planned: 4 },
  rows: [],
  changes: [],
});

describe('watch screen', () => {
  it('says how many trials of a stopped study are still stopping, until its final table', () => {
    const head = (b: LiveBoard) => drawScreen(b, 20, 1000).split('\n')[0];
    expect(head(board('stopped', 2, false))).toBe('demo (st_1) · stopped, 2 trials still stopping · maximize val_auc_macro');
    expect(head(board('stopped', 1, false))).toContain('stopped, 1 trial still stopping ·');
    expect(head(board('stopped', 0, true))).toBe('demo (st_1) · stopped · maximize val_auc_macro');
    expect(head(board('running', 2, false))).toBe('demo (st_1) · running · maximize val_auc_macro');
  });

  it('reads 100 % only once every trial has ended, not when the last one reported its last epoch', () => {
    const progress = (finished: number, epochsDone: number) =>
      drawScreen({ ...board('running', 4 - finished, false), progress: { finished, epochsDone, planned: 4 } }, 20, 1000).split('\n')[1];
    // 3 of 4 trials over, the fourth at its last epoch but still running.
    expect(progress(3, 12)).toMatch(/ 99% · 3\/4 trials/);
    expect(progress(4, 12)).toMatch(/ 100% · 4\/4 trials/);
  });

  it('gives no ETA while no trial runs (no worker serves the pool now)', () => {
    const line = (running: number) =>
      drawScreen(
        {
          ...board('running', running, false),
          study: {
            ...board('running', running, false).study,
            counts: { queued: 2 - running, running, completed: 2, stopped: 0, failed: 0 },
          },
          progress: { finished: 2, epochsDone: 6, planned: 4 },
        },
        20,
        60_000,
      ).split('\n')[1];
    expect(line(1)).toContain('ETA');
    expect(line(0)).not.toContain('ETA');
  });
});
