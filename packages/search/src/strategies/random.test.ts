import { type Space, type TrialView, checkParams } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { randomStrategy } from './random.ts';

const space: Space = {
  lr: { type: 'float', low: 1e-8, high: 1e-1, log: true },
  opt: { type: 'categorical', choices: ['sgd', 'adam'] },
};
const ctx = { space, direction: 'maximize' as const, metric: 'auc', maxTrials: 100, maxEpochs: 5 };

describe('random strategy', () => {
  it('draws log-uniformly: about as many points per decade', async () => {
    const s = await randomStrategy.create(randomStrategy.parseOptions({ seed: 1 }), ctx);
    const answer = await s.ask([], 7000);
    if (answer === 'done') throw new Error('done');
    const perDecade = new Array(7).fill(0);
    for (const p of answer) {
      expect(checkParams(space, p as never)).toEqual([]);
      perDecade[Math.floor(Math.log10((p as { lr: number }).lr) + 8)]++;
    }
    for (const c of perDecade) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('depends on the seed and the history length only', async () => {
    const a = await randomStrategy.create(randomStrategy.parseOptions({ seed: 1 }), ctx);
    const b = await randomStrategy.create(randomStrategy.parseOptions({ seed: 2 }), ctx);
    expect(await a.ask([], 2)).not.toEqual(await b.ask([], 2));
    const one: TrialView[] = [{ id: 'x', number: 0, params: { lr: 0.01, opt: 'sgd' }, state: 'running', epochs: [] }];
    expect(await a.ask(one, 2)).not.toEqual(await a.ask([], 2));
  });

  it('does not repeat a tried configuration of a discrete space while untried ones remain', async () => {
    const grid: Space = {
      units: { type: 'int', low: 1, high: 4, step: 1, log: false },
      opt: { type: 'categorical', choices: ['sgd', 'adam'] },
    };
    const s = await randomStrategy.create(randomStrategy.parseOptions({ seed: 3 }), { ...ctx, space: grid });
    const history: TrialView[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await s.ask(history, 1);
      if (answer === 'done') throw new Error('done');
      history.push({ id: `t${i}`, number: i, params: answer[0] as never, state: 'completed', value: 0.5, epochs: [] });
    }
    const keys = history.map((t) => `${t.params.units}|${t.params.opt}`);
    expect(new Set(keys).size).toBe(8);
  });

  it('does not repeat a configuration without its conditional float', async () => {
    const gated: Space = {
      opt: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
      lr: { type: 'float', low: 1e-5, high: 1e-1, log: true, when: { opt: ['sgd'] } },
    };
    const tried: TrialView[] = ['adam', 'rmsprop'].map((opt, i) => ({
      id: `t${i}`,
      number: i,
      params: { opt },
      state: 'completed',
      epochs: [],
    }));
    for (let seed = 0; seed < 20; seed++) {
      const s = await randomStrategy.create(randomStrategy.parseOptions({ seed }), { ...ctx, space: gated });
      const answer = await s.ask(tried, 1);
      if (answer === 'done') throw new Error('done');
      expect((answer[0] as { opt: string }).opt).toBe('sgd');
    }
  });

  it('rejects unknown options by name', () => {
    expect(() => randomStrategy.parseOptions({ seed: 1, sead: 2 })).toThrow(/sead/);
    expect(() => randomStrategy.parseOptions({ seed: -1 })).toThrow(/>= 0/);
  });
});
