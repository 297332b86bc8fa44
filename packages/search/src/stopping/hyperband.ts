import type { ParamValue, StopDecision, StoppingContext, StoppingRule, TrialView } from '@sweepd/core';
import { z } from 'zod';
import { othersOf } from './history.ts';
import { stoppingPlugin } from './plugin.ts';
import { decideHalving, type HalvingPlan } from './successive-halving.ts';

/**
 * Hyperband as Optuna's HyperbandPruner runs it: brackets b = 0 … n−1 of successive halving
 * whose first rung is at grace·η^b, with n = ⌊log_η(max_epochs / grace)⌋ + 1. Each trial
 * belongs to one bracket and competes only with trials of the same bracket.
 *
 * Bracket budgets follow Optuna: bracket b gets ⌈n · η^s / (s + 1)⌉ shares with s = n − 1 − b,
 * so aggressive brackets (many trials, early rungs) hold more trials. Optuna hashes the study
 * name and trial number; the rule has no study name, so it places trial number t at
 * u = frac((t + 1) · φ⁻¹) (the golden-ratio sequence, evenly spread for any count of trials) on
 * the budget-weighted line. The bracket is stored as the tag `bracket` (tagsForTrial) and read
 * back from peers' tags; a trial without the tag gets the same bracket from its number.
 */
export const hyperbandOptionsSchema = z.strictObject({
  /** Optuna's min_resource: bracket b's first rung is at grace·η^b. */
  grace_period: z.number().int().min(1).default(1),
  /** η (Optuna's default for hyperband is 3). */
  reduction_factor: z.number().int().min(2).default(3),
  /** The largest epoch count a trial may run; defaults to the study's max_epochs. */
  max_epochs: z.number().int().min(1).optional(),
});
export type HyperbandOptions = z.infer<typeof hyperbandOptionsSchema>;

const INVERSE_GOLDEN_RATIO = (Math.sqrt(5) - 1) / 2;

export interface HyperbandBrackets {
  /** Shares of the trials per bracket (Optuna's trial allocation budgets). */
  budgets: number[];
  bracketOf(trialNumber: number): number;
}

export function hyperbandBrackets(grace: number, eta: number, maxEpochs: number): HyperbandBrackets {
  // The epsilon keeps exact powers (max 27, η 3) from flooring one bracket short.
  const n = Math.max(1, Math.floor(Math.log(Math.max(maxEpochs / grace, 1)) / Math.log(eta) + 1e-9) + 1);
  const budgets = Array.from({ length: n }, (_, b) => {
    const s = n - 1 - b;
    return Math.ceil((n * eta ** s) / (s + 1));
  });
  const total = budgets.reduce((a, b) => a + b, 0);
  return {
    budgets,
    bracketOf(trialNumber: number): number {
      const t = Number.isFinite(trialNumber) ? Math.abs(Math.trunc(trialNumber)) : 0;
      const u = ((t + 1) * INVERSE_GOLDEN_RATIO) % 1;
      let point = u * total;
      for (const [b, budget] of budgets.entries()) {
        point -= budget;
        if (point < 0) return b;
      }
      return n - 1;
    },
  };
}

export function createHyperbandRule(options: HyperbandOptions, ctx: StoppingContext): StoppingRule {
  const maxEpochs = Math.min(options.max_epochs ?? ctx.maxEpochs, ctx.maxEpochs);
  const brackets = hyperbandBrackets(options.grace_period, options.reduction_factor, maxEpochs);
  const bracketOfTrial = (t: TrialView): number => {
    const tag = t.tags?.bracket;
    if (typeof tag === 'number' && Number.isInteger(tag) && tag >= 0 && tag < brackets.budgets.length) return tag;
    return brackets.bracketOf(t.number);
  };
  return {
    tagsForTrial(trialNumber: number): Readonly<Record<string, ParamValue>> {
      return { bracket: brackets.bracketOf(trialNumber) };
    },
    decide(trial: TrialView, peers: readonly TrialView[]): StopDecision {
      const bracket = bracketOfTrial(trial);
      const plan: HalvingPlan = { grace: options.grace_period, eta: options.reduction_factor, s: bracket, maxEpochs };
      const sameBracket = othersOf(trial, peers).filter((p) => bracketOfTrial(p) === bracket);
      return decideHalving(`hyperband (bracket ${bracket})`, plan, ctx.metric, ctx.direction, trial, sameBracket);
    },
  };
}

export const hyperbandRulePlugin = stoppingPlugin(
  'hyperband',
  'Hyperband: brackets of successive halving with different first rungs; a trial competes within its bracket.',
  hyperbandOptionsSchema,
  createHyperbandRule,
  (o, maxEpochs) => ({
    // Bracket 0's first rung, at grace_period, is the earliest of every bracket.
    epoch: o.grace_period < Math.min(o.max_epochs ?? maxEpochs, maxEpochs) ? o.grace_period : undefined,
    because: `grace_period ${o.grace_period}${o.max_epochs !== undefined ? ` (max_epochs ${o.max_epochs})` : ''}`,
  }),
);
