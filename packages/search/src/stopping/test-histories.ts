import type { EpochRecord, LayerStats, TrialState, TrialView } from '@sweepd/core';

/** Builders of constructed histories for the rules' tests. */

export const METRIC = 'val_auc';

/** A trial whose objective took `values` at epochs 1, 2, … (extra metrics / layers per epoch optional). */
export function trial(
  number: number,
  values: ReadonlyArray<number | undefined>,
  extra: {
    state?: TrialState;
    tags?: TrialView['tags'];
    metrics?: (epoch: number) => Record<string, number>;
    layers?: (epoch: number) => LayerStats[];
    notes?: (epoch: number) => Record<string, unknown>;
  } = {},
): TrialView {
  const epochs: EpochRecord[] = values.map((v, i) => {
    const epoch = i + 1;
    const notes = extra.notes?.(epoch);
    return {
      epoch,
      metrics: { ...(v === undefined ? {} : { [METRIC]: v }), ...extra.metrics?.(epoch) },
      layers: extra.layers?.(epoch) ?? [],
      ...(notes ? { notes } : {}),
    };
  });
  return { id: `t${number}`, number, params: {}, state: extra.state ?? 'completed', epochs, ...(extra.tags ? { tags: extra.tags } : {}) };
}

/** The same trial as it looked after its first `k` epochs, running. */
export function upTo(t: TrialView, k: number): TrialView {
  return { ...t, state: 'running', epochs: t.epochs.slice(0, k) };
}

/** A flat curve at `value` for `n` epochs. */
export function flat(value: number, n: number): number[] {
  return Array.from({ length: n }, () => value);
}
