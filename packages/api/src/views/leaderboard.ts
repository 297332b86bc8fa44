import { type Direction, type Params, type SearchSpec, takesRank, type TrialState, type TrialView } from '@sweepd/core';
import { isBaselineTrial } from '@sweepd/search';

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
  /** The spec's baseline: the config the user runs today, which every other row is measured against. */
  baseline: boolean;
}

/**
 * Trials ranked by objective (best first); those without a value follow by number, unranked, and
 * so do failed trials whatever they reported before failing: a crashed configuration is never
 * the best config handed back.
 */
export function leaderboard(trials: readonly TrialView[], spec: SearchSpec): LeaderboardRow[] {
  const { metric, direction } = spec.objective;
  const withValue: TrialView[] = [];
  const without: TrialView[] = [];
  // One pass: `includes` per trial was quadratic, seconds at 100,000 trials.
  for (const t of trials) (takesRank(t) ? withValue : without).push(t);
  withValue.sort((a, b) => compare(a.value as number, b.value as number, direction) || a.number - b.number);
  const order = declaredOrder({ spec });
  const row = (t: TrialView, rank: number | null) => leaderboardRow(t, rank, metric, spec.budget.max_epochs, order);
  return [...withValue.map((t, i) => row(t, i + 1)), ...without.sort((a, b) => a.number - b.number).map((t) => row(t, null))];
}

function leaderboardRow(t: TrialView, rank: number | null, metric: string, maxEpochs: number, order: readonly string[]): LeaderboardRow {
  return {
    rank,
    number: t.number,
    state: t.state,
    value: t.value ?? null,
    bestEpoch: t.value === undefined ? null : (t.epochs.find((e) => e.metrics[metric] === t.value)?.epoch ?? null),
    epochs: t.epochs.length,
    maxEpochs,
    // In the spec's order, as everywhere else (the store keeps none of its own).
    params: inOrder(t.params, order),
    reason: t.reason ?? null,
    baseline: isBaselineTrial(t),
  };
}

/**
 * The rows of one page a store ranked itself (Store.leaderboardPage: ranked trials first, in
 * order, from `offset`): the same rows leaderboardPage(leaderboard(all trials)) gives, without
 * reading the other 99,950 trials of a large study.
 */
export function storePageRows(page: { ranked: number; trials: readonly TrialView[] }, spec: SearchSpec, offset: number): LeaderboardRow[] {
  const { metric } = spec.objective;
  const order = declaredOrder({ spec });
  return page.trials.map((t, i) =>
    leaderboardRow(t, offset + i < page.ranked ? offset + i + 1 : null, metric, spec.budget.max_epochs, order),
  );
}

function compare(a: number, b: number, direction: Direction): number {
  return direction === 'maximize' ? b - a : a - b;
}

/** One page of ranked rows; a limit of undefined means every row from `offset`. */
export function leaderboardPage(rows: readonly LeaderboardRow[], page: { limit?: number; offset?: number }): LeaderboardRow[] {
  const offset = page.offset ?? 0;
  return rows.slice(offset, page.limit === undefined ? undefined : offset + page.limit);
}

/**
 * The parameter columns, in the one order every table and chart uses (live and final CLI tables,
 * the leaderboard route, the dashboard): the spec's `space` as its author wrote it (the Store keeps
 * the spec's order), then any other parameter a row has (a plugin's), by name.
 */
export function paramColumns(study: { spec: SearchSpec }, rows: readonly { params: Params }[] = []): string[] {
  const declared = declaredOrder(study);
  const extra = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.params)) if (!declared.includes(k)) extra.add(k);
  return [...declared, ...[...extra].sort()];
}

/**
 * The order of a full training config (what export prints): the searched parameters as
 * paramColumns gives them, then the spec's `fixed` values as written.
 */
export function configOrder(study: { spec: SearchSpec }): string[] {
  return [...declaredOrder(study), ...declaredOrder(study, 'fixed')];
}

/** The trial with its parameters in `order` (see inOrder); the trial itself when `order` is empty. */
export function withParamsInOrder<T extends { params: Params }>(trial: T, order: readonly string[]): T {
  return order.length === 0 ? trial : { ...trial, params: inOrder(trial.params, order) };
}

/** `values` with its keys in `order` first, then the rest as they come (a trial's params are stored as jsonb, which keeps no order of its own). */
export function inOrder<V>(values: Readonly<Record<string, V>>, order: readonly string[]): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of order) if (k in values) out[k] = values[k] as V;
  for (const k of Object.keys(values)) if (!(k in out)) out[k] = values[k] as V;
  return out;
}

function declaredOrder(study: { spec: SearchSpec }, section: 'space' | 'fixed' = 'space'): string[] {
  return Object.keys(study.spec[section] ?? {});
}
