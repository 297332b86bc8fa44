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

/** The same split in columns (no object per trial: TPE reads 10,000 of them every ask). */
export interface HistoryColumns {
  /** Completed and stopped trials with a finite value, in trial-number order, and their losses. */
  observed: Params[];
  losses: Float64Array;
  numbers: Int32Array;
  failed: Params[];
  pending: Params[];
}

/**
 * Splits the history. Stopped trials count with their value (the best seen before the stop):
 * it understates them a little, which is the right direction for something stopped as hopeless.
 */
export function historyColumns(history: readonly TrialView[], direction: Direction): HistoryColumns {
  // A daemon's history is already in trial order: sorting 10,000 trials anyway cost milliseconds an ask.
  const trials = inTrialOrder(history) ? history : [...history].sort((a, b) => a.number - b.number);
  // Counted first, then filled: arrays grown by push made 700 kB of garbage an ask at 10,000
  // trials, and a young generation that fills that fast made every other suggestion slower.
  let count = 0;
  for (const t of trials) if (observable(t)) count++;
  const observed = new Array<Params>(count);
  const losses = new Float64Array(count);
  const numbers = new Int32Array(count);
  const failed: Params[] = [];
  const pending: Params[] = [];
  const sign = direction === 'maximize' ? -1 : 1;
  let i = 0;
  for (const t of trials) {
    if (observable(t)) {
      observed[i] = t.params;
      losses[i] = sign * (t.value as number);
      numbers[i++] = t.number;
    } else if (t.state === 'queued' || t.state === 'running') pending.push(t.params ?? {});
    else failed.push(t.params ?? {});
  }
  return { observed, losses, numbers, failed, pending };
}

/** Completed or stopped with a finite value: a trial the model learns from. */
function observable(t: TrialView): boolean {
  return t.state !== 'queued' && t.state !== 'running' && t.state !== 'failed' && typeof t.value === 'number' && Number.isFinite(t.value);
}

/** historyColumns as one object per observed trial (for the GP, which holds at most a few hundred). */
export function sortHistory(history: readonly TrialView[], direction: Direction): SortedHistory {
  const { observed, losses, numbers, failed, pending } = historyColumns(history, direction);
  return {
    observed: observed.map((params, i) => ({ params, loss: losses[i] as number, number: numbers[i] as number })),
    failed,
    pending,
  };
}

function inTrialOrder(history: readonly TrialView[]): boolean {
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
