import type { StoppingRule, TrialView } from '@sweepd/core';

/** Asks each rule in spec order; the first that says stop wins. Returns its reason, or undefined. */
export function decideStop(rules: readonly { name: string; rule: StoppingRule }[], trial: TrialView, history: readonly TrialView[]): string | undefined {
  const peers = history.filter((t) => t.id !== trial.id);
  for (const { name, rule } of rules) {
    const decision = rule.decide(trial, peers);
    if (decision.stop) return decision.reason.startsWith(name) ? decision.reason : `${name}: ${decision.reason}`;
  }
  return undefined;
}
