import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { issueProblem, issueProblems } from './issues.ts';

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

  it('an integer past the safe range is told so, not "must be an integer"; a bound of its own is said instead', () => {
    const seed = z.strictObject({
      seed: z
        .number()
        .int('must be an integer')
        .min(0, 'must be >= 0')
        .max(2 ** 32 - 1, 'must fit in 32 bits'),
    });
    const count = z.strictObject({ n: z.number().int() });
    const lines = (schema: z.ZodType, raw: unknown, each: boolean) => {
      const parsed = schema.safeParse(raw);
      if (parsed.success) return [];
      const found = each
        ? parsed.error.issues.map((i) => issueProblem(i, ['strategy', 'options'], raw))
        : issueProblems(parsed.error.issues, ['strategy', 'options'], raw);
      return found.map((p) => `${p.path}: ${p.message}`);
    };
    expect(lines(seed, { seed: 1e20 }, true)).toEqual([
      'strategy.options.seed: must be an integer of at most 9007199254740991 (got 100000000000000000000)',
      'strategy.options.seed: must fit in 32 bits (got 100000000000000000000)',
    ]);
    expect(lines(seed, { seed: 1e20 }, false)).toEqual(['strategy.options.seed: must fit in 32 bits (got 100000000000000000000)']);
    expect(lines(seed, { seed: -1e20 }, false)).toEqual(['strategy.options.seed: must be >= 0 (got -100000000000000000000)']);
    expect(lines(count, { n: 1e300 }, false)).toEqual(['strategy.options.n: must be an integer of at most 9007199254740991 (got 1e+300)']);
    expect(lines(count, { n: -(2 ** 60) }, true)).toEqual([
      'strategy.options.n: must be an integer of at least -9007199254740991 (got -1152921504606847000)',
    ]);
    expect(lines(seed, { seed: 1.5 }, false)).toEqual(['strategy.options.seed: must be an integer (got 1.5)']);
  });
});
