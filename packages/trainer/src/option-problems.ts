import type { SpecProblem } from '@sweepd/core';

/** A runner's option issues (zod's) as spec problems, by path under trainer.options. */
export function optionProblems(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): SpecProblem[] {
  return issues.map((i) => ({ path: ['trainer.options', ...i.path.map(String)].join('.'), message: i.message }));
}
