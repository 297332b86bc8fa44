import { type Direction, type EpochRecord, isBetter, type TrialView } from '@sweepd/core';

/**
 * Reading learning curves for stopping rules. Every helper tolerates what real histories hold:
 * gaps in epochs, missing metrics, NaN and ±Infinity, peers in any state.
 */

/** The trial's last reported epoch number, or 0 when it has reported none. */
export function lastEpoch(trial: TrialView): number {
  let last = 0;
  for (const e of trial.epochs) if (Number.isFinite(e.epoch) && e.epoch > last) last = e.epoch;
  return last;
}

/** The record of exactly `epoch`, if the trial reported it. */
export function recordAt(trial: TrialView, epoch: number): EpochRecord | undefined {
  return trial.epochs.find((e) => e.epoch === epoch);
}

/** The first record at or after `epoch` (a rung is judged there when the exact epoch is missing). */
export function firstRecordFrom(trial: TrialView, epoch: number): EpochRecord | undefined {
  let found: EpochRecord | undefined;
  for (const e of trial.epochs) if (e.epoch >= epoch && (found === undefined || e.epoch < found.epoch)) found = e;
  return found;
}

/** The best finite value of `metric` over epochs 1..`upTo`, or undefined when there is none. */
export function bestUpTo(trial: TrialView, metric: string, direction: Direction, upTo: number): number | undefined {
  let best: number | undefined;
  for (const e of trial.epochs) {
    if (e.epoch > upTo) continue;
    const v = e.metrics[metric];
    if (typeof v === 'number' && isBetter(v, best, direction)) best = v;
  }
  return best;
}

/** Whether the trial reported `metric` at some epoch ≤ upTo (finite or not). */
export function reportedUpTo(trial: TrialView, metric: string, upTo: number): boolean {
  return trial.epochs.some((e) => e.epoch <= upTo && typeof e.metrics[metric] === 'number');
}

/** Median of finite numbers (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Short, stable number formatting for reasons: 4 significant digits, exponent for tiny values. */
export function fmt(value: number | undefined): string {
  if (value === undefined) return 'none';
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e6) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** "worse" in words for a direction, for reasons. */
export function worseWord(direction: Direction): string {
  return direction === 'maximize' ? 'below' : 'above';
}

/** Other trials only: a peer list may include the trial itself (same id). */
export function othersOf(trial: TrialView, peers: readonly TrialView[]): TrialView[] {
  return peers.filter((p) => p !== trial && p.id !== trial.id);
}

/** 1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st, … */
export function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}
