import { Rng, type StoppingRule, type TrialView } from '@sweepd/core';
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

  it('with initial_noise, reads the noise from peers below initial_value while no peer has the epochs to measure it from', () => {
    // Start-up trials screened at epoch 2: too short a curve to fit. The junk ones sit at 0.5 ± noise.
    const rng = new Rng('screened');
    const junk = Array.from({ length: 5 }, (_, i) => trial(i, [0.5 + 0.005 * rng.normal(), 0.5 + 0.005 * rng.normal()]));
    const screened = [...junk, trial(5, [0.7, 0.8])];
    const flat = trial(6, [0.502]);
    const anchored = { min_epochs: 1, initial_value: 0.5 };
    expect(rule(anchored).decide(flat, screened)).toEqual({ stop: false });
    const d = rule({ ...anchored, initial_noise: { min_samples: 2 } }).decide(flat, screened);
    expect(d.stop && d.reason).toMatch(/^learning-curve: after 1 epoch.*below the best 0\.8 of 6 other trials$/);
    // Fewer values below initial_value than min_samples: it still waits.
    expect(rule({ ...anchored, initial_noise: { min_samples: 50 } }).decide(flat, screened)).toEqual({ stop: false });
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

  it('keeps a trial that has already beaten the best, even when its curve now falls', () => {
    const peaked = trial(20, [0.7, 0.85, 0.93, 0.9, 0.87, 0.85]);
    expect(rule().decide(peaked, peers).stop).toBe(false);
  });

  it('with a reported epoch 0, fits that measurement rather than initial_value', () => {
    // Measured 0.695 before training and 0.70 after one epoch: barely moving. From the assumed
    // 0.5 it would look like a steep climb.
    const options = { min_epochs: 1, initial_value: 0.5, noise: 0.001 };
    const oneEpoch = trial(20, [0.7]);
    const measured: TrialView = { ...oneEpoch, epochs: [{ epoch: 0, metrics: { [METRIC]: 0.695 }, layers: [] }, ...oneEpoch.epochs] };
    expect(rule(options).decide(measured, peers).stop).toBe(true);
    expect(rule(options).decide(oneEpoch, peers).stop).toBe(false);
  });

  it('decides a minimized metric exactly as the mirrored maximized one, initial_value included', () => {
    // loss = 3 − auc: the same curves upside down and shifted, so a missed sign flip shows.
    const flip = (t: TrialView): TrialView => ({
      ...t,
      epochs: t.epochs.map((e) => ({ ...e, metrics: { [METRIC]: 3 - (e.metrics[METRIC] ?? 0) } })),
    });
    const minimize = (raw: unknown) =>
      createLearningCurveRule(learningCurveRulePlugin.parseOptions(raw), { ...ctx, direction: 'minimize' });
    const lossPeers = peers.map(flip);
    const cases = [
      trial(20, curve(0.85, 1, 6, 'flat')),
      trial(21, curve(0.95, 4, 3, 'slow')),
      trial(22, [0.502]),
      trial(23, [0.62]),
      trial(24, curve(0.9, 2, 2, 'two')),
    ];
    let stops = 0;
    for (const t of cases) {
      const up = rule({ min_epochs: 1, initial_value: 0.5 }).decide(t, peers);
      const down = minimize({ min_epochs: 1, initial_value: 2.5 }).decide(flip(t), lossPeers);
      expect(down.stop).toBe(up.stop);
      if (up.stop) stops++;
    }
    expect(stops).toBeGreaterThan(0);
  });

  it('measures the noise from the latest peers, and one diverged peer does not switch it off', () => {
    const noiseIn = (d: ReturnType<StoppingRule['decide']>) => Number(/noise sd ([\d.e-]+)/.exec(d.stop ? d.reason : '')?.[1]);
    const flat = trial(20, curve(0.85, 1, 6, 'flat'));
    const clean = rule().decide(flat, peers);
    expect(noiseIn(clean)).toBeGreaterThan(0.003);
    expect(noiseIn(clean)).toBeLessThan(0.007);
    const diverged = trial(30, [0.6, 0.7, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], { state: 'stopped' });
    const spiked = trial(31, [0.7, 0.8, 0.85, 5, 0.86, 0.86]);
    const withOutliers = rule().decide(flat, [...peers, diverged, spiked]);
    expect(withOutliers.stop).toBe(true);
    expect(noiseIn(withOutliers)).toBeCloseTo(noiseIn(clean), 6);
  });

  it('refits a peer whose earlier epochs were rewritten (a retried trial): same answer as a fresh rule', () => {
    const flat = trial(20, curve(0.85, 1, 6, 'flat'));
    const seasoned = rule();
    seasoned.decide(flat, peers);
    // Peer 9 is retried and its epochs 2–4 come back different; count and last epoch unchanged.
    const rewritten = peers.map((p) =>
      p.number !== 9 ? p : { ...p, epochs: p.epochs.map((e) => (e.epoch >= 2 && e.epoch <= 4 ? { ...e, metrics: { [METRIC]: 0.6 } } : e)) },
    );
    expect(seasoned.decide(flat, rewritten)).toEqual(rule().decide(flat, rewritten));
  });

  it('with max_epochs, compares with the peers best up to that epoch, not after it', () => {
    // Slow peers: about 0.75 by epoch 10, 0.87 by epoch 20. A fast starter flat at 0.82 leads at epoch 10.
    const slowPeers = Array.from({ length: 6 }, (_, i) => trial(i, curve(0.95, 12, 20, `slow-peer-${i}`)));
    const fast = trial(20, curve(0.82, 1, 6, 'fast'));
    expect(rule({ max_epochs: 10 }).decide(fast, slowPeers).stop).toBe(false);
    expect(rule().decide(fast, slowPeers)).toMatchObject({ stop: true, reason: expect.stringContaining('extrapolated to epoch 20') });
    // Trials past the horizon are not judged.
    expect(rule({ max_epochs: 5 }).decide(fast, slowPeers).stop).toBe(false);
  });

  it('rejects unknown and invalid options by name', () => {
    expect(() => learningCurveRulePlugin.parseOptions({ confidance: 2 })).toThrow(/confidance/);
    expect(() => learningCurveRulePlugin.parseOptions({ min_epochs: 0 })).toThrow(/min_epochs/);
    expect(() => learningCurveRulePlugin.parseOptions({ noise: 0 })).toThrow(/noise/);
    expect(() => learningCurveRulePlugin.parseOptions({ top_k: 0 })).toThrow(/top_k/);
    expect(() => learningCurveRulePlugin.parseOptions({ behind_confidence: 0 })).toThrow(/behind_confidence/);
    expect(() => learningCurveRulePlugin.parseOptions({ leaders: 0 })).toThrow(/leaders/);
    expect(() => learningCurveRulePlugin.parseOptions({ reference: 'last' })).toThrow(/reference/);
    expect(() => learningCurveRulePlugin.parseOptions({ power_exponents: [0] })).toThrow(/power_exponents/);
    expect(() => learningCurveRulePlugin.parseOptions({ max_time_constant: 0 })).toThrow(/max_time_constant/);
    expect(() => learningCurveRulePlugin.parseOptions({ initial_noise: {} })).toThrow(
      /initial_noise[\s\S]*reads the noise from the values below initial_value: give initial_value too/,
    );
    expect(() => learningCurveRulePlugin.parseOptions({ initial_value: 0.5, initial_noise: { min_samples: 0 } })).toThrow(/min_samples/);
    expect(learningCurveRulePlugin.parseOptions({})).toEqual({
      min_epochs: 2,
      confidence: 2,
      top_k: 1,
      leaders: 3,
      reference: 'best',
      power_exponents: [],
    });
  });

  describe('behind_confidence', () => {
    /** The first epoch (2..19) at which the rule stops the curve, or 0 when it never does. */
    const firstStop = (r: StoppingRule, t: TrialView, others: readonly TrialView[]): number => {
      for (let k = 2; k < 20; k++) if (r.decide(upTo(t, k), others).stop) return k;
      return 0;
    };

    it('stops a trial behind the leading trials at its epoch sooner, and says so', () => {
      // Heading for 0.85 (the best is 0.92) with τ = 3: behind the fast leaders at every epoch.
      const behind = trial(20, curve(0.85, 3, 20, 'b85'));
      const anchored = { min_epochs: 1, initial_value: 0.5 };
      const plain = firstStop(rule(anchored), behind, peers);
      const eager = firstStop(rule({ ...anchored, behind_confidence: 0.5 }), behind, peers);
      expect(plain).toBe(5);
      expect(eager).toBe(2);
      const d = rule({ ...anchored, behind_confidence: 0.5 }).decide(upTo(behind, eager), peers);
      expect(d.stop && d.reason).toContain('(0.5 sd optimism, behind the 3 leading trials at epoch 2, noise sd');
    });

    it('keeps full optimism for a trial ahead of one of the leaders at its epoch', () => {
      // The same kind of curve, but with a leader that starts slowly (a late bloomer ending best):
      // the trial is ahead of it early on, so it is judged exactly as without behind_confidence.
      const bloomer = trial(30, curve(0.93, 6, 20, 'bloomer'));
      const withBloomer = [...peers, bloomer];
      const t = trial(20, curve(0.9, 2, 20, 'behind'));
      for (let k = 2; k <= 4; k++) {
        expect(rule({ behind_confidence: 0.5 }).decide(upTo(t, k), withBloomer)).toEqual(rule().decide(upTo(t, k), withBloomer));
      }
    });

    it('keeps the slow, steep climber that ends best when anchored; unanchored, less optimism is its price', () => {
      const slow = trial(20, curve(0.95, 4, 20, 'slow'));
      const anchored = { min_epochs: 1, initial_value: 0.5, behind_confidence: 0.5 };
      for (let k = 1; k < 20; k++) expect(rule(anchored).decide(upTo(slow, k), peers)).toEqual({ stop: false });
      // Without the anchor its first epochs fit a flatter curve: 0.5 sd stops it at epoch 6, 1.5 sd keeps it.
      expect(firstStop(rule({ behind_confidence: 0.5 }), slow, peers)).toBe(6);
      expect(firstStop(rule({ behind_confidence: 1.5 }), slow, peers)).toBe(0);
    });

    it('counts only leaders that reached the epoch, and with leaders 1 only the best', () => {
      const behind = trial(20, curve(0.9, 2, 20, 'behind'));
      // Cut every peer at 2 epochs but the best: a trial at epoch 6 is compared with that one only.
      const cut = peers.map((p) => (p.number === 9 ? p : upTo(p, 2)));
      const oneLeader = rule({ behind_confidence: 0.5, leaders: 1, noise: 0.005 });
      const three = rule({ behind_confidence: 0.5, noise: 0.005 });
      const [a, b] = [three.decide(upTo(behind, 6), cut), oneLeader.decide(upTo(behind, 6), cut)];
      expect(a.stop).toBe(b.stop);
      expect(a.stop && a.reason.replace('3 leading', '1 leading')).toBe(b.stop && b.reason);
    });

    it('with late, gives trials from late.from_trial on its behind_confidence instead, and says so', () => {
      const anchored = { min_epochs: 1, initial_value: 0.5, behind_confidence: 0.5 };
      const late = { ...anchored, late: { from_trial: 25, behind_confidence: 2 } };
      // The behind trial of the first test: 0.5 sd stops it at epoch 2, full optimism at 5.
      const early = trial(20, curve(0.85, 3, 20, 'b85'));
      const later = { ...trial(25, curve(0.85, 3, 20, 'b85')), id: 'late' };
      expect(firstStop(rule(late), early, peers)).toBe(2);
      expect(firstStop(rule(late), later, peers)).toBe(5);
      const d = rule({ ...anchored, late: { from_trial: 25, behind_confidence: 1 } }).decide(upTo(later, 3), peers);
      expect(d.stop && d.reason).toContain('(1 sd optimism, behind the 3 leading trials at epoch 3, trial 25 or later, noise sd');
      // Without behind_confidence, early trials keep `confidence` and late ones behind get late's.
      expect(firstStop(rule({ min_epochs: 1, initial_value: 0.5, late: { from_trial: 25, behind_confidence: 0.5 } }), later, peers)).toBe(
        2,
      );
      expect(firstStop(rule({ min_epochs: 1, initial_value: 0.5, late: { from_trial: 25, behind_confidence: 0.5 } }), early, peers)).toBe(
        5,
      );
      expect(() => learningCurveRulePlugin.parseOptions({ late: { from_trial: -1, behind_confidence: 1 } })).toThrow(/from_trial/);
      expect(() => learningCurveRulePlugin.parseOptions({ late: { from_trial: 3, behind_confidence: 0 } })).toThrow(/behind_confidence/);
    });
  });

  describe('reference, power_exponents, max_time_constant', () => {
    /** The first epoch (1..19) at which the rule stops the curve, or 0 when it never does. */
    const firstStop = (r: StoppingRule, t: TrialView, others: readonly TrialView[]): number => {
      for (let k = 1; k < 20; k++) if (r.decide(upTo(t, k), others).stop) return k;
      return 0;
    };
    const anchored = { min_epochs: 1, initial_value: 0.5, noise: 0.005 };

    it("with reference 'final', compares with the peers' values at the horizon, not their noise peaks", () => {
      // The best peer peaked at 0.928 on its way to 0.9195 at epoch 20: a flat curve heading for
      // 0.918 can still end above that final value with a lucky last epoch, never above the peak.
      const near = trial(20, curve(0.918, 1, 20, 'ref0.918'));
      expect(firstStop(rule({ noise: 0.005 }), near, peers)).toBe(11);
      expect(firstStop(rule({ noise: 0.005, reference: 'final' }), near, peers)).toBe(0);
      const low = trial(20, curve(0.85, 1, 20, 'low'));
      const d = rule({ noise: 0.005, reference: 'final' }).decide(upTo(low, 4), peers);
      expect(d.stop && d.reason).toMatch(/below the best value at epoch 20 0\.9195 of 10 other trials$/);
      // While no peer has reached the horizon, their best values so far stand in.
      const running = peers.map((p) => upTo(p, 10));
      const early = rule({ noise: 0.005, reference: 'final' }).decide(upTo(low, 4), running);
      expect(early.stop && early.reason).toMatch(/below the best 0\.9281 of 10 other trials$/);
    });

    it('with power_exponents, keeps a curve that rises as a power of time to above the best', () => {
      // 0.95 − 0.45·(1 + t/1.1)^−1.2: 0.937 at epoch 20, above every peer; exponentials fitted to its
      // first epochs flatten too soon and write it off at epoch 2.
      const rng = new Rng('power');
      const power = trial(
        20,
        Array.from({ length: 20 }, (_, i) => 0.95 - 0.45 * (1 + (i + 1) / 1.1) ** -1.2 + 0.005 * rng.normal()),
      );
      expect(firstStop(rule(anchored), power, peers)).toBe(2);
      expect(firstStop(rule({ ...anchored, power_exponents: [1] }), power, peers)).toBe(0);
    });

    it('with max_time_constant, stops a slow, nearly straight climber that ends below the best without waiting for its bend', () => {
      // τ = 8 towards 0.95: 0.913 at epoch 20, below the best. As a line it looks able to get there until epoch 14.
      const slow = trial(20, curve(0.95, 8, 20, 'slow8'));
      expect(firstStop(rule(anchored), slow, peers)).toBe(14);
      expect(firstStop(rule({ ...anchored, max_time_constant: 3 }), slow, peers)).toBe(1);
      // A fast curve that ends best is kept all the same.
      const leader = trial(20, curve(0.95, 1, 20, 'leader'));
      expect(firstStop(rule({ ...anchored, max_time_constant: 3 }), leader, peers)).toBe(0);
    });
  });

  describe('peer_gains', () => {
    /** The first epoch (1..19) at which the rule stops the curve, or 0 when it never does. */
    const firstStop = (r: StoppingRule, t: TrialView, others: readonly TrialView[]): number => {
      for (let k = 1; k < 20; k++) if (r.decide(upTo(t, k), others).stop) return k;
      return 0;
    };
    const anchored = { min_epochs: 1, initial_value: 0.5, noise: 0.005, max_time_constant: 3 };
    /** Flat at 0.5 for `delay` epochs, then final − (final − 0.5)·exp(−(t − delay)/τ), noisy. */
    const bloom = (final: number, delay: number, tau: number, seed: string): number[] => {
      const rng = new Rng(seed);
      return Array.from(
        { length: 20 },
        (_, i) => final - (final - 0.5) * Math.exp(-Math.max(0, i + 1 - delay) / tau) + 0.005 * rng.normal(),
      );
    };
    const withParams = (t: TrialView, params: TrialView['params']): TrialView => ({ ...t, params });
    // The fast peers are sgd at various rates; three adam peers bloomed late, after 4 flat epochs, and end best.
    const sgd = peers.map((p, i) => withParams(p, { optimizer: 'sgd', lr: 10 ** (-4 + i / 3) }));
    const adam = (final: number, lr: number, i: number, delay = 4) =>
      withParams(trial(10 + i, bloom(final, delay, 2, `adam-${i}`)), { optimizer: 'adam', lr });
    const bloomers = [adam(0.935, 1e-4, 0), adam(0.94, 2e-4, 1), adam(0.93, 5e-5, 2)];
    const late = withParams(trial(20, bloom(0.945, 4, 2, 'late')), { optimizer: 'adam', lr: 1.5e-4 });

    it('keeps a late bloomer whose look-alikes bloomed late, which the extrapolation alone writes off', () => {
      const others = [...sgd, ...bloomers];
      expect(firstStop(rule(anchored), late, others)).toBe(1);
      expect(firstStop(rule({ ...anchored, peer_gains: {} }), late, others)).toBe(0);
    });

    it('stops it all the same when its look-alikes flattened, and says what they gained', () => {
      const flatAdam = [0, 1, 2].map((i) => adam(0.52, [1e-4, 2e-4, 5e-5][i] as number, i, 0));
      const others = [...sgd, ...flatAdam];
      const r = rule({ ...anchored, peer_gains: {} });
      expect(firstStop(r, late, others)).toBe(1);
      const d = r.decide(upTo(late, 1), others);
      expect(d.stop && d.reason).toMatch(/of 13 other trials; its 5 most similar trials' gains after epoch 1 reach 0\.\d+ at best$/);
    });

    it('takes like categorical choices first: with same_choices, only those; fewer than min_peers, the extrapolation alone', () => {
      // Only the sgd peers (fast learners, small gains after epoch 1): without same_choices their
      // gains judge the adam trial; with it, none are like it and the extrapolation alone decides.
      const any = rule({ ...anchored, peer_gains: {} }).decide(upTo(late, 1), sgd);
      expect(any.stop && any.reason).toContain("its 5 most similar trials' gains after epoch 1");
      expect(rule({ ...anchored, peer_gains: { same_choices: true } }).decide(upTo(late, 1), sgd)).toEqual(
        rule(anchored).decide(upTo(late, 1), sgd),
      );
      const two = [...sgd, ...bloomers.slice(0, 2)];
      expect(rule({ ...anchored, peer_gains: { same_choices: true, min_peers: 3 } }).decide(upTo(late, 1), two)).toEqual(
        rule(anchored).decide(upTo(late, 1), two),
      );
      expect(firstStop(rule({ ...anchored, peer_gains: { same_choices: true, min_peers: 2 } }), late, two)).toBe(0);
    });

    it("with role 'stop', also stops a trial the extrapolation keeps once its look-alikes say it cannot get there", () => {
      // A steady climber heading for 0.95 among sgd peers; its look-alikes (sgd at its rate) all flattened near 0.85.
      const flatPeers = [0, 1, 2].map((i) =>
        withParams(trial(30 + i, curve(0.85, 1, 20, `flat-${i}`)), { optimizer: 'sgd', lr: 1e-3 * (1 + i / 10) }),
      );
      const climber = withParams(trial(40, curve(0.95, 3, 20, 'climb')), { optimizer: 'sgd', lr: 1.05e-3 });
      const others = [...sgd, ...flatPeers];
      const options = { ...anchored, peer_gains: { role: 'stop', same_choices: true, neighbours: 3 } };
      expect(firstStop(rule(anchored), climber, others)).toBe(0);
      expect(firstStop(rule({ ...anchored, peer_gains: { same_choices: true, neighbours: 3 } }), climber, others)).toBe(0);
      const at = firstStop(rule(options), climber, others);
      expect(at).toBeGreaterThan(0);
      expect(firstStop(rule({ ...options, peer_gains: { ...options.peer_gains, from_epoch: at + 2 } }), climber, others)).toBe(at + 2);
      const d = rule(options).decide(upTo(climber, at), others);
      expect(d.stop && d.reason).toMatch(
        /predicted from its 3 most similar trials' gains after epoch \d+ reach 0\.\d+ at best \(2 sd optimism.*\(the extrapolation reaches 0\.\d+\)$/,
      );
    });

    it('rejects invalid peer_gains options by name', () => {
      expect(() => learningCurveRulePlugin.parseOptions({ peer_gains: { quantile: 1.5 } })).toThrow(/quantile/);
      expect(() => learningCurveRulePlugin.parseOptions({ peer_gains: { neighbours: 0 } })).toThrow(/neighbours/);
      expect(() => learningCurveRulePlugin.parseOptions({ peer_gains: { role: 'veto' } })).toThrow(/role/);
      expect(() => learningCurveRulePlugin.parseOptions({ peer_gains: { k: 3 } })).toThrow(/k/);
    });
  });
});
