import {
  type FloatParam,
  type ParamSpec,
  type ParamValue,
  type Params,
  type SearchStrategy,
  type Space,
  type StrategyContext,
  type TrialView,
  isActive,
  orderedNames,
} from '@sweepd/core';
import { spaceKey } from './common.ts';

/** The largest grid a grid strategy will enumerate. */
export const MAX_GRID_POINTS = 100_000;

/** A grid's values per parameter: every choice of a categorical, every int on its step, and floats as `floats` spaces them. */
export function gridAxes(floats: (name: string, p: FloatParam) => ParamValue[]): (name: string, p: ParamSpec) => ParamValue[] {
  return (name, p) => (p.type === 'categorical' ? [...p.choices] : p.type === 'int' ? intValues(p.low, p.high, p.step) : floats(name, p));
}

/**
 * Every grid point, in a fixed order: parameters in `orderedNames` order (the space's order, with
 * a condition's parameter moved before those it gates), the first varying slowest, each over its
 * values in ascending order (categoricals in the order listed). A conditional parameter varies
 * only where its condition holds and is absent elsewhere. Throws past MAX_GRID_POINTS.
 */
export function enumerateGrid(space: Space, valuesOf: (name: string, param: ParamSpec) => ParamValue[], strategy: string): Params[] {
  const names = orderedNames(space);
  const values = new Map(names.map((name) => [name, valuesOf(name, space[name] as ParamSpec)]));
  const out: Params[] = [];
  const current: Record<string, ParamValue> = {};
  const visit = (i: number) => {
    if (i === names.length) {
      if (out.length >= MAX_GRID_POINTS) {
        const sizes = names
          .map((n) => {
            const count = values.get(n)?.length ?? 0;
            return `${n}: ${count > MAX_GRID_POINTS ? `over ${MAX_GRID_POINTS.toLocaleString('en')}` : count} values`;
          })
          .join(', ');
        throw new Error(
          `${strategy}: the grid has more than ${MAX_GRID_POINTS.toLocaleString('en')} points (${sizes}); use fewer points or a model-based strategy such as tpe`,
        );
      }
      out.push({ ...current });
      return;
    }
    const name = names[i] as string;
    const param = space[name] as ParamSpec;
    if (!isActive(param, current)) return visit(i + 1);
    for (const v of values.get(name) ?? []) {
      current[name] = v;
      visit(i + 1);
    }
    delete current[name];
  };
  visit(0);
  return out;
}

/**
 * `requested` points from low to high inclusive, evenly spaced (geometrically where `log`), rounded to
 * 12 digits. Past MAX_GRID_POINTS only one point more is made, as intValues does: enough for the
 * grid to be refused as too large, where a count in the billions would exhaust the heap first.
 */
export function spacedValues(low: number, high: number, requested: number, log: boolean): number[] {
  if (low === high) return [low];
  const count = Math.min(requested, MAX_GRID_POINTS + 1);
  // In logs and in fractions of each end: low·high and high − low overflow on the widest ranges.
  const [a, b] = log ? [Math.log10(low), Math.log10(high)] : [low, high];
  const at = (f: number) => (log ? 10 ** (a * (1 - f) + b * f) : a * (1 - f) + b * f);
  if (count <= 1) return [at(0.5)];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const raw = at(i / (count - 1));
    out.push(Math.min(high, Math.max(low, Number(raw.toPrecision(12)))));
  }
  return out;
}

/** Every value of an int parameter. */
export function intValues(low: number, high: number, step: number): number[] {
  const count = Math.floor((high - low) / step) + 1;
  if (count > MAX_GRID_POINTS) return Array.from({ length: MAX_GRID_POINTS + 1 }, (_, i) => low + i * step);
  return Array.from({ length: count }, (_, i) => low + i * step);
}

/** A strategy that walks a precomputed grid: the first `n` points not yet in the history, then 'done'. */
export function gridWalker(space: Space, points: readonly Params[]): SearchStrategy {
  const names = orderedNames(space);
  const keys = points.map((p) => spaceKey(names, p));
  return {
    async ask(history: readonly TrialView[], n: number) {
      const asked = new Set<string>();
      for (const t of history) asked.add(spaceKey(names, t.params ?? {}));
      const out: Params[] = [];
      let remaining = false;
      for (let i = 0; i < points.length; i++) {
        if (asked.has(keys[i] as string)) continue;
        remaining = true;
        if (out.length >= n) break;
        out.push(points[i] as Params);
      }
      return remaining ? out : 'done';
    },
  };
}

/**
 * A grid walked in its fixed order stops at the budget: past max_trials its later points never run,
 * and whole choices with them (every trial the same optimizer). Said at submit, with what the
 * points that would run hold fixed; undefined when the budget covers the grid. The spec's baseline
 * runs first, as trial 0, and takes a trial of the budget: on the grid it is one of its points (the
 * walker skips it), off the grid it costs a trial more. Compared as gridWalker does, on the space's
 * parameter names.
 */
export function gridBudgetProblem(
  strategy: string,
  points: readonly Params[],
  ctx: Pick<StrategyContext, 'space' | 'maxTrials' | 'baseline'>,
): string | undefined {
  const { maxTrials, baseline } = ctx;
  const names = orderedNames(ctx.space);
  const baselineKey = baseline ? spaceKey(names, baseline) : undefined;
  const baselineAt = baselineKey === undefined ? -1 : points.findIndex((p) => spaceKey(names, p) === baselineKey);
  const offGrid = baseline !== undefined && baselineAt < 0;
  const needed = points.length + (offGrid ? 1 : 0);
  if (needed <= maxTrials) return undefined;
  const late = baselineAt >= maxTrials;
  // The grid points that would run: the baseline's own point (when on the grid) and the first others in order.
  const ran = offGrid
    ? points.slice(0, maxTrials - 1)
    : late
      ? [points[baselineAt] as Params, ...points.slice(0, maxTrials - 1)]
      : points.slice(0, maxTrials);
  const held = Object.keys(points[0] ?? {}).filter((name) => {
    const seen = new Set(ran.map((p) => JSON.stringify(p[name])));
    return seen.size === 1 && points.some((p) => JSON.stringify(p[name]) !== JSON.stringify(ran[0]?.[name]));
  });
  // One point that runs holds everything: said only of more.
  const heldText =
    held.length > 0 && ran.length > 1 ? `, every one of them with ${held.map((n) => `${n}=${String(ran[0]?.[n])}`).join(', ')}` : '';
  const otherwise = 'or use fewer points or a sampling strategy (random, tpe)';
  if (offGrid) {
    const run = maxTrials - 1;
    const runText =
      run === 0
        ? 'no point of the grid would run'
        : `only the first ${run} ${run === 1 ? 'point' : 'points'} in its fixed order would run${heldText}`;
    return `${strategy} has ${points.length} points and the baseline (trial 0, not a point of the grid) takes one of budget.max_trials' ${maxTrials} trials: ${runText}. Raise budget.max_trials to ${needed}, ${otherwise}`;
  }
  const runText = !late
    ? `only the first ${maxTrials} in its fixed order would run`
    : maxTrials === 1
      ? "only the baseline's point (trial 0) would run"
      : `only the baseline's point (trial 0) and the first ${maxTrials - 1} others in its fixed order would run`;
  return `${strategy} has ${points.length} points and budget.max_trials is ${maxTrials}: ${runText}${heldText}. Raise budget.max_trials to ${points.length}, ${otherwise}`;
}
