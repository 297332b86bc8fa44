import { type Params, PluginRegistry, type Space, SpecError, type TrialView } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { validateStudy } from '../engine/instantiate.ts';
import { builtinStoppingRules } from '../stopping/index.ts';
import { gridStrategy } from './grid.ts';
import { builtinStrategies } from './index.ts';
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

describe('a grid with a baseline (trial 0, which takes a trial of budget.max_trials)', () => {
  // 1e-5, 1e-4, 1e-3, 1e-2 × adam, sgd: 8 points.
  const space: Space = {
    learning_rate: { type: 'float', low: 1e-5, high: 1e-2, log: true },
    optimizer: { type: 'categorical', choices: ['adam', 'sgd'] },
  };
  const check = (maxTrials: number, baseline?: Params) =>
    logGridStrategy.checkOptions?.(logGridStrategy.parseOptions({}), { ...ctx(space), maxTrials, ...(baseline ? { baseline } : {}) });

  it('log-grid: refuses an off-grid baseline that leaves the last point without a trial; accepts one on the grid, or a budget raised', async () => {
    const offGrid = { learning_rate: 3e-3, optimizer: 'sgd' };
    expect(check(8)).toBeUndefined();
    expect(check(8, offGrid)).toBe(
      "log-grid has 8 points and the baseline (trial 0, not a point of the grid) takes one of budget.max_trials' 8 trials: only the first 7 points in its fixed order would run. Raise budget.max_trials to 9, or use fewer points or a sampling strategy (random, tpe)",
    );
    expect(check(9, offGrid)).toBeUndefined();
    expect(check(8, { learning_rate: 1e-3, optimizer: 'sgd' })).toBeUndefined();
    // Only the space's parameters are compared (a trial's params may hold more).
    expect(check(8, { learning_rate: 1e-3, optimizer: 'sgd', epoch_sleep: 0 })).toBeUndefined();
    // Why: after the off-grid baseline, 7 trials of the walker leave one point unasked.
    const s = await logGridStrategy.create(logGridStrategy.parseOptions({}), ctx(space));
    const history = asked([offGrid]);
    const next = (await s.ask(history, 7)) as Params[];
    expect(next).toHaveLength(7);
    expect(await s.ask([...history, ...asked(next)], 1)).toEqual([{ learning_rate: 1e-2, optimizer: 'sgd' }]);
  });

  it('log-grid: says what the points that run hold fixed, and that no point runs when the baseline takes the only trial', () => {
    expect(check(3, { learning_rate: 3e-3, optimizer: 'sgd' })).toBe(
      "log-grid has 8 points and the baseline (trial 0, not a point of the grid) takes one of budget.max_trials' 3 trials: only the first 2 points in its fixed order would run, every one of them with learning_rate=0.00001. Raise budget.max_trials to 9, or use fewer points or a sampling strategy (random, tpe)",
    );
    expect(check(1, { learning_rate: 3e-3, optimizer: 'sgd' })).toMatch(
      /^log-grid has 8 points and the baseline \(trial 0, not a point of the grid\) takes one of budget.max_trials' 1 trials: no point of the grid would run\. Raise budget.max_trials to 9,/,
    );
    // On the grid but late in its order: the baseline's point runs with the first others.
    expect(check(4, { learning_rate: 1e-2, optimizer: 'sgd' })).toBe(
      "log-grid has 8 points and budget.max_trials is 4: only the baseline's point (trial 0) and the first 3 others in its fixed order would run. Raise budget.max_trials to 8, or use fewer points or a sampling strategy (random, tpe)",
    );
    expect(check(1, { learning_rate: 1e-2, optimizer: 'sgd' })).toMatch(
      /^log-grid has 8 points and budget.max_trials is 1: only the baseline's point \(trial 0\) would run\. Raise budget.max_trials to 8,/,
    );
  });

  it('grid: refuses an off-grid baseline past the budget, accepts one on the grid (a conditional absent where its condition is off) or a budget raised', () => {
    const condSpace: Space = {
      optimizer: { type: 'categorical', choices: ['sgd', 'momentum'] },
      momentum: { type: 'float', low: 0, high: 0.9, log: false, when: { optimizer: ['momentum'] } },
      frozen: { type: 'int', low: 0, high: 2, step: 1, log: false },
    };
    // sgd × 3 frozen + momentum × 2 values × 3 frozen: 9 points.
    const gridCheck = (maxTrials: number, baseline?: Params) =>
      gridStrategy.checkOptions?.(gridStrategy.parseOptions({ points: 2 }), {
        ...ctx(condSpace),
        maxTrials,
        ...(baseline ? { baseline } : {}),
      });
    expect(gridCheck(9)).toBeUndefined();
    expect(gridCheck(9, { optimizer: 'momentum', momentum: 0.5, frozen: 1 })).toBe(
      "grid has 9 points and the baseline (trial 0, not a point of the grid) takes one of budget.max_trials' 9 trials: only the first 8 points in its fixed order would run. Raise budget.max_trials to 10, or use fewer points or a sampling strategy (random, tpe)",
    );
    expect(gridCheck(10, { optimizer: 'momentum', momentum: 0.5, frozen: 1 })).toBeUndefined();
    expect(gridCheck(9, { optimizer: 'sgd', frozen: 1 })).toBeUndefined();
    expect(gridCheck(9, { optimizer: 'momentum', momentum: 0.9, frozen: 2 })).toBeUndefined();
  });

  it("is refused at submit: the engine passes the spec's baseline to the strategy's check", async () => {
    const registry = new PluginRegistry();
    for (const plugin of [...builtinStrategies, ...builtinStoppingRules]) registry.register(plugin);
    const yaml = (baseline: string, maxTrials: number) => `
name: grid6
objective: {}
space:
  learning_rate: { type: float, low: 1.0e-5, high: 1.0e-2, log: true }
  optimizer: { type: categorical, choices: [adam, sgd] }
baseline: ${baseline}
strategy: { name: log-grid }
budget: { max_trials: ${maxTrials}, max_epochs: 2, parallelism: 2 }
trainer: { runner: simulate, options: { curve: lr_auc } }
`;
    const problems = async (text: string) => {
      const refused = await validateStudy(text, registry, { baseDir: process.cwd() }).catch((e: unknown) => e);
      return refused instanceof SpecError ? refused.problems : [];
    };
    expect(await problems(yaml('{ learning_rate: 3.0e-3, optimizer: sgd }', 8))).toEqual([
      {
        path: 'strategy',
        message: expect.stringMatching(
          /^log-grid has 8 points and the baseline \(trial 0, not a point of the grid\) takes one of budget.max_trials' 8 trials: only the first 7 points .*Raise budget.max_trials to 9,/,
        ),
      },
    ]);
    expect(await problems(yaml('{ learning_rate: 3.0e-3, optimizer: sgd }', 9))).toEqual([]);
    expect(await problems(yaml('{ learning_rate: 1.0e-3, optimizer: sgd }', 8))).toEqual([]);
  });
});
