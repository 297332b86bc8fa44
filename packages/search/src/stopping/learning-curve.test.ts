import { Rng, type TrialView } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { createAshaRule, ashaRulePlugin } from './asha.ts';
import { createLearningCurveRule, learningCurveRulePlugin } from './learning-curve.ts';
import { METRIC, trial, upTo } from './test-histories.ts';

const ctx = { direction: 'maximize' as const, metric: METRIC, maxEpochs: 20 };
const rule = (raw: unknown = {}) => createLearningCurveRule(learningCurveRulePlugin.parseOptions(raw), ctx);

/** final − (final − 0.5)·exp(−t/τ) at epochs 1..n, with N(0, 0.005²) noise from a seeded stream. */
function curve(final: number, tau: number, n: number, seed: string): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => final - (final - 0.5) * Math.exp(-(i + 1) / tau) + 0.005 * rng.normal());
}

// Ten finished peers: fast learners that plateau between 0.80 and 0.92 (the best, trial 9).
const peers: TrialView[] = Array.from({ length: 10 }, (_, i) => trial(i, curve(0.8 + (0.12 * i) / 9, 1 + (i % 3), 20, `peer-${i}`)));

describe('learning-curve rule', () => {
  it('stops a curve that has flattened below the best, naming the extrapolation and the best', () => {
    const flattened = trial(20, curve(0.85, 1, 6, 'flat'));
    const d = rule().decide(flattened, peers);
    expect(d.stop).toBe(true);
    expect(d.stop && d.reason).toMatch(
      /^learning-curve: after 6 epochs, val_auc extrapolated to epoch 20 can reach 0\.8\d+ at best \(2 sd optimism, noise sd 0\.00\d+\), below the best 0\.9\d+ of 10 other trials$/,
    );
  });

  it('keeps a slow learner that is still climbing steeply, where successive halving stops it', () => {
    // Heading for 0.95 with τ = 4: far behind the fast starters at epochs 1–4, ahead by epoch 20.
    const slow = trial(20, curve(0.95, 4, 20, 'slow'));
    const asha = createAshaRule(ashaRulePlugin.parseOptions({}), ctx);
    expect(asha.decide(upTo(slow, 1), peers).stop).toBe(true);
    for (let k = 2; k < 20; k++) expect(rule().decide(upTo(slow, k), peers)).toEqual({ stop: false });
  });

  it('never stops the trial that is already the best, or one that reaches the best', () => {
    const leader = trial(20, curve(0.95, 1, 8, 'leader'));
    for (let k = 2; k <= 8; k++) expect(rule().decide(upTo(leader, k), peers).stop).toBe(false);
  });

  it('judges from min_epochs, not before, and never at the horizon', () => {
    const bad = trial(20, [0.5, 0.5, 0.501, 0.5, 0.5, 0.499]);
    expect(rule().decide(upTo(bad, 1), peers).stop).toBe(false);
    expect(rule().decide(upTo(bad, 2), peers).stop).toBe(true);
    expect(rule({ min_epochs: 4 }).decide(upTo(bad, 3), peers).stop).toBe(false);
    expect(rule({ min_epochs: 4 }).decide(upTo(bad, 4), peers).stop).toBe(true);
    expect(rule({ max_epochs: 4 }).decide(upTo(bad, 4), peers).stop).toBe(false);
    const lastEpoch = trial(
      20,
      Array.from({ length: 20 }, () => 0.5),
    );
    expect(rule().decide(lastEpoch, peers).stop).toBe(false);
  });

  it('with initial_value, can judge a curve that has not moved from it after one epoch', () => {
    const unmoved = trial(20, [0.502]);
    const learning = trial(21, [0.62]);
    expect(rule({ min_epochs: 1 }).decide(unmoved, peers).stop).toBe(false); // one point: no line yet
    expect(rule({ min_epochs: 1, initial_value: 0.5 }).decide(unmoved, peers).stop).toBe(true);
    expect(rule({ min_epochs: 1, initial_value: 0.5 }).decide(learning, peers).stop).toBe(false);
  });

  it('waits for a value to compare with and for a noise estimate, unless the noise is given', () => {
    const bad = trial(20, [0.5, 0.5, 0.5]);
    expect(rule().decide(bad, []).stop).toBe(false);
    // Peers too short (under 5 epochs) to measure the noise from.
    const short = peers.map((p) => upTo(p, 4));
    expect(rule().decide(bad, short).stop).toBe(false);
    expect(rule({ noise: 0.005 }).decide(bad, short).stop).toBe(true);
  });

  it('compares with the k-th best value when top_k is set', () => {
    // Plateau near 0.905: below the best (0.92) but above the third best (about 0.893).
    const third = trial(20, curve(0.905, 1, 8, 'third'));
    expect(rule().decide(third, peers).stop).toBe(true);
    expect(rule({ top_k: 3 }).decide(third, peers).stop).toBe(false);
    const d = rule({ top_k: 2 }).decide(trial(20, curve(0.8, 1, 8, 'low')), peers);
    expect(d.stop && d.reason).toContain('below the 2nd best');
  });

  it('reads minimize studies the other way', () => {
    const minimize = createLearningCurveRule(learningCurveRulePlugin.parseOptions({}), { ...ctx, direction: 'minimize' });
    const losses = peers.map((p) => ({
      ...p,
      epochs: p.epochs.map((e) => ({ ...e, metrics: { [METRIC]: 1 - (e.metrics[METRIC] ?? 0) } })),
    }));
    const flat = trial(
      20,
      curve(0.85, 1, 6, 'flat').map((v) => 1 - v),
    );
    const d = minimize.decide(flat, losses);
    expect(d.stop && d.reason).toMatch(/can reach 0\.1\d+ at best .*, above the best 0\.0\d+ of 10 other trials$/);
    expect(
      minimize.decide(
        trial(
          20,
          curve(0.95, 1, 6, 'good').map((v) => 1 - v),
        ),
        losses,
      ).stop,
    ).toBe(false);
  });

  it('ignores NaN and missing values in the trial and its peers', () => {
    const withNaN = trial(20, [...curve(0.85, 1, 6, 'flat'), Number.NaN]);
    expect(rule().decide(withNaN, peers).stop).toBe(true);
    expect(rule().decide(trial(20, [Number.NaN, Number.NaN, Number.NaN]), peers).stop).toBe(false);
    expect(rule().decide(trial(20, curve(0.85, 1, 6, 'flat')), [...peers, trial(30, [undefined, Number.NaN])]).stop).toBe(true);
  });

  it('rejects unknown and invalid options by name', () => {
    expect(() => learningCurveRulePlugin.parseOptions({ confidance: 2 })).toThrow(/confidance/);
    expect(() => learningCurveRulePlugin.parseOptions({ min_epochs: 0 })).toThrow(/min_epochs/);
    expect(() => learningCurveRulePlugin.parseOptions({ noise: 0 })).toThrow(/noise/);
    expect(() => learningCurveRulePlugin.parseOptions({ top_k: 0 })).toThrow(/top_k/);
    expect(learningCurveRulePlugin.parseOptions({})).toEqual({ min_epochs: 2, confidence: 2, top_k: 1 });
  });
});
