import { describe, expect, it } from 'vitest';
import { ashaRulePlugin, createAshaRule } from './asha.ts';
import { loadRecordedStudies, replay } from './optuna-replay.ts';
import { noiseEstimate, rungEpochs } from './successive-halving.ts';
import { flat, METRIC, trial, upTo } from './test-histories.ts';

const ctx = { direction: 'maximize' as const, metric: METRIC, maxEpochs: 20 };
const rule = (raw: unknown = {}) => createAshaRule(ashaRulePlugin.parseOptions(raw), ctx);

describe('asha rule', () => {
  it('puts rungs at grace·η^(s+k) below max_epochs', () => {
    expect(rungEpochs({ grace: 1, eta: 4, s: 0, maxEpochs: 20 })).toEqual([1, 4, 16]);
    expect(rungEpochs({ grace: 1, eta: 3, s: 1, maxEpochs: 20 })).toEqual([3, 9]);
    expect(rungEpochs({ grace: 2, eta: 2, s: 0, maxEpochs: 16 })).toEqual([2, 4, 8]);
    expect(rungEpochs({ grace: 5, eta: 2, s: 0, maxEpochs: 5 })).toEqual([]);
  });

  it('decides exactly as Optuna 3.1 SuccessiveHalvingPruner on recorded asynchronous studies', () => {
    const studies = loadRecordedStudies().filter((s) => s.kind === 'sha');
    expect(studies.length).toBeGreaterThan(0);
    for (const study of studies) {
      const options = { grace_period: study.options.grace, reduction_factor: study.options.eta, min_early_stopping_rate: study.options.s };
      const r = createAshaRule(ashaRulePlugin.parseOptions(options), {
        direction: study.direction,
        metric: METRIC,
        maxEpochs: study.max_epochs,
      });
      const { mismatches, prunes } = replay(study, r);
      expect(prunes).toBeGreaterThan(10);
      expect(mismatches, `${study.kind} seed ${study.seed}`).toEqual([]);
    }
  });

  it('keeps the top 1/η at a rung and stops the rest, with the numbers in the reason', () => {
    // Eight peers at rung 1 (epoch 1): 0.50 … 0.85; with the trial n = 9, ⌊9/4⌋ = 2: top two go on.
    const peers = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85].map((v, i) => trial(i, [v]));
    expect(rule().decide(trial(20, [0.8]), peers)).toEqual({ stop: false });
    expect(rule().decide(trial(20, [0.79]), peers)).toEqual({
      stop: true,
      reason:
        'asha: val_auc 0.79 at epoch 1 (rung 0, epoch 1) is not in the top 1/4 of 9 trials at that rung: it needs ≥ 0.8, the 2nd best',
    });
  });

  it('never stops the current best at a rung, nor a trial alone there, nor before the first rung', () => {
    const peers = [0.9, 0.91, 0.92].map((v, i) => trial(i, flat(v, 20)));
    expect(rule().decide(trial(9, [0.95]), peers).stop).toBe(false);
    expect(rule().decide(trial(9, [0.1]), []).stop).toBe(false);
    expect(rule({ grace_period: 3 }).decide(trial(9, [0.1, 0.1]), peers).stop).toBe(false);
    expect(rule({ grace_period: 3 }).decide(trial(9, [0.1, 0.1, 0.1]), peers).stop).toBe(true);
  });

  it('judges a rung only once: a trial promoted past it continues whatever comes later', () => {
    const t = trial(9, [0.9, 0.5, 0.5]);
    const peers = [0.8, 0.7, 0.6].map((v, i) => trial(i, [v, v, v]));
    expect(rule().decide(upTo(t, 1), peers).stop).toBe(false);
    // Epochs 2 and 3 are between rungs 1 and 4: no decision, though now the worst.
    expect(rule().decide(upTo(t, 3), peers).stop).toBe(false);
    // Stronger peers arriving later at rung 1 do not demote it.
    const stronger = [0.95, 0.96, 0.97, 0.98].map((v, i) => trial(10 + i, [v]));
    expect(rule().decide(upTo(t, 3), [...peers, ...stronger]).stop).toBe(false);
    // At rung 2 (epoch 4) it competes again.
    const t4 = trial(9, [0.9, 0.5, 0.5, 0.5]);
    const peers4 = [0.8, 0.7, 0.6, 0.9].map((v, i) => trial(i, flat(v, 4)));
    expect(rule().decide(t4, peers4).stop).toBe(true);
  });

  it('uses the first reported epoch at or after a rung when epochs are missing', () => {
    const peers = [0.8, 0.85, 0.9, 0.95].map((v, i) => trial(i, flat(v, 5)));
    const gap = { ...trial(9, [0.9, 0.5, 0.5, 0.5, 0.5]) };
    const withGap = { ...gap, epochs: gap.epochs.filter((e) => e.epoch !== 4) };
    expect(rule().decide(withGap, peers)).toMatchObject({ stop: true, reason: expect.stringContaining('at epoch 5 (rung 1, epoch 4)') });
  });

  it('stops on a NaN value at a rung, and has no rung at or after max_epochs', () => {
    expect(rule().decide(trial(9, [Number.NaN]), [])).toMatchObject({ stop: true, reason: expect.stringContaining('NaN') });
    const peers = [0.9, 0.91, 0.92, 0.93].map((v, i) => trial(i, flat(v, 20)));
    expect(rule({ max_epochs: 16 }).decide(trial(9, flat(0.1, 16)), peers).stop).toBe(false);
    expect(rule().decide(trial(9, flat(0.1, 16)), peers).stop).toBe(true);
  });

  it('rejects bad options by name', () => {
    expect(() => ashaRulePlugin.parseOptions({ reduction_factor: 1 })).toThrow(/reduction_factor/);
    expect(() => ashaRulePlugin.parseOptions({ grace: 1 })).toThrow(/grace/);
    expect(() => ashaRulePlugin.parseOptions({ tolerance: -0.1 })).toThrow(/tolerance/);
    expect(() => ashaRulePlugin.parseOptions({ rung_value: 'last' })).toThrow(/rung_value/);
    expect(ashaRulePlugin.parseOptions({})).toEqual({
      grace_period: 1,
      reduction_factor: 4,
      min_early_stopping_rate: 0,
      tolerance: 0,
      noise_tolerance: 0,
      rung_value: 'at',
    });
  });
});

