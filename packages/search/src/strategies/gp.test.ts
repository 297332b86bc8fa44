import { type Params, type Space, type TrialView, checkParams } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { gpStrategy } from './gp.ts';
import { BRANIN_MIN, bestAfter, branin, braninSpace, lrBowl, lrSpace } from './optimise.test-helpers.ts';

const make = async (options: Record<string, unknown>, space: Space = lrSpace) =>
  gpStrategy.create(gpStrategy.parseOptions(options), { space, direction: 'minimize', metric: 'loss', maxTrials: 100, maxEpochs: 1 });

describe('gp strategy', () => {
  it('finds the optimum of a 1-D log-scale bowl in 15 trials (seeds 1–3)', async () => {
    for (const seed of [1, 2, 3]) {
      const { best } = await bestAfter(await make({ seed }), lrBowl, 15);
      expect(best.value, `seed ${seed}`).toBeLessThan(0.1 ** 2);
    }
  });

  it('finds the optimum region of Branin in 30 trials (seeds 1–3)', async () => {
    for (const seed of [1, 2, 3]) {
      const { best } = await bestAfter(await make({ seed }, braninSpace), branin, 30);
      expect(best.value - BRANIN_MIN, `seed ${seed}`).toBeLessThan(0.1);
    }
  });

  it('survives duplicate points and a constant objective (jitter, no NaN)', async () => {
    const same: Params = { lr: 1e-3 };
    const history: TrialView[] = Array.from({ length: 12 }, (_, i) => ({
      id: `t${i}`,
      number: i,
      params: same,
      state: 'completed',
      value: 0.5,
      epochs: [],
    }));
    const answer = (await (await make({ seed: 1 })).ask(history, 3)) as Params[];
    expect(answer).toHaveLength(3);
    for (const p of answer) {
      expect(checkParams(lrSpace, p)).toEqual([]);
      expect(Number.isFinite(p.lr)).toBe(true);
    }
  });

  it('refuses a space too large for a GP and points to tpe', async () => {
    const space: Space = Object.fromEntries(
      Array.from({ length: 7 }, (_, i) => [`c${i}`, { type: 'categorical', choices: ['a', 'b', 'c'] }]),
    );
    await expect(make({}, space)).rejects.toThrow(/21 model dimensions.*at most 20.*use tpe/);
  });

  it('rejects unknown options by name', () => {
    expect(() => gpStrategy.parseOptions({ kernel: 'rbf' })).toThrow(/kernel/);
  });
});
