import { issueProblem, keysAt, type SpecProblem } from '@sweepd/core';
import type { z } from 'zod';

/**
 * A runner's option issues as spec problems, by path under trainer.options: `schema` is what
 * parsed `options` (its keys name the option an unknown one is a typo of).
 */
export function optionProblems(schema: z.ZodType, error: z.ZodError, options: unknown): SpecProblem[] {
  return error.issues.map((i) => issueProblem(i, ['trainer', 'options'], options, (path) => keysAt(schema, path)));
}
