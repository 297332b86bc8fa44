import type { ParamValue, Plugin, StoppingRule, TrialView } from '@sweepd/core';
import { ashaRulePlugin } from './asha.ts';
import { deadUnitsRulePlugin } from './dead-units.ts';
import { divergenceRulePlugin } from './divergence.ts';
import { hyperbandRulePlugin } from './hyperband.ts';
import { learningCurveRulePlugin } from './learning-curve.ts';
import { medianRulePlugin } from './median.ts';
import { startupScreenRulePlugin } from './startup-screen.ts';
import { weightStallRulePlugin } from './weight-stall.ts';

export const builtinStoppingRules: Plugin<'stopping'>[] = [
  medianRulePlugin,
  ashaRulePlugin,
  hyperbandRulePlugin,
  weightStallRulePlugin,
  deadUnitsRulePlugin,
  divergenceRulePlugin,
  learningCurveRulePlugin,
  startupScreenRulePlugin,
] as Plugin<'stopping'>[];

/** A rule with the name it is reported under (the spec's `stopping[i].name`). */
export interface NamedStoppingRule {
  name: string;
  rule: StoppingRule;
}

export type CombinedDecision = { stop: false } | { stop: true; reason: string; rule: string };

/**
 * Asks each rule in order; the first that says stop wins, and the answer names it. A bare
 * StoppingRule is named by its position (`#0`, `#1`, …).
 */
export function decideAll(
  rules: ReadonlyArray<NamedStoppingRule | StoppingRule>,
  trial: TrialView,
  peers: readonly TrialView[],
): CombinedDecision {
  for (const [i, entry] of rules.entries()) {
    const { name, rule } = 'rule' in entry ? entry : { name: `#${i}`, rule: entry };
    const decision = rule.decide(trial, peers);
    if (decision.stop) return { stop: true, reason: decision.reason, rule: name };
  }
  return { stop: false };
}

/** The tags every rule wants stored with a new trial, merged in rule order (later rules win on a clash). */
export function tagsForTrialAll(rules: ReadonlyArray<NamedStoppingRule | StoppingRule>, trialNumber: number): Record<string, ParamValue> {
  const tags: Record<string, ParamValue> = {};
  for (const entry of rules) {
    const rule = 'rule' in entry ? entry.rule : entry;
    Object.assign(tags, rule.tagsForTrial?.(trialNumber));
  }
  return tags;
}

export { ashaRulePlugin, createAshaRule } from './asha.ts';
export { createDeadUnitsRule, deadUnitsRulePlugin } from './dead-units.ts';
export { createDivergenceRule, divergenceRulePlugin } from './divergence.ts';
export { createHyperbandRule, hyperbandBrackets, hyperbandRulePlugin } from './hyperband.ts';
export { createLearningCurveRule, learningCurveRulePlugin } from './learning-curve.ts';
export { createMedianRule, medianRulePlugin } from './median.ts';
export { createStartupScreenRule, startupScreenRulePlugin } from './startup-screen.ts';
export { decideHalving, noiseEstimate, rungEpochs } from './successive-halving.ts';
export { createWeightStallRule, weightStallRulePlugin } from './weight-stall.ts';
