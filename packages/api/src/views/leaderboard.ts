import type { Direction, Params, SearchSpec, TrialState, TrialView } from '@sweepd/core';

export interface LeaderboardRow {
  rank: number | null;
  number: number;
  state: TrialState;
  value: number | null;
  /** The epoch at which `value` was reached. */
  bestEpoch: number | null;
  epochs: number;
  maxEpochs: number;
  params: Params;
  reason: string | null;
}

/** Trials ranked by objective (best first); those without a value follow by number, unranked. */
export function leaderboard(trials: readonly TrialView[], spec: SearchSpec): LeaderboardRow[] {
  const { metric, direction } = spec.objective;
  const withValue = trials.filter((t) => t.value !== undefined && Number.isFinite(t.value));
  const without = trials.filter((t) => !withValue.includes(t));
  withValue.sort((a, b) => compare(a.value as number, b.value as number, direction) || a.number - b.number);
  const row = (t: TrialView, rank: number | null): LeaderboardRow => ({
    rank,
    number: t.number,
    state: t.state,
    value: t.value ?? null,
    bestEpoch: t.value === undefined ? null : (t.epochs.find((e) => e.metrics[metric] === t.value)?.epoch ?? null),
    epochs: t.epochs.length,
    maxEpochs: spec.budget.max_epochs,
    params: t.params,
    reason: t.reason ?? null,
  });
  return [...withValue.map((t, i) => row(t, i + 1)), ...without.sort((a, b) => a.number - b.number).map((t) => row(t, null))];
}

function compare(a: number, b: number, direction: Direction): number {
  return direction === 'maximize' ? b - a : a - b;
}
