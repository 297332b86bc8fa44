import { issueProblem, keysAt, nearestName, type SpecProblem } from '@sweepd/core';
import { z } from 'zod';

/**
 * `trainer.options` of the `command` runner. Strict: a misspelled option is an error at submit,
 * not a silently ignored setting. Documented in docs/command-runner.md.
 */
export const commandOptionsSchema = z.strictObject({
  /** argv, run without a shell; argv[0] is found on PATH unless it holds a '/'. */
  command: z
    .array(z.string().min(1, 'must not be an empty string'), {
      error: (issue) =>
        issue.input === undefined ? 'is required: the argv to run, e.g. [python3, train.py]' : 'must be a list of strings (the argv)',
    })
    .min(1, 'must name at least the program to run'),
  /** How parameters reach the argv; the JSON params file is written in every mode. */
  args: z.enum(['flags', 'placeholders', 'none'], { error: 'must be flags, placeholders or none' }).default('flags'),
  /** Extra environment variables for the script (the SWEEPD_* ones are sweepd's). */
  env: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name'),
      z.string({ error: 'must be a string' }),
    )
    .default({}),
  /** Working directory of the script: absolute, or relative to the worker's working directory. Default: the trial directory. */
  cwd: z.string().min(1, 'must not be empty').optional(),
  /** After a stop request is written to the control file, how long the script may take to exit on its own. */
  stop_grace_s: z.number().min(0).max(3600).default(5),
  /** After SIGTERM to the process group, how long before SIGKILL. */
  term_grace_s: z.number().min(0).max(600).default(3),
  /** A trial that writes no report for this long is failed as hung (an epoch at full scale can take half an hour). */
  report_timeout_s: z
    .number()
    .positive('must be > 0')
    .max(7 * 86_400)
    .default(3600),
  /** The same for the first report (data loading, feature caching); defaults to report_timeout_s. */
  start_timeout_s: z
    .number()
    .positive('must be > 0')
    .max(7 * 86_400)
    .optional(),
  /** Lines of stderr kept for a failed trial's reason and notes. */
  stderr_tail_lines: z.number().int('must be an integer').min(1).max(1000).default(40),
  /** Read scalars and histograms from TensorBoard event files the script writes, as epoch reports. */
  tensorboard: z
    .strictObject({
      /** Event-file directory, relative to the trial directory (or absolute). */
      dir: z.string().min(1, 'must not be empty'),
      /** TensorBoard tag → sweepd metric name. */
      tags: z.record(z.string().min(1), z.string().min(1)).refine((t) => Object.keys(t).length > 0, 'must map at least one tag'),
      /** Steps per epoch; without it an epoch ends when `epoch_metric` (default: the first tag's metric) is written. */
      steps_per_epoch: z.number().int('must be an integer').positive('must be > 0').optional(),
      epoch_metric: z.string().min(1).optional(),
    })
    .optional(),
});

export type CommandOptions = z.output<typeof commandOptionsSchema>;

/** Parses `trainer.options`; problems carry paths from the spec's root. */
export function parseCommandOptions(raw: unknown): { options: CommandOptions } | { problems: SpecProblem[] } {
  const parsed = commandOptionsSchema.safeParse(raw ?? {});
  // Every problem at once, the reserved variables too, not one per submit.
  const env = (raw as { env?: unknown } | null | undefined)?.env;
  const reserved = env !== null && typeof env === 'object' ? Object.keys(env).filter((k) => k.startsWith('SWEEPD_')) : [];
  const problems: SpecProblem[] = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) =>
          i.code === 'unrecognized_keys'
            ? {
                path: ['trainer', 'options', ...i.path.map(String)].join('.'),
                message: `unknown option(s): ${i.keys.map((k) => withNearest(k, i.path)).join(', ')}`,
              }
            : // In the spec's words ("must be >= 0 (got -1)"), not zod's ("Too small: expected number to be >=0").
              issueProblem(i, ['trainer', 'options'], raw ?? {}),
        )),
    ...reserved.map((k) => ({ path: `trainer.options.env.${k}`, message: 'SWEEPD_* variables are set by sweepd for each trial' })),
  ];
  return parsed.success && problems.length === 0 ? { options: parsed.data } : { problems };
}

/** `wd`, or `stop_grace (did you mean 'stop_grace_s'?)` when a known option is one typo away. */
function withNearest(key: string, at: readonly PropertyKey[]): string {
  const near = nearestName(key, keysAt(commandOptionsSchema, at));
  return near ? `${key} (did you mean '${near}'?)` : key;
}

/**
 * For a spec check only: the options with every key that has a problem (or is unknown) left out
 * (`dropped`), parsed, so that the rest of the spec is still checked and every problem comes in one
 * answer. Undefined when what is left does not parse (the command itself is wrong, say).
 */
export function salvageCommandOptions(
  raw: unknown,
  problems: readonly SpecProblem[],
): { options: CommandOptions; dropped: ReadonlySet<string> } | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const known = new Set(Object.keys(commandOptionsSchema.shape));
  const bad = new Set(problems.map((p) => p.path.split('.')[2]).filter((k) => k !== undefined));
  const dropped = new Set(Object.keys(raw).filter((k) => !known.has(k) || bad.has(k)));
  const parsed = commandOptionsSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([k]) => !dropped.has(k))));
  return parsed.success ? { options: parsed.data, dropped } : undefined;
}
