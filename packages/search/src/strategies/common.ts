import { type Direction, type Params, type ParamSpec, Rng, type Space, type TrialView, orderedNames, sampleSpace } from '@sweepd/core';
import { z } from 'zod';

/** The `seed` option every built-in strategy takes. */
export const seedOption = z
  .number()
  .int('must be an integer')
  .min(0, 'must be >= 0')
  .max(2 ** 32 - 1, 'must fit in 32 bits')
  .default(0)
  .describe('makes the strategy reproducible: same seed, space and history give the same suggestions');

/**
 * The randomness of one ask: derived from the seed and the history's length, never carried over
 * from a previous ask, so a restarted daemon draws exactly what the old one would have drawn.
 */
export function askRng(seed: number, history: readonly TrialView[], salt = ''): Rng {
  return new Rng(`${seed}:${history.length}${salt}`);
}

/** A configuration with the loss to minimise (the objective negated when maximising). */
export interface Observation {
  params: Params;
  loss: number;
  number: number;
}

/** The history as the model-based strategies see it. */
export interface SortedHistory {
  /** Completed and stopped trials with a finite value, in trial-number order. */
  observed: Observation[];
  /** Failed trials and trials whose value is NaN/±Infinity: evidence that a region is bad. */
  failed: Params[];
  /** Queued and running trials: asked, no answer yet. */
  pending: Params[];
}

/**
 * Splits the history. Stopped trials count with their value (the best seen before the stop):
 * it understates them a little, which is the right direction for something stopped as hopeless.
 * (TPE reads the history through TpeHistory, which keeps what it read between asks.)
 */
export function sortHistory(history: readonly TrialView[], direction: Direction): SortedHistory {
  const trials = inTrialOrder(history) ? history : [...history].sort((a, b) => a.number - b.number);
  const out: SortedHistory = { observed: [], failed: [], pending: [] };
  for (const t of trials) {
    if (observable(t))
      out.observed.push({
        params: t.params,
        loss: direction === 'maximize' ? -(t.value as number) : (t.value as number),
        number: t.number,
      });
    else if (t.state === 'queued' || t.state === 'running') out.pending.push(t.params ?? {});
    else out.failed.push(t.params ?? {});
  }
  return out;
}

/** Completed or stopped with a finite value: a trial the model learns from. */
export function observable(t: TrialView): boolean {
  return t.state !== 'queued' && t.state !== 'running' && t.state !== 'failed' && typeof t.value === 'number' && Number.isFinite(t.value);
}

/** Whether the trials are already in trial-number order (a daemon's history is: no sort needed). */
export function inTrialOrder(history: readonly TrialView[]): boolean {
  for (let i = 1; i < history.length; i++) if ((history[i] as TrialView).number < (history[i - 1] as TrialView).number) return false;
  return true;
}

/** A key for a configuration that looks only at the space's parameters (fixed values may ride along). */
export function spaceKey(names: readonly string[], params: Params): string {
  let key = '';
  for (const name of names) {
    const v = params[name];
    key += v === undefined ? '\u0000|' : `${typeof v === 'string' ? 's' : ''}${String(v)}|`;
  }
  return key;
}

/**
 * Whether a draw can repeat a configuration already tried, so that the history is worth keying.
 * It cannot while some float is part of every configuration (not constant, not conditional):
 * a continuous value repeats with probability zero. Keying 10,000 trials for nothing cost random
 * search about 7 ms an ask. A float behind `when` does not count: where its condition is off
 * the configuration has only countably many values, and can repeat.
 */
export function repeatsPossible(space: Space): boolean {
  return !Object.values(space).some((param) => param.type === 'float' && !param.when && !isConstant(param));
}

/** Keys of every configuration in the history, whatever its state. */
export function historyKeys(space: Space, history: readonly TrialView[]): Set<string> {
  const names = orderedNames(space);
  const keys = new Set<string>();
  for (const t of history) keys.add(spaceKey(names, t.params ?? {}));
  return keys;
}

/**
 * Draws `n` random configurations, avoiding ones already taken where a few retries allow (small
 * discrete spaces run out; then duplicates are better than nothing).
 */
export function drawRandom(space: Space, rng: Rng, n: number, taken: Set<string>): Params[] {
  const names = orderedNames(space);
  const out: Params[] = [];
  for (let i = 0; i < n; i++) {
    let params = sampleSpace(space, rng);
    for (let attempt = 0; attempt < 32 && taken.has(spaceKey(names, params)); attempt++) params = sampleSpace(space, rng);
    taken.add(spaceKey(names, params));
    out.push(params);
  }
  return out;
}

/** Whether a parameter takes a single value (nothing to search). */
export function isConstant(param: ParamSpec): boolean {
  return param.type === 'categorical' ? param.choices.length === 1 : param.low === param.high;
}

/**
 * A model-based strategy whose start-up draws take the whole budget never uses its model: the
 * study would be a random search under another name. Said at submit (checkOptions).
 */
export function startupBudgetProblem(strategy: string, nStartup: number, maxTrials: number): string | undefined {
  if (nStartup < maxTrials) return undefined;
  return `${strategy} would never use its model: its n_startup_trials ${nStartup} start-up draws take all of budget.max_trials ${maxTrials}. Set n_startup_trials below ${maxTrials} (a third of it is usual), or use random`;
}
