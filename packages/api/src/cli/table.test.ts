import { describe, expect, it } from 'vitest';
import type { LeaderboardRow } from '../views/leaderboard.ts';
import { InPlaceScreen } from './screen.ts';
import { formatMetric, renderLeaderboard, renderStudies } from './table.ts';

const row = (over: Partial<LeaderboardRow>): LeaderboardRow => ({
  rank: 1,
  number: 0,
  state: 'completed',
  value: 0.912345678901,
  bestEpoch: 3,
  epochs: 3,
  maxEpochs: 3,
  params: { optimizer: 'adam', learning_rate: 0.000123456 },
  reason: null,
  baseline: false,
  ...over,
});

describe('sweepd ls', () => {
  it('has a header, aligned columns, rounded values, and says why a study failed', () => {
    const text = renderStudies([
      { id: 'st_a', name: 'quick', state: 'completed', counts: { completed: 8 }, best: 0.912345678901, budget: { max_trials: 8 } },
      {
        id: 'st_longer_id',
        name: 'inception-finetune',
        state: 'failed',
        reason: 'every trial failed: unknown dataset imagenet',
        counts: { failed: 8 },
        best: null,
        budget: { max_trials: 40 },
      },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+state\s+trials\s+best\s+reason$/);
    expect(lines[1]).toMatch(/^st_a\s+quick\s+completed\s+8\/8\s+0\.9123$/);
    expect(lines[2]).toMatch(
      /^st_longer_id\s+inception-finetune\s+failed\s+8\/40 \(8 failed\)\s+-\s+every trial failed: unknown dataset imagenet$/,
    );
    // Every column starts at the same place on every line.
    for (const header of ['name', 'state']) {
      const at = lines[0]?.indexOf(header) ?? -1;
      expect(at).toBeGreaterThan(0);
      for (const l of lines.slice(1)) expect(l[at - 1]).toBe(' ');
      expect(lines[1]?.[at]).not.toBe(' ');
      expect(lines[2]?.[at]).not.toBe(' ');
    }
    expect(text).not.toContain('0.912345');
    expect(renderStudies([])).toContain('no studies yet');
  });

  it('says where a page lies in the whole list, and nothing when it is the whole list', () => {
    const one = { id: 'st_b', name: 'b', state: 'running', counts: {}, best: null, budget: { max_trials: 4 } };
    expect(renderStudies([one], 80, { offset: 10, total: 25 }).split('\n').at(-1)).toBe(
      'studies 11–11 of 25 (oldest first; --limit N --offset K)',
    );
    expect(renderStudies([one], 80, { offset: 0, total: 1 })).not.toContain('of 1');
    expect(renderStudies([], 80, { offset: 30, total: 25 })).toBe('no studies from number 31 on: there are 25');
  });

  it('prints a best value of exactly 1 with its 4 decimals, as any other', () => {
    const study = { id: 'st_p', name: 'perfect', state: 'completed', counts: { completed: 2 }, budget: { max_trials: 2 } };
    expect(renderStudies([{ ...study, best: 1 }]).split('\n')[1]).toMatch(/\s1\.0000$/);
    expect(formatMetric(0.5)).toBe('0.5000');
    expect(formatMetric(2e-5)).toBe('2.00e-5');
  });

  it('says how many trials of a stopped study are still stopping', () => {
    const study = { id: 'st_s', name: 'slow', reason: 'stopped by user', best: 0.6, budget: { max_trials: 6 } };
    expect(renderStudies([{ ...study, state: 'stopped', counts: { running: 2, stopped: 1 } }]).split('\n')[1]).toMatch(
      /^st_s\s+slow\s+stopped \(2 stopping\)\s+1\/6\s+0\.6000\s+stopped by user$/,
    );
    expect(renderStudies([{ ...study, state: 'stopped', counts: { stopped: 3 } }]).split('\n')[1]).toMatch(/^st_s\s+slow\s+stopped\s+3\/6/);
    // A grid that ran out of points completes with fewer trials than max_trials: out of those it had, as its page says.
    expect(renderStudies([{ ...study, state: 'completed', reason: null, counts: { completed: 4 } }]).split('\n')[1]).toMatch(
      /^st_s\s+slow\s+completed\s+4\/4/,
    );
  });
});

describe('leaderboard table', () => {
  it("puts the parameters in the daemon's column order and counts the rows it was not sent", () => {
    const text = renderLeaderboard([row({})], { columns: ['learning_rate', 'optimizer'], total: 120 });
    const [header, first, more] = text.split('\n');
    expect(header).toMatch(/^rank\s+trial\s+learning_rate\s+optimizer\s+best\s+epoch\s+state\s+reason$/);
    expect(first).toMatch(/^\s*1\s+0\s+1\.23e-4\s+adam\s+0\.9123\s+3\/3\s+completed$/);
    expect(more).toBe('… 119 more');
  });

  it('prints parameters with 3 significant digits, as the answer does, and cuts reasons only for a terminal', () => {
    const reason = 'median: best val_auc_macro 0.5079 at epoch 2 is below the median 0.5115 of 9 trials at epoch 2';
    const rows = [row({ params: { learning_rate: 0.004641 } }), row({ number: 1, rank: 2, params: { learning_rate: 0.01 }, reason })];
    const [, first, second] = renderLeaderboard(rows, { columns: ['learning_rate'] }).split('\n');
    expect(first).toMatch(/^\s*1\s+0\s+0\.00464\s/);
    expect(second).toMatch(/^\s*2\s+1\s+0\.01\s+.*is below the m…$/);
    const piped = renderLeaderboard(rows, { columns: ['learning_rate'], reasonWidth: Number.POSITIVE_INFINITY }).split('\n')[2];
    expect(piped?.endsWith(reason)).toBe(true);
  });

  it('a trial still in flight with a stop reason reads stopping, not running', () => {
    const text = renderLeaderboard([
      row({ number: 0, state: 'running', epochs: 1, reason: 'stopped by user' }),
      row({ number: 1, rank: 2, state: 'running', epochs: 1 }),
    ]);
    const [, stopping, running] = text.split('\n');
    expect(stopping).toMatch(/\sstopping\s+stopped by user$/);
    expect(running).toMatch(/\srunning$/);
  });

  it("marks the spec's baseline row, so the user finds their own config among the ranked ones", () => {
    const text = renderLeaderboard([row({}), row({ rank: 2, number: 1, value: 0.8, baseline: true })], { columns: ['optimizer'] });
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/^\s*1\s+0\s+adam/);
    expect(lines[2]).toMatch(/^\s*2\s+1 \(baseline\)\s+adam\s+0\.8000/);
  });
});

describe('in-place screen', () => {
  it('moves back over the previous frame and writes over it instead of scrolling, within the terminal', () => {
    const screen = new InPlaceScreen(() => ({ columns: 20, rows: 5 }));
    const first = screen.frame('a\nb\nc\n');
    expect(first).toBe('\ra\x1b[K\nb\x1b[K\nc\x1b[K\n\x1b[J');
    const second = screen.frame('1\n2\n3\n4\n5\n6\n7\n');
    // Up over the 3 lines drawn, each line over the old one and the rest of it cleared, at most
    // rows - 1 lines (a taller frame would scroll), then whatever is left below cleared.
    expect(second).toBe('\x1b[3A\r1\x1b[K\n2\x1b[K\n3\x1b[K\n4\x1b[K\n\x1b[J');
    expect(screen.frame(`${'x'.repeat(30)}\n`)).toBe(`\x1b[4A\r${'x'.repeat(19)}…\x1b[K\n\x1b[J`);
    // Never a clear of the whole screen, nor one from the frame's top left: tmux scrolls that into its history.
    for (const out of [first, second]) {
      expect(out).not.toContain('\x1b[2J');
      expect(out).not.toContain('\r\x1b[J');
    }
  });
});
