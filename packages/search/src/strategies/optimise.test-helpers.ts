import type { Direction, Params, SearchStrategy, Space, TrialView } from '@sweepd/core';

/** Runs a strategy sequentially on `f` and returns the best value found (a test helper). */
export async function bestAfter(strategy: SearchStrategy, f: (p: Params) => number, budget: number, direction: Direction = 'minimize') {
  const history: TrialView[] = [];
  let best: { value: number; params: Params } | undefined;
  for (let i = 0; i < budget; i++) {
    const answer = await strategy.ask(history, 1);
    if (answer === 'done') break;
    const params = answer[0] as Params;
    const value = f(params);
    history.push({ id: `t${i}`, number: i, params, state: 'completed', value, epochs: [] });
    if (!best || (direction === 'minimize' ? value < best.value : value > best.value)) best = { value, params };
  }
  return { best: best as { value: number; params: Params }, history };
}

export const lrSpace: Space = { lr: { type: 'float', low: 1e-8, high: 1e-1, log: true } };
/** 1-D: a bowl in log10(lr) centred on 3e-4. */
export const lrBowl = (p: Params) => (Math.log10(p.lr as number) - Math.log10(3e-4)) ** 2;

export const braninSpace: Space = {
  x1: { type: 'float', low: -5, high: 10, log: false },
  x2: { type: 'float', low: 0, high: 15, log: false },
};
export const BRANIN_MIN = 0.397887;
export function branin(p: Params): number {
  const x1 = p.x1 as number;
  const x2 = p.x2 as number;
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
}
