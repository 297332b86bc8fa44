import { describe, expect, it } from 'vitest';
import { createStartupScreenRule, startupScreenRulePlugin } from './startup-screen.ts';
import { flat, METRIC, trial, upTo } from './test-histories.ts';

const ctx = { direction: 'maximize' as const, metric: METRIC, maxEpochs: 20 };
const rule = (raw: unknown = {}, c: typeof ctx | (Omit<typeof ctx, 'direction'> & { direction: 'minimize' }) = ctx) =>
  createStartupScreenRule(startupScreenRulePlugin.parseOptions(raw), c);

describe('startup-screen rule', () => {
  it('defaults to the first 10 trials and epoch 2', () => {
    expect(startupScreenRulePlugin.parseOptions({})).toEqual({ trials: 10, epochs: 2 });
  });

  it('stops the first trial at `epochs`: nothing to be ahead of', () => {
    const first = trial(0, [0.6, 0.7, 0.8]);
    expect(rule().decide(upTo(first, 1), [])).toEqual({ stop: false });
    const d = rule().decide(upTo(first, 2), []);
    expect(d).toEqual({
      stop: true,
      reason: 'startup-screen: start-up trial 0 (of the first 10) after 2 epochs: no other trial has reached epoch 2 to be ahead of',
    });
  });

  it('keeps a start-up trial ahead of every other trial at its epoch, stops one that is not, naming the peer', () => {
    const peers = [trial(0, [0.6, 0.65]), trial(1, [0.55, 0.7, 0.72]), trial(2, [0.5])];
    expect(rule().decide(trial(3, [0.62, 0.71]), peers)).toEqual({ stop: false });
    // At epoch 3 only trial 1 reached it: 0.73 leads its 0.72.
    expect(rule().decide(trial(3, [0.62, 0.71, 0.73]), peers)).toEqual({ stop: false });
    const d = rule().decide(trial(3, [0.62, 0.69]), peers);
    expect(d.stop && d.reason).toBe(
      "startup-screen: start-up trial 3 (of the first 10) after 2 epochs: val_auc 0.69 is not ahead of trial 1's 0.7 by epoch 2",
    );
    // A tie is not ahead.
    expect(rule().decide(trial(3, [0.62, 0.7]), peers).stop).toBe(true);
  });

  it('leaves trials from `trials` on, epochs before `epochs` and the last epoch alone', () => {
    const peers = [trial(0, flat(0.9, 20))];
    expect(rule({ trials: 6 }).decide(trial(6, [0.5, 0.5]), peers)).toEqual({ stop: false });
    expect(rule({ trials: 6 }).decide(trial(5, [0.5, 0.5]), peers).stop).toBe(true);
    expect(rule({ epochs: 3 }).decide(trial(1, [0.5, 0.5]), peers)).toEqual({ stop: false });
    expect(rule({ epochs: 3 }).decide(trial(1, [0.5, 0.5, 0.5]), peers).stop).toBe(true);
    expect(rule().decide(trial(1, flat(0.5, 20)), peers)).toEqual({ stop: false });
  });

  it('reads minimize studies the other way', () => {
    const min = { ...ctx, direction: 'minimize' as const };
    const peers = [trial(0, [0.6, 0.5])];
    expect(rule({}, min).decide(trial(1, [0.55, 0.45]), peers)).toEqual({ stop: false });
    expect(rule({}, min).decide(trial(1, [0.55, 0.52]), peers).stop).toBe(true);
  });

  it('stops a start-up trial without a finite value; ignores peers without one', () => {
    const d = rule().decide(trial(1, [Number.NaN, undefined]), [trial(0, [0.5, 0.6])]);
    expect(d.stop && d.reason).toMatch(/has no finite val_auc$/);
    // The only peer has no finite value: nothing to be ahead of.
    expect(rule().decide(trial(1, [0.5, 0.6]), [trial(0, [Number.NaN, Number.NaN])]).stop).toBe(true);
    expect(rule().decide(trial(2, [0.5, 0.6]), [trial(0, [Number.NaN, Number.NaN]), trial(1, [0.5, 0.55])])).toEqual({ stop: false });
  });

  it('rejects unknown and invalid options by name', () => {
    expect(() => startupScreenRulePlugin.parseOptions({ trials: 0 })).toThrow(/trials/);
    expect(() => startupScreenRulePlugin.parseOptions({ epochs: 1.5 })).toThrow(/epochs/);
    expect(() => startupScreenRulePlugin.parseOptions({ trails: 3 })).toThrow(/trails/);
  });

  it('refuses at submit to screen every trial of the budget (the default 10 of a budget of 6 stopped 5 of them at epoch 2)', () => {
    const check = (options: unknown, maxTrials: number) =>
      startupScreenRulePlugin.checkOptions?.(startupScreenRulePlugin.parseOptions(options), { ...ctx, maxTrials });
    expect(check({}, 6)).toBe(
      "startup-screen screens every trial of the study: trials 10 covers all of budget.max_trials 6, so only a trial ahead of every other at each epoch from epoch 2 on trains past it. Set trials to the strategy's start-up trials, below 6",
    );
    expect(check({ trials: 5 }, 6)).toBeUndefined();
  });
});
