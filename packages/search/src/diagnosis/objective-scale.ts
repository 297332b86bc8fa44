import type { Direction, TrialView } from '@sweepd/core';

/**
 * The size of the objective's units, by which the diagnosis's thresholds in objective units
 * (minGain, peerMargin, clearlyBetter: sized for a score in [0, 1] such as AUC or accuracy) are
 * multiplied. A maximised objective whose values all lie in [0, 1] is such a score: 1. Anything
 * else (a loss, an error to minimise, a score on another scale) is measured against where training
 * starts: the median size of the trials' first reported values. So a cross-entropy starting at 2.3
 * needs a peer 0.115 ahead to be clearly better, and an MSE falling from 0.02 to 0.01 has learned.
 */
export function objectiveScale(trials: readonly TrialView[], metric: string, direction: Direction): number {
  const firsts: number[] = [];
  let unitInterval = true;
  for (const t of trials) {
    let first: { epoch: number; value: number } | undefined;
    for (const e of t.epochs) {
      const v = e.metrics[metric];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      if (v < 0 || v > 1) unitInterval = false;
      if (!first || e.epoch < first.epoch) first = { epoch: e.epoch, value: v };
    }
    if (first) firsts.push(Math.abs(first.value));
  }
  if (direction === 'maximize' && unitInterval) return 1;
  firsts.sort((a, b) => a - b);
  const n = firsts.length;
  const median = n === 0 ? 0 : n % 2 ? (firsts[(n - 1) / 2] as number) : ((firsts[n / 2 - 1] as number) + (firsts[n / 2] as number)) / 2;
  // Nothing reported, or training starts at zero: objective units as they are.
  return median > 0 ? median : 1;
}
