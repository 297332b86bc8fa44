import { z } from '@hono/zod-openapi';
import { specSchema } from '@sweepd/core';
import { EXPORT_FORMATS } from '../views/export.ts';
import { printable } from './errors.ts';

/**
 * The zod schemas of the HTTP API: the path and query schemas validate requests (through
 * @hono/zod-openapi), and all of them generate /openapi.json. The spec body is documented with
 * the core spec schema, but validated by parseSpecText, which accepts YAML too and names every
 * problem by path.
 */

export const ErrorSchema = z
  .object({
    error: z.string().openapi({ example: "no study with id 'st_nope'" }),
    problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    study: z.string().optional().openapi({ description: 'on a 409 for a reused Idempotency-Key: the study the key created' }),
  })
  .openapi('Error');

/** OpenAPI responses for error statuses, each a JSON Error body. */
export const errorResponses = (...codes: Array<400 | 404 | 409 | 413 | 415>) =>
  Object.fromEntries(codes.map((code) => [code, { description: 'error', content: { 'application/json': { schema: ErrorSchema } } }]));

export const StudyIdParams = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'st_3kq9x2' }),
});

export const TrialParams = StudyIdParams.extend({
  n: z
    .string()
    .regex(/^\d{1,9}$/, 'trial number must be an integer from 0 to 999999999')
    .openapi({ param: { name: 'n', in: 'path' }, example: '0' }),
});

/**
 * A query schema that refuses parameters it does not know, naming them and the ones it takes: a
 * misspelt `?limt=5` would otherwise answer every row as if nothing had been asked.
 */
export function strictQuery<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  const takes = known.length > 0 ? `this request takes ${known.join(', ')}` : 'this request takes no query parameters';
  // `_` is the cache-buster clients add to GETs (jQuery's cache: false, some proxies' advice): taken and ignored.
  const cacheBuster = z
    .string()
    .optional()
    .openapi({ param: { name: '_', in: 'query', description: 'ignored (a cache-buster)' } });
  return z.strictObject(
    { ...shape, _: cacheBuster },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown query parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${printable(k)}'`).join(', ')}: ${takes}`
          : undefined,
    },
  );
}

/** For the requests that take no query parameters. */
export const NoQuery = strictQuery({});

export const ExportQuery = strictQuery({
  format: z
    .enum(EXPORT_FORMATS, { error: `format must be one of ${EXPORT_FORMATS.join(', ')}` })
    .default('json')
    .openapi({ param: { name: 'format', in: 'query' } }),
});

// Core's schema was built before @hono/zod-openapi extended zod, so it has no .openapi();
// zod's own .meta() carries the same documentation (a new schema object; core's is untouched).
export const SpecBody = specSchema.meta({
  id: 'Spec',
  description: 'A search spec. Sent as JSON or YAML text (YAML is a superset of JSON); at most 1 MiB.',
});

const counts = z.object({ queued: z.number(), running: z.number(), completed: z.number(), stopped: z.number(), failed: z.number() });
const studyHeader = {
  id: z.string(),
  name: z.string(),
  state: z.enum(['running', 'completed', 'stopped', 'failed']),
  reason: z.string().nullable(),
  createdAt: z.string().openapi({ format: 'date-time' }),
  finishedAt: z.string().nullable().openapi({ format: 'date-time' }),
  objective: z.object({ metric: z.string(), direction: z.enum(['maximize', 'minimize']) }),
  budget: z.object({ max_trials: z.number(), max_epochs: z.number(), parallelism: z.number() }),
  counts,
};
const paramValue = z.union([z.number(), z.string(), z.boolean()]);

export const StudySummarySchema = z.object({ ...studyHeader, best: z.number().nullable() }).openapi('StudySummary');
export const StudyListSchema = z.object({
  studies: z.array(StudySummarySchema),
  total: z.number().openapi({ description: 'how many studies there are, whatever the page' }),
  offset: z.number(),
});

