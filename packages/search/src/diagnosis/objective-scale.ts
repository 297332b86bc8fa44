import type { Direction, TrialView } from '@sweepd/core';

/**
 * The size of the objective's units, by which the diagnosis's margins in objective units (minGain,
 * peerMargin, clearlyBetter, learnedAboveChance: sized for a score in [0, 1] such as AUC, accuracy
 * or an error rate) are multiplied. An objective whose values all lie in [0, 1] is such a score
 * (1), unless its name says it is a loss (loss, mse, mae, …). One whose values lie in [0, 100], some
 * above 1, and whose name says it is a score (accuracy, AUC, F1, precision, recall, IoU, top-k, an
 * error rate) is that score in percent (100): accuracy 92 → 95 reads as 0.92 → 0.95 does. Anything
 * else (a loss, a reward) is measured by its own magnitude: the median over the trials of the
 * larger of |first value| and |best value|. So a cross-entropy starting at 2.3 needs a peer 0.115
 * ahead to be clearly better, and an MSE falling from 0.02 to 0.008 has learned. An AUC with values
 * at or below 1 is never in percent (that would be a perfectly inverted ranking): values on both
 * sides of 1 are an AUC computed wrongly, which the diagnosis says.
 */
/** Names of losses, which are sized by their magnitude even when every value lies in [0, 1]. */
const LOSS_NAME = /loss|mse|mae|rmse|nll|perplexity|ppl/i;
/** Names of an AUC (roc_auc, val_auc_macro, valAuc; not cauchy). */
const AUC_NAME = /auc(?!h)/i;

/** Whether the metric's name says it is an AUC, and not a loss. */
export function isAucName(metric: string): boolean {
  return AUC_NAME.test(metric) && !LOSS_NAME.test(metric);
}

/** Names of scores, which are read as percentages when their values lie in [0, 100]. */
const SCORE_NAME = /acc|auc|f1|precision|recall|iou|top[-_]?\d|err/i;

export function objectiveScale(trials: readonly TrialView[], metric: string, direction: Direction): number {
  return objectiveUnits(trials, metric, direction).scale;
}

export interface ObjectiveUnits {
  /** What margins in the units of a score in [0, 1] are multiplied by. */
  scale: number;
  /**
   * For a score (in [0, 1], or in percent), the end it is pushed towards (its top maximized, 0
   * minimized): how much room a trial had left is known, and near it a small rise is a large share
   * of that room.
   */
  bound?: number;
}

export function objectiveUnits(trials: readonly TrialView[], metric: string, direction: Direction): ObjectiveUnits {
  const sizes: number[] = [];
  let unitInterval = true;
  let percentInterval = true;
  // For the AUC rule in the header comment.
  let atMostOne = false;
  const sign = direction === 'maximize' ? 1 : -1;
  for (const t of trials) {
    let first: { epoch: number; value: number } | undefined;
    let best: number | undefined;
    for (const e of t.epochs) {
      const v = e.metrics[metric];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      if (v < 0 || v > 1) unitInterval = false;
      if (v < 0 || v > 100) percentInterval = false;
      if (v <= 1) atMostOne = true;
      if (!first || e.epoch < first.epoch) first = { epoch: e.epoch, value: v };
      if (best === undefined || sign * (v - best) > 0) best = v;
    }
    if (first && best !== undefined) sizes.push(Math.max(Math.abs(first.value), Math.abs(best)));
  }
  const score = !LOSS_NAME.test(metric);
  if (unitInterval && score) return sizes.length > 0 ? { scale: 1, bound: direction === 'maximize' ? 1 : 0 } : { scale: 1 };
  const percentAuc = !isAucName(metric) || !atMostOne;
  if (percentInterval && score && SCORE_NAME.test(metric) && percentAuc) return { scale: 100, bound: direction === 'maximize' ? 100 : 0 };
  sizes.sort((a, b) => a - b);
  const n = sizes.length;
  const median = n % 2 ? (sizes[(n - 1) / 2] as number) : ((sizes[n / 2 - 1] as number) + (sizes[n / 2] as number)) / 2;
  // Values that are all zero: objective units as they are.
  return { scale: median > 0 ? median : 1 };
}
