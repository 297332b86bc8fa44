import { type Params, Rng, type TrialView, paramsKey, sampleSpace } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { BRANIN_MIN, bestAfter, branin, braninSpace, lrBowl, lrSpace } from './optimise.test-helpers.ts';
import { randomStrategy } from './random.ts';
import { defaultWeights } from './tpe-parzen.ts';
import { tpeStrategy } from './tpe.ts';

const make = async (options: Record<string, unknown>, space = lrSpace, direction: 'minimize' | 'maximize' = 'minimize') =>
  tpeStrategy.create(tpeStrategy.parseOptions(options), { space, direction, metric: 'loss', maxTrials: 1000, maxEpochs: 1 });

describe('tpe strategy', () => {
  it('finds the optimum region of a 1-D log-scale bowl in 40 trials (seeds 1–3)', async () => {
    for (const seed of [1, 2, 3]) {
      const { best } = await bestAfter(await make({ seed }), lrBowl, 40);
      // within a quarter of a decade of 3e-4, on a range of 7 decades
      expect(best.value, `seed ${seed}`).toBeLessThan(0.25 ** 2);
    }
  });

  it('finds the optimum region of Branin in 60 trials, multivariate (default) and univariate, and beats random', async () => {
    const regrets: Record<string, number[]> = { tpe: [], mv: [], random: [] };
    for (const seed of [1, 2, 3, 4, 5]) {
      regrets.tpe?.push((await bestAfter(await make({ seed, multivariate: false }, braninSpace), branin, 60)).best.value - BRANIN_MIN);
      regrets.mv?.push((await bestAfter(await make({ seed }, braninSpace), branin, 60)).best.value - BRANIN_MIN);
      const random = await randomStrategy.create(
        { seed },
        { space: braninSpace, direction: 'minimize', metric: 'loss', maxTrials: 60, maxEpochs: 1 },
      );
      regrets.random?.push((await bestAfter(random, branin, 60)).best.value - BRANIN_MIN);
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[2] as number;
    expect(median(regrets.tpe as number[])).toBeLessThan(0.5);
    expect(median(regrets.mv as number[])).toBeLessThan(0.5);
    expect(median(regrets.mv as number[])).toBeLessThan(median(regrets.random as number[]));
  });

  it('maximises as well as minimises (the direction flips the ranking)', async () => {
    const { best } = await bestAfter(await make({ seed: 4 }, lrSpace, 'maximize'), (p) => -lrBowl(p), 40, 'maximize');
    expect(best.value).toBeGreaterThan(-(0.25 ** 2));
  });

  it('with constant liar, a batch of 16 asked while 16 run holds 32 distinct points', async () => {
    const { history } = await bestAfter(await make({ seed: 5 }), lrBowl, 20);
    const s = await make({ seed: 5 });
    const first = (await s.ask(history, 16)) as Params[];
    const running: TrialView[] = [
      ...history,
      ...first.map((p, i) => ({ id: `r${i}`, number: 20 + i, params: p, state: 'running' as const, epochs: [] })),
    ];
    const second = (await s.ask(running, 16)) as Params[];
    expect(new Set([...first, ...second].map(paramsKey)).size).toBe(32);
    // The running trials change the answer (they are counted as bad).
    const without = await make({ seed: 5, constant_liar: false });
    expect(await without.ask(running, 1)).not.toEqual(await s.ask(running, 1));
  });

  it('weights old trials down beyond the newest 25 (Optuna default_weights)', () => {
    expect([...defaultWeights(3)]).toEqual([1, 1, 1]);
    const w = defaultWeights(30);
    expect(w[0]).toBeCloseTo(1 / 30);
    expect(w[4]).toBeCloseTo(1);
    expect([...w.slice(5)]).toEqual(new Array(25).fill(1));
  });

  it('rejects bad options by name', () => {
    expect(() => tpeStrategy.parseOptions({ n_startup: 3 })).toThrow(/n_startup/);
    expect(() => tpeStrategy.parseOptions({ gamma: 2 })).toThrow(/at most 1/);
  });
  it('suggests the same from a history it has seen grow as a fresh strategy does (the encoded rows it keeps between asks change nothing)', async () => {
    const space = { ...braninSpace, opt: { type: 'categorical', choices: ['a', 'b', 'c'] } } as typeof braninSpace;
    const rng = new Rng('tpe-prefix');
    const trial = (i: number, state: TrialView['state'] = 'completed'): TrialView => {
      const params = sampleSpace(space, rng);
      return { id: `t${i}`, number: i, params, state, value: branin(params) + (params.opt === 'a' ? 0 : 5), epochs: [] };
    };
    const history = Array.from({ length: 40 }, (_, i) => trial(i, i === 30 ? 'running' : 'completed'));
    const kept = await make({ seed: 9 }, space);
    await kept.ask(history, 1);
    // The history grows, the running trial finishes (a new object in the middle), and one is failed.
    const running = history[30] as TrialView;
    const grown = [
      ...history.slice(0, 30),
      { ...running, state: 'completed' as const },
      ...history.slice(31),
      trial(40),
      trial(41, 'failed'),
    ];
    const again = await kept.ask(grown, 2);
    expect(again).toEqual(await (await make({ seed: 9 }, space)).ask(grown, 2));
    // Asked with a shorter history again (another study's view, a retried ask), it still agrees.
    const shorter = grown.slice(0, 25);
    expect(await kept.ask(shorter, 1)).toEqual(await (await make({ seed: 9 }, space)).ask(shorter, 1));
  });
});
