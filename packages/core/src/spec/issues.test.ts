import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { issueProblem } from './issues.ts';

const options = z
  .strictObject({
    gamma: z.number().min(0).max(1).optional(),
    n_startup_trials: z.number().int().min(0, 'must be >= 0').optional(),
    mode: z.enum(['fast', 'slow']).optional(),
    curve: z.string(),
    tags: z.array(z.string()).min(1).optional(),
  })
  .strict();

/** What a plugin's options parse to, as the `path: message` lines a user reads. */
function problems(raw: unknown): string[] {
  const parsed = options.safeParse(raw);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => issueProblem(i, ['strategy', 'options'], raw)).map((p) => `${p.path}: ${p.message}`);
}

describe('issueProblem: zod issues in the words of the spec checks', () => {
  it('names the key, the expected type and what it got; keeps a message the schema wrote itself', () => {
    expect(problems({ curve: 'x', gamma: 'high', bogus: 1, n_startup_trials: -2 })).toEqual([
      'strategy.options.gamma: must be a number (got "high")',
      'strategy.options.n_startup_trials: must be >= 0 (got -2)',
      "strategy.options: unknown key 'bogus'",
    ]);
  });

  it('a missing field is required; bounds, choices and lengths say what would do', () => {
    expect(problems({})).toEqual(['strategy.options.curve: is required']);
    expect(problems({ curve: 'x', gamma: 2, mode: 'medium', tags: [], n_startup_trials: 1.5 })).toEqual([
      'strategy.options.gamma: must be <= 1 (got 2)',
      'strategy.options.n_startup_trials: must be an integer (got 1.5)',
      'strategy.options.mode: must be one of "fast", "slow" (got "medium")',
      'strategy.options.tags: must have at least 1 item',
    ]);
  });
});
