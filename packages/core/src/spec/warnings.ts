import type { SpecProblem } from './errors.ts';
import type { SearchSpec } from './schema.ts';

/**
 * What in a valid spec's budget is likely not what its author meant: the study is stored and runs
 * as written, and the submit answer carries these as warnings.
 */
export function budgetWarnings(spec: SearchSpec): SpecProblem[] {
  const { max_trials, parallelism } = spec.budget;
  const warnings: SpecProblem[] = [];
  if (parallelism > max_trials)
    warnings.push({
      path: 'budget.parallelism',
      message: `${parallelism} is more than max_trials (${max_trials}): at most ${max_trials} trial(s) run at once`,
    });
  // The baseline is trial 0: a budget of one trial runs it alone, and "no other trial beat it" would mean nothing.
  if (spec.baseline !== undefined && max_trials === 1)
    warnings.push({
      path: 'budget.max_trials',
      message: '1 runs the baseline alone (it is trial 0): nothing is searched to compare it with',
    });
  return warnings;
}
