import { type Params, Rng, type Space, sampleSpace, type TrialView } from '@sweepd/core';
import { strategyContractSuite } from '@sweepd/core/testing';
import { describe, expect, it } from 'vitest';
import { tpeStrategy } from './tpe.ts';
import { tpeLocalStrategy } from './tpe-local.ts';

strategyContractSuite('tpe-local', tpeLocalStrategy, { options: { seed: 3 } });

const space = {
  lr: { type: 'float', low: 1e-8, high: 1e-1, log: true },
  optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
  frozen: { type: 'int', low: 0, high: 10, step: 1, log: false },
} as Space;
const ctx = { space, direction: 'maximize' as const, metric: 'auc', maxTrials: 100, maxEpochs: 20 };
const make = async (options: Record<string, unknown>) => tpeLocalStrategy.create(tpeLocalStrategy.parseOptions(options), ctx);

/** 20 finished trials with random configurations: every other one stopped; the best completed one is returned too. */
function history(): { trials: TrialView[]; incumbent: Params } {
  const rng = new Rng('tpe-local');
  const trials: TrialView[] = [];
  for (let i = 0; i < 20; i++) {
    const params = sampleSpace(space, rng);
    trials.push({ id: `t${i}`, number: i, params, state: i % 2 ? 'stopped' : 'completed', value: 0.5 + 0.02 * i, epochs: [] });
  }
  // The best value belongs to a stopped trial (19); the incumbent is the best completed one (18).
  return { trials, incumbent: (trials[18] as TrialView).params };
}

describe('tpe-local strategy', () => {
  it('is TPE with local_fraction 0, and during the start-up trials', async () => {
    const { trials } = history();
    const tpe = await tpeStrategy.create(tpeStrategy.parseOptions({ seed: 5 }), ctx);
    expect(await (await make({ seed: 5, local_fraction: 0 })).ask(trials, 4)).toEqual(await tpe.ask(trials, 4));
    const early = trials.slice(0, 6);
    expect(await (await make({ seed: 5, local_fraction: 1 })).ask(early, 3)).toEqual(await tpe.ask(early, 3));
  });

  it('steps from the best completed trial: its optimizer kept, its numbers moved by about local_scale of their ranges', async () => {
    const { trials, incumbent } = history();
    const out = (await (await make({ seed: 5, local_fraction: 1, local_scale: 0.05 })).ask(trials, 20)) as Params[];
    const decades = (lr: unknown) => Math.log10(lr as number);
    for (const p of out) {
      expect(p.optimizer).toBe(incumbent.optimizer);
      // 0.05 of 7 decades (and a little for the int's half cells) is 0.35 decades: within 4 sd.
      expect(Math.abs(decades(p.lr) - decades(incumbent.lr))).toBeLessThan(1.5);
      expect(Number.isInteger(p.frozen)).toBe(true);
      expect(Math.abs((p.frozen as number) - (incumbent.frozen as number))).toBeLessThanOrEqual(3);
    }
    // Not all the same point, and the same answer when asked again (a pure function of the history).
    expect(new Set(out.map((p) => p.lr)).size).toBeGreaterThan(10);
    expect(await (await make({ seed: 5, local_fraction: 1, local_scale: 0.05 })).ask(trials, 20)).toEqual(out);
  });

  it('mixes local steps and TPE suggestions in about local_fraction', async () => {
    const { trials, incumbent } = history();
    const out = (await (await make({ seed: 7, local_fraction: 0.3 })).ask(trials, 200)) as Params[];
    const near = out.filter(
      (p) => p.optimizer === incumbent.optimizer && Math.abs(Math.log10(p.lr as number) - Math.log10(incumbent.lr as number)) < 2,
    );
    expect(near.length).toBeGreaterThan(40);
    expect(near.length).toBeLessThan(140);
  });

  it('rejects invalid options by name', () => {
    expect(() => tpeLocalStrategy.parseOptions({ local_fraction: 1.5 })).toThrow(/local_fraction/);
    expect(() => tpeLocalStrategy.parseOptions({ local_scale: 0 })).toThrow(/local_scale/);
    expect(() => tpeLocalStrategy.parseOptions({ local_fractoin: 0.2 })).toThrow(/local_fractoin/);
  });
});
