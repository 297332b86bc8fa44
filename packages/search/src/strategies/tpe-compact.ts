import type { TypedAlloc } from './arena.ts';
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
 * not fit in one exact integer key. Each step is a function of its own: V8 optimises a function's
 * loops while its first call runs, before the code after them has run, and one long function was
 * sent back to slow code again and again on its later constructors.
 */
export function compactKernels(
  model: TpeModel,
  rows: Rows,
  group: Int32Array,
  weights: Float64Array,
  sigma: number,
): CompactKernels | undefined {
  if (group.length <= COMPACT_ABOVE) return undefined;
  const layout = keyLayout(model, BIN_WIDTH * sigma);
  if (!layout) return undefined;
  const { slotOfRow, slots } = assignSlots(model.arena, rowKeys(model, rows, group, layout), layout.span);
  // Merging a few percent away does not pay for itself; leave such mixtures exact.
  if (slots > 0.8 * group.length) return undefined;
  return mergeSlots(model, rows, group, weights, slotOfRow, slots, layout.continuous);
}

/** The mixed-radix key's digits: a categorical's choice, an int's cell, a continuous coordinate's bin. */
interface KeyLayout {
  radix: Float64Array;
  continuous: Uint8Array;
  binWidth: number;
  span: number;
}

function keyLayout(model: TpeModel, binWidth: number): KeyLayout | undefined {
  const D = model.jointDims.length;
  const radix = new Float64Array(D);
  const continuous = new Uint8Array(D);
  let span = 1;
  for (let k = 0; k < D; k++) {
    const d = model.jointDims[k];
    if (!d) return undefined;
    if (d.kind === 'categorical') radix[k] = d.choices.length;
    else if (d.edges) radix[k] = d.edges.length - 1;
    else {
      continuous[k] = 1;
      radix[k] = Math.floor(1 / binWidth) + 1;
    }
    span *= radix[k] as number;
  }
  return span > Number.MAX_SAFE_INTEGER ? undefined : { radix, continuous, binWidth, span };
}

/** Each row's key, dimension by dimension: tight loops over typed arrays. */
function rowKeys(model: TpeModel, rows: Rows, group: Int32Array, layout: KeyLayout): Float64Array {
  const { data, width } = rows;
  const { radix, continuous, binWidth } = layout;
  const keys = model.arena.f64(group.length);
  for (let k = 0; k < model.jointDims.length; k++) {
    const d = model.jointDims[k];
    const col = model.jointColumns[k] as number;
    const r = radix[k] as number;
    const edges = d?.kind === 'numeric' ? d.edges : undefined;
    for (let g = 0; g < group.length; g++) {
      const x = data[(group[g] as number) * width + col] as number;
      const digit = continuous[k] ? Math.min(r - 1, Math.floor(x / binWidth)) : edges ? cellIndex(edges, x) : x;
      keys[g] = (keys[g] as number) * r + digit;
    }
  }
  return keys;
}

/** The slot of each row: rows with the same key share one, numbered in order of first appearance. */
function assignSlots(alloc: TypedAlloc, keys: Float64Array, span: number): { slotOfRow: Int32Array; slots: number } {
  const slotOf = new SlotTable(alloc, span, keys.length);
  const slotOfRow = alloc.i32(keys.length);
  let slots = 0;
  for (let g = 0; g < keys.length; g++) {
    const key = keys[g] as number;
    let slot = slotOf.get(key);
    if (slot < 0) {
      slot = slots++;
      slotOf.set(key, slot);
    }
    slotOfRow[g] = slot;
  }
  return { slotOfRow, slots };
}

/** Summed weights per slot (then the prior's); continuous coordinates at the slot's weighted mean, the others shared. */
function mergeSlots(
  model: TpeModel,
  rows: Rows,
  group: Int32Array,
  weights: Float64Array,
  slotOfRow: Int32Array,
  n: number,
  continuous: Uint8Array,
): CompactKernels {
  const { data, width } = rows;
  const merged = model.arena.f64(n + 1);
  for (let g = 0; g < group.length; g++) {
    const slot = slotOfRow[g] as number;
    merged[slot] = (merged[slot] as number) + (weights[g] as number);
  }
  const columns = Array.from({ length: model.jointDims.length }, () => model.arena.f64(n));
  for (let k = 0; k < columns.length; k++) {
    const out = columns[k] as Float64Array;
    const col = model.jointColumns[k] as number;
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

/**
 * Slot of each key: a flat table where the keys are few enough, a map otherwise; -1 for a new key.
 * A class, not an object of closures made per call: fresh closures on every suggestion sent V8's
 * optimised code for the compaction back to slow code each time ("wrong call target").
 */
class SlotTable {
  private readonly table: Int32Array | undefined;
  private readonly map: Map<number, number> | undefined;
  constructor(alloc: TypedAlloc, span: number, rows: number) {
    if (span <= Math.max(1 << 16, 4 * rows)) this.table = alloc.i32(span).fill(-1);
    else this.map = new Map();
  }
  get(key: number): number {
    return this.table ? (this.table[key] as number) : (this.map?.get(key) ?? -1);
  }
  set(key: number, slot: number): void {
    if (this.table) this.table[key] = slot;
    else this.map?.set(key, slot);
  }
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
