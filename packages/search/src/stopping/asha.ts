import type { StopDecision, StoppingContext, StoppingRule, TrialView } from '@sweepd/core';
import { z } from 'zod';
import { othersOf } from './history.ts';
import { stoppingPlugin } from './plugin.ts';
import { decideHalving, type HalvingPlan, rungEpochs } from './successive-halving.ts';

/**
 * Asynchronous successive halving, decided exactly as Optuna's SuccessiveHalvingPruner does
 * (see successive-halving.ts). Defaults follow Optuna: reduction_factor 4, rungs at 1, 4, 16, …
 */
export const ashaOptionsSchema = z.strictObject({
  /** Epochs before the first rung (Optuna's min_resource): never stops before epoch grace·η^s. */
  grace_period: z.number().int().min(1).default(1),
  /** η: about 1/η of the trials at a rung go on to the next. */
  reduction_factor: z.number().int().min(2).default(4),
  /** No rung at or after this epoch; defaults to the study's max_epochs. */
  max_epochs: z.number().int().min(1).optional(),
  /** s: the first rung is at grace·η^s. */
  min_early_stopping_rate: z.number().int().min(0).default(0),
  /** Promote a trial within this much of the promotion cutoff (metric units; 0 = Optuna's rule). */
  tolerance: z.number().min(0).default(0),
  /**
   * Promote a trial within this many noise standard deviations of the cutoff, the noise
   * estimated from the peers' epoch-to-epoch jitter (added to `tolerance`; 0 = off).
   */
  noise_tolerance: z.number().min(0).default(0),
  /** A trial's value at a rung: 'at' the rung's epoch (Optuna), or its 'best' up to it. */
  rung_value: z.enum(['at', 'best']).default('at'),
});
export type AshaOptions = z.infer<typeof ashaOptionsSchema>;

export function createAshaRule(options: AshaOptions, ctx: StoppingContext): StoppingRule {
  const plan: HalvingPlan = {
    grace: options.grace_period,
    eta: options.reduction_factor,
    s: options.min_early_stopping_rate,
    maxEpochs: Math.min(options.max_epochs ?? ctx.maxEpochs, ctx.maxEpochs),
    tolerance: options.tolerance,
    noiseTolerance: options.noise_tolerance,
    rungValue: options.rung_value,
  };
  return {
    decide(trial: TrialView, peers: readonly TrialView[]): StopDecision {
      return decideHalving('asha', plan, ctx.metric, ctx.direction, trial, othersOf(trial, peers));
    },
  };
}

export const ashaRulePlugin = stoppingPlugin(
  'asha',
  'Asynchronous successive halving: at rungs grace·η^k a trial goes on only if it is in the top 1/η there.',
  ashaOptionsSchema,
  createAshaRule,
  (o, maxEpochs) => ({
    epoch: rungEpochs({
      grace: o.grace_period,
      eta: o.reduction_factor,
      s: o.min_early_stopping_rate,
      maxEpochs: Math.min(o.max_epochs ?? maxEpochs, maxEpochs),
    })[0],
    because: `its first rung at grace_period·reduction_factor^min_early_stopping_rate = ${o.grace_period * o.reduction_factor ** o.min_early_stopping_rate}${o.max_epochs !== undefined ? ` (max_epochs ${o.max_epochs})` : ''}`,
  }),
);
