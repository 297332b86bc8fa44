import type { Params, Space, TrialView } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { gridStrategy } from './grid.ts';
import { logFloatPoints, logGridStrategy } from './log-grid.ts';

const ctx = (space: Space) => ({ space, direction: 'maximize' as const, metric: 'auc', maxTrials: 100, maxEpochs: 5 });
const asked = (params: Params[]): TrialView[] =>
  params.map((p, i) => ({ id: `t${i}`, number: i, params: p, state: 'completed', value: 0.5, epochs: [] }));

async function walk(s: { ask: (h: readonly TrialView[], n: number) => Promise<unknown> }, batch: number): Promise<Params[]> {
  const seen: Params[] = [];
  for (let i = 0; i < 10_000; i++) {
    const answer = await s.ask(asked(seen), batch);
    if (answer === 'done') return seen;
    seen.push(...(answer as Params[]));
  }
  throw new Error('never done');
}

describe('log-grid strategy', () => {
  const space: Space = {
    learning_rate: { type: 'float', low: 1e-8, high: 1e-1, log: true },
    optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'adam'] },
    momentum: { type: 'float', low: 0, high: 0.9, log: false, when: { optimizer: ['momentum'] } },
  };

  it('puts one point per decade on 1e-8..1e-1 (8 points), crosses choices, varies a conditional only where active', async () => {
    const s = await logGridStrategy.create(logGridStrategy.parseOptions({ points: 2 }), ctx(space));
    const all = await walk(s, 5);
    // 8 learning rates × (sgd + 2 momentum values + adam)
    expect(all.length).toBe(8 * 4);
    expect([...new Set(all.map((p) => p.learning_rate))]).toEqual([1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]);
    expect(all.filter((p) => p.optimizer === 'sgd').every((p) => !('momentum' in p))).toBe(true);
    expect(new Set(all.filter((p) => p.optimizer === 'momentum').map((p) => p.momentum))).toEqual(new Set([0, 0.9]));
    // Order: the first parameter varies slowest.
    expect(all.slice(0, 4).map((p) => p.learning_rate)).toEqual([1e-8, 1e-8, 1e-8, 1e-8]);
    expect(all.slice(0, 4).map((p) => p.optimizer)).toEqual(['sgd', 'momentum', 'momentum', 'adam']);
  });

  it('counts points already in the history, whatever their state, and skips them', async () => {
    const s = await logGridStrategy.create(
      logGridStrategy.parseOptions({ points_per_decade: 2 }),
      ctx({ lr: { type: 'float', low: 1e-3, high: 1e-1, log: true } }),
    );
    const first = (await s.ask([], 2)) as Params[];
    expect(first.map((p) => p.lr)).toEqual([1e-3, 0.00316227766017]);
    const running: TrialView[] = [{ id: 'a', number: 0, params: first[0] as Params, state: 'running', epochs: [] }];
    expect(((await s.ask(running, 1)) as Params[])[0]?.lr).toBe(0.00316227766017);
    expect((await walk(s, 3)).length).toBe(5);
  });

  it('refuses a grid of more than 100,000 points', () => {
    const big: Space = {
      a: { type: 'int', low: 0, high: 999, step: 1, log: false },
      b: { type: 'int', low: 0, high: 999, step: 1, log: false },
    };
    expect(() => logGridStrategy.create(logGridStrategy.parseOptions({}), ctx(big))).toThrow(/more than 100,000 points/);
  });

  // high / low overflowed to Infinity here: the daemon filled an array without end and died at submit.
  it('spans a range whose high / low overflows a double: 1e-160..1e160 is 320 decades', () => {
    const points = logFloatPoints(1e-160, 1e160, 1);
    expect(points.length).toBe(321);
    expect([points[0], points[160], points.at(-1)]).toEqual([1e-160, 1, 1e160]);
  });

  it('refuses as too large a range of more decades than the grid may have points, naming the parameter', () => {
    const wide: Space = { lr: { type: 'float', low: 5e-324, high: 1e308, log: true } };
    const check = () => logGridStrategy.checkOptions?.(logGridStrategy.parseOptions({ points_per_decade: 1000 }), ctx(wide));
    expect(check).toThrow(/more than 100,000 points \(lr: over 100,000 values\)/);
  });
});

describe('grid strategy', () => {
  it('walks every categorical × int combination, then says done', async () => {
    const space: Space = {
      opt: { type: 'categorical', choices: ['sgd', 'adam'] },
      frozen: { type: 'int', low: 0, high: 10, step: 5, log: false },
    };
    const s = await gridStrategy.create(gridStrategy.parseOptions({}), ctx(space));
    const all = await walk(s, 4);
    expect(all).toEqual([
      { opt: 'sgd', frozen: 0 },
      { opt: 'sgd', frozen: 5 },
      { opt: 'sgd', frozen: 10 },
      { opt: 'adam', frozen: 0 },
      { opt: 'adam', frozen: 5 },
      { opt: 'adam', frozen: 10 },
    ]);
  });

  it('needs points for a float parameter and says which', async () => {
    const space: Space = { x: { type: 'float', low: 0, high: 1, log: false } };
    expect(() => gridStrategy.create(gridStrategy.parseOptions({}), ctx(space))).toThrow(
      /float parameter 'x' needs strategy.options.points/,
    );
    const s = await gridStrategy.create(gridStrategy.parseOptions({ points: 3 }), ctx(space));
    await expect(s.ask([], 5)).resolves.toEqual([{ x: 0 }, { x: 0.5 }, { x: 1 }]);
  });
});
