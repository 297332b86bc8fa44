import { z } from 'zod';

/** Bounds that keep a single spec from exhausting the daemon. */
export const LIMITS = { maxParameters: 64, maxTrials: 100_000, maxParallelism: 1024, maxEpochs: 100_000, maxChoices: 1000 };

/** A study, parameter or pool name. */
export const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  // ASCII only: a command's `{name}` placeholders and exported flags and variables are read as such.
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/,
    'may hold only ASCII letters, digits and _ . : - and must start with an ASCII letter, a digit or _',
  );

const name = nameSchema;

const paramValue = z.union([z.number(), z.string().max(256), z.boolean()]);

const when = z
  .record(name, z.array(paramValue).min(1, 'must list at least one value'))
  .optional()
  .describe('the parameter exists only when each named parameter takes one of the listed values');

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const floatParamSchema = z.strictObject({
  type: z.literal('float'),
  low: finite,
  high: finite,
  log: z.boolean().default(false),
  when,
});

export const intParamSchema = z.strictObject({
  type: z.literal('int'),
  // `.int()` also bounds to the safe integers (issues.ts words that bound).
  low: z.number().int('must be an integer'),
  high: z.number().int('must be an integer'),
  step: z.number().int('must be an integer').positive('must be > 0').default(1),
  log: z.boolean().default(false),
  when,
});

export const categoricalParamSchema = z.strictObject({
  type: z.literal('categorical'),
  choices: z
    .array(paramValue)
    .min(1, 'must list at least one choice')
    .max(LIMITS.maxChoices, `must list at most ${LIMITS.maxChoices} choices`),
  when,
});

export const paramSchema = z.discriminatedUnion('type', [floatParamSchema, intParamSchema, categoricalParamSchema], {
  error: 'must have type float, int or categorical',
});

const pluginRef = z.strictObject({
  name: z.string().min(1, 'must not be empty').max(128),
  options: z.record(z.string(), z.unknown()).default({}),
});

export const specSchema = z.strictObject({
  name,
  description: z.string().max(10_000).optional(),
  objective: z.strictObject({
    metric: z.string().min(1).max(128).default('val_auc_macro'),
    direction: z.enum(['maximize', 'minimize'], { error: 'must be maximize or minimize' }).default('maximize'),
  }),
  space: z.record(name, paramSchema),
  fixed: z.record(name, paramValue).default({}),
  /**
   * The config the user runs today: a value for every searched parameter that applies (conditions
   * as in `space`), each inside the space. It runs first, as trial 0, so the answer can say how
   * much the best found beats it. Checked in parse.ts (baselineProblems).
   */
  baseline: z.record(name, paramValue).optional(),
  strategy: pluginRef.default({ name: 'random', options: {} }),
  stopping: z.array(pluginRef).max(16, 'must list at most 16 rules').default([]),
  budget: z.strictObject({
    max_trials: z
      .number()
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(LIMITS.maxTrials, `must be at most ${LIMITS.maxTrials}`),
    max_epochs: z
      .number()
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(LIMITS.maxEpochs, `must be at most ${LIMITS.maxEpochs}`),
    parallelism: z
      .number()
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(LIMITS.maxParallelism, `must be at most ${LIMITS.maxParallelism}`)
      .default(1),
    /** Trials failing one after another before the study stops as failed: setup errors repeat, so don't spend the budget on them. */
    max_consecutive_failures: z
      .number()
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(LIMITS.maxTrials, `must be at most ${LIMITS.maxTrials}`)
      .default(5),
  }),
  trainer: z
    .strictObject({
      runner: z.string().min(1).max(128).default('tfjs'),
      model: z.string().min(1).max(4096).optional(),
      dataset: z.string().min(1).max(4096).optional(),
      pool: name.default('default'),
      options: z.record(z.string(), z.unknown()).default({}),
    })
    .default({ runner: 'tfjs', pool: 'default', options: {} }),
  plugins: z.array(z.string().min(1).max(4096)).max(32).default([]),
});

export type SearchSpec = z.output<typeof specSchema>;
export type SpecInput = z.input<typeof specSchema>;
export type ParamSpec = z.output<typeof paramSchema>;
export type FloatParam = z.output<typeof floatParamSchema>;
export type IntParam = z.output<typeof intParamSchema>;
export type CategoricalParam = z.output<typeof categoricalParamSchema>;
export type Space = Readonly<Record<string, ParamSpec>>;
