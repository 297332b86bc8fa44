import type { z } from 'zod';
import { nearestName } from './did-you-mean.ts';
import { formatPath, type SpecProblem } from './errors.ts';

/**
 * A zod issue as a spec problem, in the words the spec's own checks use ("must be a number (got
 * "x")", "unknown key 'bogus'", "is required", "must be one of …"), so that plugin and runner
 * options read like the rest of the spec rather than zod's "Invalid input: expected number,
 * received string". `prefix`: the path of the value zod parsed (`strategy.options`); `input`: that
 * value, for the "got" (zod carries the input on an issue only when asked to); `knownKeys`: the
 * keys known at a path of that value, for the "did you mean" of an unknown key one typo from one.
 */
export function issueProblem(
  issue: z.core.$ZodIssue,
  prefix: readonly PropertyKey[],
  input: unknown,
  knownKeys?: (path: readonly PropertyKey[]) => readonly string[],
): SpecProblem {
  const path = formatPath([...prefix, ...issue.path]);
  const value = 'input' in issue ? issue.input : valueAt(input, issue.path);
  // zod's `.int()` bounds an integer to the safe range too, under the message the schema wrote for
  // a fraction ("must be an integer"): 1e20 is an integer, just too large to count on exactly.
  const safe = safeRangeBound(issue);
  if (safe !== undefined) {
    const side = issue.code === 'too_big' ? 'at most' : 'at least';
    const got = value === undefined ? '' : ` (got ${describeValue(value)})`;
    return { path, message: `must be an integer of ${side} ${safe}${got}` };
  }
  // A schema's own words ("must have type float, int or categorical") beat any of these; said with the value when it is one.
  const own =
    ['invalid_type', 'invalid_union', 'invalid_value', 'too_small', 'too_big'].includes(issue.code) &&
    !/^(Invalid|Too (small|big))/.test(issue.message);
  if (own) {
    const got = issue.message.endsWith(')') ? `; got ${describeValue(value)}` : ` (got ${describeValue(value)})`;
    const shown = ['string', 'number', 'boolean'].includes(typeof value) && value !== '' && !issue.message.includes('got ') ? got : '';
    return { path, message: `${issue.message}${shown}` };
  }
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys?.(issue.path) ?? [];
      const named = issue.keys.map((k) => {
        const near = nearestName(k, known);
        return near ? `'${k}' (did you mean '${near}'?)` : `'${k}'`;
      });
      return { path, message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${named.join(', ')}` };
    }
    case 'invalid_type':
      if (value === undefined) return { path, message: 'is required' };
      // YAML's .inf and a 1e309 parse to Infinity: a number, but not one a spec can hold.
      if (issue.expected === 'number' && typeof value === 'number') return { path, message: `must be a finite number (got ${value})` };
      return { path, message: `must be ${typeName(issue.expected)} (got ${describeValue(value)})` };
    case 'invalid_union': {
      // A value of none of the types allowed here (a choice that is a mapping, say): name the types.
      const types = issue.errors.map((branch) =>
        branch.length === 1 && branch[0]?.code === 'invalid_type' ? branch[0].expected : undefined,
      );
      if (types.every((t) => t !== undefined))
        return { path, message: `must be ${orList([...new Set(types)].map(typeName))} (got ${describeValue(value)})` };
      return { path, message: `is not a value this field takes (got ${describeValue(value)})` };
    }
    case 'invalid_key': {
      // A record's key (a parameter or variable name): its own check's words, where it has them.
      const inner = issue.issues[0];
      const why = inner ? issueProblem(inner, [], String(value)).message : '';
      return { path, message: `is not a valid name${why && !why.startsWith('Invalid') ? `: ${why}` : ''}` };
    }
    case 'invalid_value':
      if (!issue.message.startsWith('Invalid')) break;
      return { path, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${describeValue(value)})` };
    case 'too_small':
    case 'too_big': {
      if (!/^Too (small|big)/.test(issue.message)) break;
      const small = issue.code === 'too_small';
      const bound = small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum;
      const inclusive = issue.inclusive !== false;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint')
        return { path, message: `must be ${small ? '>' : '<'}${inclusive ? '=' : ''} ${String(bound)} (got ${describeValue(value)})` };
      const unit = issue.origin === 'string' ? 'character' : 'item';
      return { path, message: `must have ${small ? 'at least' : 'at most'} ${String(bound)} ${unit}${Number(bound) === 1 ? '' : 's'}` };
    }
  }
  return { path, message: issue.message };
}

/**
 * Every issue as issueProblem says it, less the safe-integer bound of a value that also breaks a
 * bound of the field's own (`max_trials: 1e300` is told "must be at most 100000", its real range,
 * not also "must be an integer of at most 9007199254740991").
 */
export function issueProblems(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[],
  input: unknown,
  knownKeys?: (path: readonly PropertyKey[]) => readonly string[],
): SpecProblem[] {
  const key = (issue: z.core.$ZodIssue) => formatPath(issue.path);
  const ownBound = (issue: z.core.$ZodIssue) =>
    issues.some(
      (other) => other !== issue && other.code === issue.code && key(other) === key(issue) && safeRangeBound(other) === undefined,
    );
  return issues
    .filter((issue) => safeRangeBound(issue) === undefined || !ownBound(issue))
    .map((issue) => issueProblem(issue, prefix, input, knownKeys));
}

/** The bound of zod's safe-integer range check (part of every `.int()`) that `issue` reports; else undefined. */
function safeRangeBound(issue: z.core.$ZodIssue): number | undefined {
  if ((issue.code !== 'too_big' && issue.code !== 'too_small') || issue.origin !== 'int') return undefined;
  const bound = Number(issue.code === 'too_big' ? issue.maximum : issue.minimum);
  return Math.abs(bound) === Number.MAX_SAFE_INTEGER ? bound : undefined;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = root;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** 'a', 'a or b', 'a, b or c'. */
function orList(items: readonly string[]): string {
  return items.length <= 2 ? items.join(' or ') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** zod's type names in a spec author's words, with their article. */
function typeName(expected: string): string {
  const type = ({ int: 'integer', record: 'mapping', array: 'list' } as Record<string, string>)[expected] ?? expected;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** A value as a problem quotes it: short, and never a whole object. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value;
}