describe('asha options beyond Optuna', () => {
  // Eight peers at rung 1: 0.50 … 0.85; with the trial n = 9 the cutoff is 0.80 (2nd best).
  const rung1 = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85].map((v, i) => trial(i, [v]));

  it('tolerance promotes a trial within that much of the cutoff, and says so when it stops one', () => {
    expect(rule().decide(trial(20, [0.795]), rung1).stop).toBe(true);
    expect(rule({ tolerance: 0.01 }).decide(trial(20, [0.795]), rung1).stop).toBe(false);
    expect(rule({ tolerance: 0.01 }).decide(trial(20, [0.789]), rung1)).toEqual({
      stop: true,
      reason:
        'asha: val_auc 0.789 at epoch 1 (rung 0, epoch 1) is not in the top 1/4 of 9 trials at that rung: it needs ≥ 0.8, the 2nd best − 0.01 tolerance',
    });
    const minimize = createAshaRule(ashaRulePlugin.parseOptions({ tolerance: 0.01 }), { ...ctx, direction: 'minimize' });
    const low = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85].map((v, i) => trial(i, [v]));
    expect(minimize.decide(trial(20, [0.56]), low).stop).toBe(false); // cutoff 0.55 + 0.01
    expect(minimize.decide(trial(20, [0.57]), low).stop).toBe(true);
  });

  it('estimates the noise from the peers’ second differences, ignoring a linear trend', () => {
    // Alternating ±0.01 around a rising line: every second difference is ±0.04.
    const jitter = (i: number) => Array.from({ length: 9 }, (_, e) => 0.6 + 0.02 * e + (e % 2 ? 0.01 : -0.01) + i * 0.001);
    const noisy = [0, 1, 2].map((i) => trial(i, jitter(i)));
    expect(noiseEstimate(noisy, METRIC)).toBeCloseTo(0.04 / (0.6745 * Math.sqrt(6)), 10);
    const straight = [0, 1].map((i) =>
      trial(
        i,
        Array.from({ length: 6 }, (_, e) => 0.5 + 0.05 * e),
      ),
    );
    expect(noiseEstimate(straight, METRIC)).toBeCloseTo(0, 12);
    expect(noiseEstimate([trial(0, [0.5, 0.6])], METRIC)).toBeNaN();
  });

  it('noise_tolerance widens the cutoff by that many estimated noise sds, and by nothing without an estimate', () => {
    const sd = 0.04 / (0.6745 * Math.sqrt(6)); // ≈ 0.0242
    // Peers at rung 2 (epoch 4) with jittered curves; cutoff among the 5 values at epoch 4 is the best one.
    const jittered = (top: number) => Array.from({ length: 9 }, (_, e) => top - 0.02 * (8 - e) + (e % 2 ? 0.01 : -0.01));
    const peers = [0.7, 0.75, 0.8, 0.85].map((v, i) => trial(i, jittered(v)));
    const atRung = (p: (typeof peers)[number]) => p.epochs[3]!.metrics[METRIC]!;
    const cutoff = Math.max(...peers.map(atRung));
    const t = (v: number) => trial(9, [0.99, 0.99, 0.99, v]);
    expect(rule().decide(t(cutoff - 0.5 * sd), peers).stop).toBe(true);
    expect(rule({ noise_tolerance: 1 }).decide(t(cutoff - 0.5 * sd), peers).stop).toBe(false);
    expect(rule({ noise_tolerance: 1 }).decide(t(cutoff - 1.5 * sd), peers).stop).toBe(true);
    // Peers of one epoch each give no estimate: Optuna's cutoff.
    expect(rule({ noise_tolerance: 1 }).decide(trial(20, [0.795]), rung1).stop).toBe(true);
  });

  it("rung_value 'best' compares the best value up to the rung instead of the value at it", () => {
    const peers = [0.6, 0.7, 0.8, 0.9].map((v, i) => trial(i, flat(v, 4)));
    // 0.95 at epoch 2, then a dip to 0.5 at rung epoch 4.
    const dipped = trial(9, [0.5, 0.95, 0.6, 0.5]);
    expect(rule().decide(dipped, peers).stop).toBe(true);
    expect(rule({ rung_value: 'best' }).decide(dipped, peers).stop).toBe(false);
    // Peers are read the same way: a peer's earlier peak sets the cutoff.
    const peaked = [...peers, trial(5, [0.5, 0.99, 0.5, 0.5])];
    expect(rule({ rung_value: 'best' }).decide(dipped, peaked).stop).toBe(true);
  });
});
