import { describe, expect, it } from 'vitest';
import { createMedianRule, medianRulePlugin } from './median.ts';
import { flat, METRIC, trial, upTo } from './test-histories.ts';

const ctx = { direction: 'maximize' as const, metric: METRIC, maxEpochs: 10 };
const rule = (raw: unknown = {}) => createMedianRule(medianRulePlugin.parseOptions(raw), ctx);

// Seven finished peers whose best-so-far at epoch 3 is 0.60, 0.65, 0.70, 0.70, 0.72, 0.75, 0.80: median 0.70.
const peers = [0.6, 0.65, 0.7, 0.7, 0.72, 0.75, 0.8].map((v, i) => trial(i, [v - 0.1, v - 0.05, v, v, v]));

describe('median rule', () => {
  it('stops a trial whose best so far is below the median at that epoch, naming the numbers', () => {
    const t = trial(10, [0.55, 0.6, 0.612, 0.7]);
    expect(rule().decide(upTo(t, 3), peers)).toEqual({
      stop: true,
      reason: 'median: best val_auc up to epoch 3, 0.612, is below the median 0.7 of the bests of 7 other trials up to it',
    });
  });

  it('compares best-so-far values: an earlier good epoch keeps the trial', () => {
    const t = trial(10, [0.55, 0.71, 0.6]);
    expect(rule().decide(t, peers)).toEqual({ stop: false });
  });

  it('does not stop a trial at the median (not worse)', () => {
    expect(rule().decide(trial(10, [0.5, 0.6, 0.7]), peers).stop).toBe(false);
  });

  it('never stops during warm-up, and waits for min_trials peers at the epoch', () => {
    const bad = trial(10, flat(0.5, 4));
    expect(rule().decide(upTo(bad, 1), peers).stop).toBe(false); // warmup_epochs 1
    expect(rule().decide(upTo(bad, 2), peers).stop).toBe(true);
    expect(rule({ warmup_epochs: 3 }).decide(upTo(bad, 3), peers).stop).toBe(false);
    expect(rule({ warmup_epochs: 3 }).decide(upTo(bad, 4), peers).stop).toBe(true);
    expect(rule().decide(upTo(bad, 2), peers.slice(0, 4)).stop).toBe(false); // 4 < min_trials 5
    expect(rule({ min_trials: 4 }).decide(upTo(bad, 2), peers.slice(0, 4)).stop).toBe(true);
  });

  it('counts only peers that reached the epoch, and never the trial itself', () => {
    const short = [0.9, 0.9, 0.9, 0.9, 0.9].map((v, i) => trial(20 + i, [v, v]));
    const t = trial(10, [0.5, 0.6, 0.65]);
    // The short peers never reached epoch 3: the median at 3 is still 0.70 over 7 trials.
    const d = rule().decide(t, [...peers, ...short, t]);
    expect(d).toEqual({
      stop: true,
      reason: 'median: best val_auc up to epoch 3, 0.65, is below the median 0.7 of the bests of 7 other trials up to it',
    });
  });

  it('reads minimize studies the other way', () => {
    const minimize = createMedianRule(medianRulePlugin.parseOptions({}), { ...ctx, direction: 'minimize' });
    const losses = [0.2, 0.3, 0.4, 0.5, 0.6].map((v, i) => trial(i, [v, v, v]));
    expect(minimize.decide(trial(9, [0.45, 0.45]), losses)).toMatchObject({
      stop: true,
      reason: expect.stringContaining('above the median 0.4'),
    });
    expect(minimize.decide(trial(9, [0.45, 0.35]), losses).stop).toBe(false);
  });

  it('stops a trial whose objective is reported but never finite; ignores a missing objective', () => {
    expect(rule().decide(trial(10, [Number.NaN, Number.NaN]), peers)).toMatchObject({ stop: true });
    expect(rule().decide(trial(10, [undefined, undefined]), peers).stop).toBe(false);
  });

  it('never stops at the last epoch of the budget: there is nothing left to save', () => {
    expect(
      rule().decide(
        trial(10, flat(0.5, 10)),
        peers.map((p) => trial(p.number, flat(0.8, 10))),
      ).stop,
    ).toBe(false);
  });

  it('rejects unknown and invalid options by name', () => {
    expect(() => medianRulePlugin.parseOptions({ warmup: 2 })).toThrow(/warmup/);
    expect(() => medianRulePlugin.parseOptions({ min_trials: 0 })).toThrow(/min_trials/);
    expect(medianRulePlugin.parseOptions({})).toEqual({ warmup_epochs: 1, min_trials: 5 });
  });
});