const diagnosisSchema = z.object({
  verdict: z.enum([
    'healthy',
    'too-low',
    'too-high',
    'dying-units',
    'diverged',
    'static-kernels-but-learning',
    'learning-slowly',
    'no-learning',
    'no-evidence',
  ]),
  summary: z.string(),
  evidence: z.array(z.string()),
  advice: z.string(),
  suggestedLearningRate: z.object({ low: z.number(), high: z.number() }).optional(),
});

/** What the user reads first (studyAnswer in views/answer.ts): the best, the baseline, the margin and why. */
const AnswerSchema = z
  .object({
    best: z
      .object({ trial: z.number(), params: z.record(z.string(), paramValue), value: z.number(), diagnosis: diagnosisSchema })
      .nullable(),
    baseline: z
      .object({
        trial: z.number(),
        params: z.record(z.string(), paramValue),
        value: z.number().nullable(),
        state: z.enum(['queued', 'running', 'completed', 'stopped', 'failed']),
        reason: z.string().nullable(),
        diagnosis: diagnosisSchema,
      })
      .optional(),
    margin: z.number().optional().openapi({ description: 'best − baseline in the objective’s direction: positive when the best beats it' }),
    noise: z
      .number()
      .nullable()
      .optional()
      .openapi({ description: 'epoch-to-epoch noise (sd) of the objective on the baseline and top trials' }),
    noise_min_epochs: z
      .number()
      .optional()
      .openapi({ description: 'with a null noise: the epochs a curve needs before its noise is measured' }),
    near: z
      .boolean()
      .optional()
      .openapi({ description: 'margin within 2× noise, or for an AUC under 0.005: the baseline is as good as the best found' }),
    changes: z.array(z.object({ param: z.string(), from: paramValue.nullable(), to: paramValue.nullable() })),
    verdict: z.string(),
    caveat: z
      .string()
      .optional()
      .openapi({ description: 'why the best is not a config to take as it is: it diverged or, by its own diagnosis, did not learn well' }),
    failures: z.string().optional().openapi({
      description: 'when some trials failed beside the best: how many, and the commonest reason (failed trials are not ranked)',
    }),
  })
  .openapi('Answer');

export const StudySchema = z
  .object({
    ...studyHeader,
    best: z.object({ trial: z.number(), value: z.number(), config: z.record(z.string(), paramValue) }).nullable(),
    answer: AnswerSchema,
    learningRateParam: z.string().nullable().openapi({
      description: "the space's learning-rate parameter (learning_rate, lr, base_lr, …), as the diagnoses read it; null when it has none",
    }),
    spec: z.record(z.string(), z.unknown()),
    waiting: z.string().optional().openapi({
      description:
        'a running study whose trials all wait (queued, none running) on a pool no worker serves: why, and how to start one; absent otherwise, and where the bus cannot tell (the in-process bus)',
    }),
    warnings: z.array(z.string()).optional().openapi({
      description:
        'submit only: what in the spec runs as written but is likely not what was meant (`path: message`), or may keep the study from running (a pool no worker has joined)',
    }),
  })
  .openapi('Study');

export const LeaderboardRowSchema = z
  .object({
    rank: z.number().nullable(),
    number: z.number(),
    state: z.enum(['queued', 'running', 'completed', 'stopped', 'failed']),
    value: z.number().nullable(),
    bestEpoch: z.number().nullable(),
    epochs: z.number(),
    maxEpochs: z.number(),
    params: z.record(z.string(), paramValue),
    reason: z.string().nullable(),
    baseline: z.boolean().openapi({ description: "the spec's baseline trial (the user's own config)" }),
  })
  .openapi('LeaderboardRow');

