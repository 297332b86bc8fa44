import type { Rows, TpeModel } from './tpe-model.ts';

/**
 * Merges the kernels of a large joint mixture (the bad trials' density g once there are thousands
 * of trials) into fewer kernels without dropping any trial: kernels with the same categorical
 * choices and int cells whose continuous centres share a bin a quarter of the bandwidth wide
 * become one kernel at their weighted mean centre with their summed weight. Matching the mean keeps
 * the error second order: the centres within a bin spread by at most σ/8 (sd), so log g moves by
 * about (z² − 1)/128 at z bandwidths from a kernel, under 0.03 nats within two bandwidths. Scoring
 * costs scale with the kernels left: at 10,000 trials this keeps a suggestion within milliseconds.
 */

/** Below this many kernels the mixture is scored exactly as fitted. */
export const COMPACT_ABOVE = 1024;
/** Bin width of a continuous coordinate, in bandwidths. */
const BIN_WIDTH = 0.25;

export interface CompactKernels {
  /** Per joint dimension, the merged kernels' coordinates (unit value, int unit value or choice index). */
  columns: Float64Array[];
  /** Merged kernel weights, then the prior's (the last entry, unchanged). */
  weights: Float64Array;
}

/**
 * The merged kernels of `group` (rows with every joint parameter present), whose weights are
 * `weights` (one per row, then the prior's); undefined when merging would not pay or the bins do
 * not fit in one exact integer key.
 */
export function compactKernels(
  model: TpeModel,
  rows: Rows,
  group: Int32Array,
  weights: Float64Array,
  sigma: number,
): CompactKernels | undefined {
  if (group.length <= COMPACT_ABOVE) return undefined;
  const { jointDims, jointColumns } = model;
  const D = jointDims.length;
  const binWidth = BIN_WIDTH * sigma;
  // Mixed-radix key per row: a categorical's choice, an int's cell, a continuous coordinate's bin.
  const radix = new Float64Array(D);
  const continuous = new Uint8Array(D);
  let span = 1;
  for (let k = 0; k < D; k++) {
    const d = jointDims[k];
    if (!d) return undefined;
    if (d.kind === 'categorical') radix[k] = d.choices.length;
    else if (d.edges) radix[k] = d.edges.length - 1;
    else {
      continuous[k] = 1;
      radix[k] = Math.floor(1 / binWidth) + 1;
    }
    span *= radix[k] as number;
  }
  if (span > Number.MAX_SAFE_INTEGER) return undefined;

  const { data, width } = rows;
  // Keys dimension by dimension: tight loops over typed arrays.
  const keys = new Float64Array(group.length);
  for (let k = 0; k < D; k++) {
    const d = jointDims[k];
    const col = jointColumns[k] as number;
    const r = radix[k] as number;
    const edges = d?.kind === 'numeric' ? d.edges : undefined;
    for (let g = 0; g < group.length; g++) {
      const x = data[(group[g] as number) * width + col] as number;
      const digit = continuous[k] ? Math.min(r - 1, Math.floor(x / binWidth)) : edges ? cellIndex(edges, x) : x;
      keys[g] = (keys[g] as number) * r + digit;
    }
  }
  const slotOf = slotTable(span, group.length);
  const slotOfRow = new Int32Array(group.length);
  let n = 0;
  for (let g = 0; g < group.length; g++) {
    const key = keys[g] as number;
    let slot = slotOf.get(key);
    if (slot < 0) {
      slot = n++;
      slotOf.set(key, slot);
    }
    slotOfRow[g] = slot;
  }
  // Merging a few percent away does not pay for itself; leave such mixtures exact.
  if (n > 0.8 * group.length) return undefined;
  const merged = new Float64Array(n + 1);
  for (let g = 0; g < group.length; g++) {
    const slot = slotOfRow[g] as number;
    merged[slot] = (merged[slot] as number) + (weights[g] as number);
  }
  // Continuous coordinates: the weighted mean of the bin; the others are shared within a slot.
  const columns = Array.from({ length: D }, () => new Float64Array(n));
  for (let k = 0; k < D; k++) {
    const out = columns[k] as Float64Array;
    const col = jointColumns[k] as number;
    for (let g = 0; g < group.length; g++) {
      const slot = slotOfRow[g] as number;
      const x = data[(group[g] as number) * width + col] as number;
      if (continuous[k]) out[slot] = (out[slot] as number) + (weights[g] as number) * x;
      else out[slot] = x;
    }
    if (continuous[k]) for (let s = 0; s < n; s++) out[s] = (merged[s] as number) > 0 ? (out[s] as number) / (merged[s] as number) : 0.5;
  }
  merged[n] = weights[group.length] as number;
  return { columns, weights: merged };
}

/** Slot of each key: a flat table where the keys are few enough, a map otherwise; -1 for a new key. */
function slotTable(span: number, rows: number): { get(key: number): number; set(key: number, slot: number): void } {
  if (span <= Math.max(1 << 16, 4 * rows)) {
    const table = new Int32Array(span).fill(-1);
    return {
      get: (key) => table[key] as number,
      set: (key, slot) => {
        table[key] = slot;
      },
    };
  }
  const map = new Map<number, number>();
  return {
    get: (key) => map.get(key) ?? -1,
    set: (key, slot) => {
      map.set(key, slot);
    },
  };
}

/** The cell of an int's unit coordinate among its cell borders. */
function cellIndex(edges: Float64Array | undefined, x: number): number {
  if (!edges) return 0;
  let lo = 0;
  let hi = edges.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((edges[mid] as number) <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
