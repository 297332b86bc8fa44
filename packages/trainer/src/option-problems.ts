import { issueProblem, type SpecProblem } from '@sweepd/core';
import type { z } from 'zod';

/** A runner's option issues (zod's) as spec problems, by path under trainer.options; `options`: what was parsed. */
export function optionProblems(issues: readonly z.core.$ZodIssue[], options: unknown): SpecProblem[] {
  return issues.map((i) => issueProblem(i, ['trainer', 'options'], options));
}
