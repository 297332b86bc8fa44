import type { StopDecision, StoppingContext, StoppingRule, TrialView } from '@sweepd/core';
import { z } from 'zod';
import { bestUpTo, fmt, lastEpoch, median, othersOf, reportedUpTo, worseWord } from './history.ts';
import { stoppingPlugin } from './plugin.ts';

/**
 * Median stopping: after epoch e, stop a trial whose best value so far is worse than the median
 * of the other trials' best-so-far values at epoch e, over the trials that reached epoch e.
 *
 * Differences from Optuna's MedianPruner, on purpose: peers are every trial that reached
 * epoch e (running or stopped, not only completed ones) and they contribute their best-so-far
 * at e rather than their raw value at e, which is less noisy and does not punish a peer for one
 * bad epoch. `min_trials` plays the role of Optuna's n_startup_trials (5).
 */
export const medianOptionsSchema = z.strictObject({
  /** Epochs every trial runs before it can be judged: never stops at epoch ≤ warmup_epochs. */
  warmup_epochs: z.number().int().min(0).default(1),
  /** Peers that must have reached epoch e before the median means anything. */
  min_trials: z.number().int().min(1).default(5),
});
export type MedianOptions = z.infer<typeof medianOptionsSchema>;

export function createMedianRule(options: MedianOptions, ctx: StoppingContext): StoppingRule {
  const { direction, metric, maxEpochs } = ctx;
  return {
    decide(trial: TrialView, peers: readonly TrialView[]): StopDecision {
      const e = lastEpoch(trial);
      // Nothing to save once the budget is spent: the trial completes rather than being "stopped".
      if (e <= options.warmup_epochs || e >= maxEpochs) return { stop: false };
      const best = bestUpTo(trial, metric, direction, e);
      if (best === undefined) {
        // Reported, but never a finite value: like Optuna, a NaN objective is not worth continuing.
        if (reportedUpTo(trial, metric, e)) return { stop: true, reason: `median: ${metric} has no finite value by epoch ${e}` };
        return { stop: false };
      }
      const values: number[] = [];
      for (const peer of othersOf(trial, peers)) {
        if (lastEpoch(peer) < e) continue;
        const v = bestUpTo(peer, metric, direction, e);
        if (v !== undefined) values.push(v);
      }
      if (values.length < options.min_trials) return { stop: false };
      const m = median(values);
      const worse = direction === 'maximize' ? best < m : best > m;
      if (!worse) return { stop: false };
      return {
        stop: true,
        // Both sides are bests up to the epoch, as in Optuna's MedianPruner, not values at it.
        reason: `median: best ${metric} up to epoch ${e}, ${fmt(best)}, is ${worseWord(direction)} the median ${fmt(m)} of the bests of ${values.length} other trial${values.length === 1 ? '' : 's'} up to it`,
      };
    },
  };
}

export const medianRulePlugin = stoppingPlugin(
  'median',
  "Stops a trial whose best value so far is worse than the median of other trials' best values at the same epoch.",
  medianOptionsSchema,
  createMedianRule,
  (o) => ({ epoch: o.warmup_epochs + 1, because: `warmup_epochs ${o.warmup_epochs}` }),
  // It waits for min_trials other trials at an epoch; a study has max_trials − 1 others at most.
  (o, maxTrials) =>
    o.min_trials < maxTrials
      ? undefined
      : `can never stop a trial here: it waits for min_trials ${o.min_trials} other trials at an epoch, and budget.max_trials ${maxTrials} leaves at most ${maxTrials - 1}. Set min_trials below ${maxTrials}`,
);