export const LeaderboardSchema = z
  .object({
    study: z.string(),
    state: z.string(),
    objective: z.object({ metric: z.string(), direction: z.string() }),
    /** Every ranked trial; `rows` is the page asked for. */
    total: z.number(),
    offset: z.number(),
    /** The parameter columns in display order: the spec's space as written, then any other. */
    columns: z.array(z.string()),
    rows: z.array(LeaderboardRowSchema),
    waiting: z.string().optional().openapi({
      description: "a running study's page with queued rows whose pool no worker serves: why they wait (as the study's `waiting`)",
    }),
  })
  .openapi('Leaderboard');

// Decimal digits only: z.coerce read '' and ' ' as 0 (an empty page) and took '0x10' and '1e3'.
const pageParam = (name: string, max: number) => {
  const error = `${name} must be an integer from 0 to ${max}`;
  return z
    .string()
    .regex(/^\d{1,9}$/, { error })
    .transform(Number)
    .pipe(z.number().max(max, { error }))
    .optional()
    .openapi({ param: { name, in: 'query' }, type: 'integer', minimum: 0, maximum: max });
};

/** A page of the leaderboard: `limit` rows from rank `offset` (0-based); without `limit`, every row. */
export const LeaderboardQuery = strictQuery({ limit: pageParam('limit', 100_000), offset: pageParam('offset', 100_000) });

/** A page of the study list, oldest first: `limit` studies from the `offset`-th; without `limit`, every one. */
export const StudyListQuery = strictQuery({ limit: pageParam('limit', 100_000), offset: pageParam('offset', 999_999_999) });

/** A measured number; JSON has no NaN or Infinity, so a diverged run's readings come as null. */
const reading = z.number().nullable().openapi({ description: 'null where the value was NaN or infinite (a diverged run)' });

const layerStats = z.object({
  layer: z.string(),
  trainable: z.boolean(),
  kernelMovement: reading.optional(),
  biasMovement: reading.optional(),
  updateRatio: reading.optional(),
  mean: reading.optional(),
  std: reading.optional(),
  fractionNegative: reading.optional(),
  quantiles: z.array(reading).optional(),
  sparsity: reading.optional(),
  deadFraction: reading.optional(),
});

export const TrialSchema = z
  .object({
    study: z.string(),
    number: z.number(),
    state: z.enum(['queued', 'running', 'completed', 'stopped', 'failed']),
    value: z.number().nullable(),
    reason: z.string().nullable(),
    params: z.record(z.string(), paramValue),
    tags: z.record(z.string(), paramValue),
    worker: z.string().nullable(),
    /** The job delivery the epochs come from (1 = the first); a later one starts the trial over. */
    attempt: z.number().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    notes: z.record(z.string(), z.unknown()),
    /** Where the command runner left its logs (stdout.log, stderr.log) and on which host; null for other runners. */
    logs: z.object({ dir: z.string(), host: z.string().nullable() }).nullable(),
    epochs: z.array(
      z.object({
        epoch: z.number(),
        metrics: z.record(z.string(), reading),
        layers: z.array(layerStats),
        notes: z.record(z.string(), z.unknown()).optional(),
      }),
    ),
    /** What the evidence says about the trial, in words (diagnoseTrial in @sweepd/search). */
    diagnosis: diagnosisSchema.nullable(),
  })
  .openapi('Trial');

export const StopTrialSchema = z.object({
  study: z.string(),
  trial: z.number(),
  /** True while it winds down on its worker; false when it ended at once (it was queued). */
  stopping: z.boolean(),
  state: z.enum(['queued', 'running', 'completed', 'stopped', 'failed']),
});
export const HealthSchema = z.object({ ok: z.boolean(), store: z.string() });

export const BestConfigSchema = z
  .object({
    study: z.string(),
    trial: z.number(),
    objective: z.object({ metric: z.string(), direction: z.string(), value: z.number() }),
    config: z.record(z.string(), paramValue),
    caveat: z.string().optional().openapi({
      description: 'why the config is not one to take as it is (the answer’s caveat); also in the sweepd-caveat header, URI-encoded',
    }),
  })
  .openapi('BestConfig');
