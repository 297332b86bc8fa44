import type { SearchSpec, SpecProblem } from '@sweepd/core';

/**
 * The metric names the spec gives the builtin divergence rule (metrics, loss_metric) that the
 * runner never reports, by path: a rule watching a metric that never comes never fires, silently.
 * Only that rule's options are known to be metric names (a plugin's `distance_metric` may be
 * anything), and only names written in the spec are judged, not the rule's defaults.
 */
export function unreportedStoppingMetrics(
  spec: SearchSpec,
  reports: (name: string) => boolean,
  neverReported: (name: string) => string,
): SpecProblem[] {
  const problems: SpecProblem[] = [];
  spec.stopping.forEach((rule, i) => {
    if (rule.name !== 'divergence') return;
    for (const [key, value] of Object.entries(rule.options)) {
      if (key !== 'metrics' && key !== 'loss_metric') continue;
      const names = Array.isArray(value) ? value : [value];
      names.forEach((name, j) => {
        if (typeof name === 'string' && !reports(name))
          problems.push({ path: `stopping.${i}.options.${key}${Array.isArray(value) ? `.${j}` : ''}`, message: neverReported(name) });
      });
    }
  });
  return problems;
}
