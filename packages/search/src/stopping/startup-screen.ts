import type { StopDecision, StoppingContext, StoppingRule, TrialView } from '@sweepd/core';
import { z } from 'zod';
import { bestUpTo, fmt, lastEpoch, othersOf } from './history.ts';
import { stoppingPlugin } from './plugin.ts';

/**
 * Start-up screen: the first `trials` trials of a study (by number — what a model-based strategy
 * draws at random before its model starts) are judged after epoch `epochs` and after every later
 * epoch before budget.max_epochs (the last one ends the trial anyway). At epoch e such a trial
 * goes on only when its best value up to e is strictly ahead of the best up to e of every other
 * trial (any number, any state) that has already reached e with a finite value, and at least one
 * other trial has. It is stopped otherwise: behind or level with one of them, without a finite
 * value itself, or when no other trial has reached e yet. So the first trial to reach an epoch
 * from `epochs` on is always stopped there, however good its value: by design, a start-up trial
 * never runs on just by being first, and from `epochs` on never trains past an epoch that no
 * other trial had reached when it finished it. The first trial of a study, with nothing to be ahead of, always
 * stops at `epochs`. Their short curves still map the space for the strategy; the epochs they
 * would have spent finishing random configurations are left for the trials the strategy chooses.
 *
 * Meant beside a rule that judges the rest (learning-curve): a start-up trial that happens to be
 * good is kept only while other trials are already at its epoch (stopped ones count) and it leads
 * them all; ahead of the field but first there, it is stopped. And no start-up trial sets the
 * bar for the others just by being the first to finish.
 */
export const startupScreenOptionsSchema = z.strictObject({
  /** Trials numbered below this are screened (the strategy's start-up design; TPE's default is 10). */
  trials: z.number().int().min(1).default(10),
  /** The epoch from which a screened trial must lead the other trials already at its epoch (and there must be one) to go on. */
  epochs: z.number().int().min(1).default(2),
});
export type StartupScreenOptions = z.infer<typeof startupScreenOptionsSchema>;

export function createStartupScreenRule(options: StartupScreenOptions, ctx: StoppingContext): StoppingRule {
  const { direction, metric, maxEpochs } = ctx;
  const sign = direction === 'maximize' ? 1 : -1;
  return {
    decide(trial: TrialView, peers: readonly TrialView[]): StopDecision {
      const e = lastEpoch(trial);
      if (trial.number >= options.trials || e < options.epochs || e >= maxEpochs) return { stop: false };
      const mine = bestUpTo(trial, metric, direction, e);
      const head = `startup-screen: start-up trial ${trial.number} (of the first ${options.trials}) after ${e} epochs`;
      if (mine === undefined || !Number.isFinite(mine)) return { stop: true, reason: `${head} has no finite ${metric}` };
      let compared = 0;
      for (const peer of othersOf(trial, peers)) {
        if (lastEpoch(peer) < e) continue;
        const theirs = bestUpTo(peer, metric, direction, e);
        if (theirs === undefined || !Number.isFinite(theirs)) continue;
        if (!(sign * mine > sign * theirs)) {
          return {
            stop: true,
            reason: `${head}: ${metric} ${fmt(mine)} is not ahead of trial ${peer.number}'s ${fmt(theirs)} by epoch ${e}`,
          };
        }
        compared++;
      }
      // No other trial at this epoch yet: stopped too, by design (never kept just for being first).
      if (compared === 0) return { stop: true, reason: `${head}: no other trial has reached epoch ${e} to be ahead of` };
      return { stop: false };
    },
  };
}

export const startupScreenRulePlugin = stoppingPlugin(
  'startup-screen',
  "Stops the study's first (start-up) trials after a few epochs unless they lead every other trial there.",
  startupScreenOptionsSchema,
  createStartupScreenRule,
  (o) => ({ epoch: o.epochs, because: `epochs ${o.epochs}` }),
  // Meant for the start-up trials only: screening the whole budget keeps only the running leader.
  (o, maxTrials) =>
    o.trials < maxTrials
      ? undefined
      : `screens every trial of the study: trials ${o.trials} covers all of budget.max_trials ${maxTrials}, so only a trial ahead of every other at each epoch from epoch ${o.epochs} on trains past it. Set trials to the strategy's start-up trials, below ${maxTrials}`,
);
