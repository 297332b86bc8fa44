/** A histogram as the collector keeps it, whichever way it was written. */
export interface Histogram {
  /** Bucket i holds `count[i]` values in [left[i], right[i]) — the last bucket includes its right edge; left == right means that exact value. */
  left: Float64Array;
  right: Float64Array;
  count: Float64Array;
  /** Smallest and largest value: exact for HistogramProto, the outer edges of the non-empty buckets for histogram tensors. */
  min: number;
  max: number;
  /** Number of values (the sum of the counts). */
  num: number;
  /** Exact sums, present only in HistogramProto (TF1 summaries, torch.utils.tensorboard). */
  sum?: number;
  sumSquares?: number;
}

/** Whether two histograms hold the same distribution bucket for bucket (and the same exact sums when both have them). */
export function sameHistogram(a: Histogram, b: Histogram): boolean {
  if (a.num !== b.num || a.min !== b.min || a.max !== b.max || a.sum !== b.sum || a.sumSquares !== b.sumSquares) return false;
  if (a.count.length !== b.count.length) return false;
  for (let i = 0; i < a.count.length; i++) {
    if (a.count[i] !== b.count[i] || a.left[i] !== b.left[i] || a.right[i] !== b.right[i]) return false;
  }
  return true;
}
