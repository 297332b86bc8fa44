/**
 * Distribution statistics of a variable from its histogram, as LayerStats carries them.
 *
 * The values inside a bucket are not recorded, so they are taken as spread uniformly over it:
 * quantiles and the negative fraction interpolate linearly within the bucket they fall in (the
 * error is at most that bucket's width), and without exact sums the mean and standard deviation
 * are those of the uniform mixture. HistogramProto (TF1 summaries, torch.utils.tensorboard)
 * carries the exact min, max, sum and sum of squares, so there the mean, std, q0 and q1 are exact.
 */

import { QUANTILE_LEVELS } from '@sweepd/core';
import type { Histogram } from './histogram.ts';

export interface DistributionStats {
  mean: number;
  std: number;
  fractionNegative: number;
  /** At QUANTILE_LEVELS. */
  quantiles: number[];
}

/** Undefined for an empty histogram. */
export function histogramStats(h: Histogram): DistributionStats | undefined {
  if (!(h.num > 0)) return undefined;
  const rows = h.rows;
  let total = 0;
  let firstMoment = 0;
  let secondMoment = 0;
  let negative = 0;
  for (let i = 0; i < rows.length; i += 3) {
    const c = rows[i + 2]!;
    if (c === 0) continue;
    const l = rows[i]!;
    const r = rows[i + 1]!;
    total += c;
    firstMoment += (c * (l + r)) / 2;
    secondMoment += (c * (l * l + l * r + r * r)) / 3;
    if (r <= 0 && l < 0)
      negative += c; // [l, r) with r ≤ 0: all below zero
    else if (l < 0 && r > 0) negative += (c * -l) / (r - l);
    else if (l === r && l < 0) negative += c;
  }
  if (total === 0) return undefined;
  const exact = h.sum !== undefined && h.sumSquares !== undefined && h.num > 0;
  const mean = exact ? h.sum! / h.num : firstMoment / total;
  const meanSquare = exact ? h.sumSquares! / h.num : secondMoment / total;
  const std = Math.sqrt(Math.max(0, meanSquare - mean * mean));
  let fractionNegative = negative / total;
  if (h.min >= 0) fractionNegative = 0;
  else if (h.max < 0) fractionNegative = 1;
  return { mean, std, fractionNegative, quantiles: QUANTILE_LEVELS.map((p) => quantile(h, total, p)) };
}

/** The p-quantile by linear interpolation of the cumulative counts within the bucket it falls in. */
function quantile(h: Histogram, total: number, p: number): number {
  if (p <= 0) return h.min;
  if (p >= 1) return h.max;
  const target = p * total;
  let below = 0;
  const rows = h.rows;
  for (let i = 0; i < rows.length; i += 3) {
    const c = rows[i + 2]!;
    if (c === 0) continue;
    if (below + c >= target) {
      const l = rows[i]!;
      const r = rows[i + 1]!;
      const v = l + ((target - below) / c) * (r - l);
      return Math.min(Math.max(v, h.min), h.max);
    }
    below += c;
  }
  return h.max;
}
