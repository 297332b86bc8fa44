import { describe, expect, it } from 'vitest';
import { createHyperbandRule, hyperbandBrackets, hyperbandRulePlugin } from './hyperband.ts';
import { loadRecordedStudies, replay } from './optuna-replay.ts';
import { flat, METRIC, trial } from './test-histories.ts';

const ctx = { direction: 'maximize' as const, metric: METRIC, maxEpochs: 20 };
const rule = (raw: unknown = {}) => createHyperbandRule(hyperbandRulePlugin.parseOptions(raw), ctx);

describe('hyperband rule', () => {
  it("has Optuna's brackets and budgets: 20 epochs, η 3 → 3 brackets of 9, 5 and 3 shares", () => {
    expect(hyperbandBrackets(1, 3, 20).budgets).toEqual([9, 5, 3]);
    expect(hyperbandBrackets(1, 3, 27).budgets.length).toBe(4);
    expect(hyperbandBrackets(1, 4, 20).budgets).toEqual([16, 6, 3]);
    expect(hyperbandBrackets(5, 3, 4).budgets).toEqual([1]);
  });

  it('assigns brackets deterministically from the number, in proportion to the budgets', () => {
    const { bracketOf, budgets } = hyperbandBrackets(1, 3, 20);
    const counts = [0, 0, 0];
    for (let n = 0; n < 1700; n++) counts[bracketOf(n)]!++;
    const total = budgets.reduce((a, b) => a + b, 0);
    for (const [b, budget] of budgets.entries()) expect(Math.abs(counts[b]! - (1700 * budget) / total)).toBeLessThan(5);
    expect(rule().tagsForTrial?.(7)).toEqual({ bracket: bracketOf(7) });
    // Within the first 17 trials every bracket appears.
    expect(new Set(Array.from({ length: 17 }, (_, n) => bracketOf(n))).size).toBe(3);
  });

  it('decides exactly as Optuna 3.1 HyperbandPruner given the same brackets (recorded studies)', () => {
    const studies = loadRecordedStudies().filter((s) => s.kind === 'hyperband');
    expect(studies.length).toBeGreaterThan(0);
    for (const study of studies) {
      const r = createHyperbandRule(
        hyperbandRulePlugin.parseOptions({ grace_period: study.options.grace, reduction_factor: study.options.eta }),
        {
          direction: study.direction,
          metric: METRIC,
          maxEpochs: study.max_epochs,
        },
      );
      const { mismatches, prunes } = replay(study, r);
      expect(prunes).toBeGreaterThan(10);
      expect(mismatches, `hyperband seed ${study.seed}`).toEqual([]);
    }
  });

  it('competes only within the bracket read from the tags, and names the bracket', () => {
    // Bracket 0 rungs at 1, 3, 9; bracket 1 at 3, 9; bracket 2 at 9.
    const strongInOther = [0.9, 0.91, 0.92, 0.93, 0.94, 0.95].map((v, i) => trial(i, flat(v, 10), { tags: { bracket: 1 } }));
    const weakInSame = [0.3, 0.4, 0.5].map((v, i) => trial(10 + i, flat(v, 10), { tags: { bracket: 0 } }));
    const t = trial(20, [0.6], { tags: { bracket: 0 } });
    expect(rule().decide(t, [...strongInOther, ...weakInSame]).stop).toBe(false);
    const weak = trial(21, [0.35], { tags: { bracket: 0 } });
    expect(rule().decide(weak, [...strongInOther, ...weakInSame, t])).toEqual({
      stop: true,
      reason:
        'hyperband (bracket 0): val_auc 0.35 at epoch 1 (rung 0, epoch 1) is not in the top 1/3 of 5 trials at that rung: it needs ≥ 0.6, the 1st best',
    });
    // In bracket 2 nothing is judged before epoch 9.
    const late = trial(22, flat(0.1, 8), { tags: { bracket: 2 } });
    expect(
      rule().decide(
        late,
        strongInOther.map((p) => ({ ...p, tags: { bracket: 2 } })),
      ).stop,
    ).toBe(false);
    const late9 = trial(22, flat(0.1, 9), { tags: { bracket: 2 } });
    expect(
      rule().decide(
        late9,
        strongInOther.map((p) => ({ ...p, tags: { bracket: 2 } })),
      ).stop,
    ).toBe(true);
  });

  it('falls back to the bracket of the number for trials without a valid tag', () => {
    const { bracketOf } = hyperbandBrackets(1, 3, 20);
    const n = Array.from({ length: 50 }, (_, i) => i).find((i) => bracketOf(i) === 0)!;
    const peers = [0.8, 0.9, 0.95].map((v, i) => trial(100 + i, [v], { tags: { bracket: 0 } }));
    expect(rule().decide(trial(n, [0.1]), peers).stop).toBe(true);
    expect(rule().decide(trial(n, [0.1], { tags: { bracket: 'zero' } }), peers).stop).toBe(true);
  });
});
