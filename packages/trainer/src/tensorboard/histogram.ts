/** A histogram as the collector keeps it, whichever way it was written. */
export interface Histogram {
  /**
   * Bucket i is rows[3i] (left edge), rows[3i+1] (right edge), rows[3i+2] (count): the layout of
   * TF2's histogram tensor, one array per histogram. A bucket holds values in [left, right) — the
   * last one includes its right edge — and left == right means exactly that value. A plain array:
   * small typed arrays live off the heap and cost far more to allocate and collect.
   */
  rows: number[];
  /** Smallest and largest value: exact for HistogramProto, the outer edges of the non-empty buckets for histogram tensors. */
  min: number;
  max: number;
  /** Number of values (the sum of the counts). */
  num: number;
  /** Exact sums, present only in HistogramProto (TF1 summaries, torch.utils.tensorboard). */
  sum?: number;
  sumSquares?: number;
}

/**
 * Whether the weights it summarises held NaN or ±Infinity: TF2 then writes NaN (or infinite)
 * bucket edges, with zero counts for NaN; a HistogramProto, a non-finite sum, min or max.
 */
export function nonFiniteHistogram(h: Histogram): boolean {
  if (h.sum !== undefined) return h.num > 0 && !(Number.isFinite(h.sum) && Number.isFinite(h.min) && Number.isFinite(h.max));
  for (let i = 0; i < h.rows.length; i += 3) if (!Number.isFinite(h.rows[i]!) || !Number.isFinite(h.rows[i + 1]!)) return true;
  return false;
}

/** Whether two histograms hold the same distribution bucket for bucket (and the same exact sums when both have them). */
export function sameHistogram(a: Histogram, b: Histogram): boolean {
  if (a.num !== b.num || a.min !== b.min || a.max !== b.max || a.sum !== b.sum || a.sumSquares !== b.sumSquares) return false;
  if (a.rows.length !== b.rows.length) return false;
  for (let i = 0; i < a.rows.length; i++) if (a.rows[i] !== b.rows[i]) return false;
  return true;
}
