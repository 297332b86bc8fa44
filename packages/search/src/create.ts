import {
  type Direction,
  issueProblem,
  type PluginRegistry,
  paramSchema,
  registry,
  type SearchStrategy,
  type Space,
  SpecError,
  type SpecProblem,
  type StoppingRule,
} from '@sweepd/core';
import { z } from 'zod';

/** A space as a caller may write it (defaults such as an int's step left out), checked like a spec's. */
export type SpaceInput = Readonly<Record<string, z.input<typeof paramSchema>>>;

/**
 * Drives a strategy without the daemon (benchmarks, notebooks, tests). The space is validated and
 * normalised with the spec's own schema (an int without `step` gets step 1), so a strategy never
 * sees a parameter it cannot sample; problems throw a SpecError by path.
 * `maxTrials`/`maxEpochs` default to generous values for strategies that plan ahead.
 */
export async function createStrategy(
  ref: { name: string; options?: unknown },
  ctx: { space: SpaceInput; direction: Direction; metric?: string; maxTrials?: number; maxEpochs?: number },
  from: PluginRegistry = registry,
): Promise<SearchStrategy> {
  const context = strategyContext.safeParse(ctx);
  const { space, problems } = parseSpace(ctx.space);
  if (!context.success) problems.unshift(...context.error.issues.map(toProblem));
  if (!context.success || problems.length > 0) throw new SpecError(problems);
  const c = context.data;
  return from.create(
    'strategy',
    ref,
    { space, direction: c.direction, metric: c.metric, maxTrials: c.maxTrials, maxEpochs: c.maxEpochs },
    'strategy',
  );
}

export async function createStoppingRule(
  ref: { name: string; options?: unknown },
  ctx: { direction: Direction; metric: string; maxEpochs: number },
  from: PluginRegistry = registry,
): Promise<StoppingRule> {
  const context = stoppingContext.safeParse(ctx);
  if (!context.success) throw new SpecError(context.error.issues.map(toProblem));
  return from.create('stopping', ref, context.data, 'stopping');
}

const direction = z.enum(['maximize', 'minimize'], { error: 'must be maximize or minimize' });
const count = (max: number) => z.number().int('must be an integer').min(1, 'must be at least 1').max(max);
const strategyContext = z.object({
  direction,
  metric: z.string().min(1).default('objective'),
  maxTrials: count(100_000).default(100_000),
  maxEpochs: count(100_000).default(100),
});
const stoppingContext = z.object({ direction, metric: z.string().min(1, 'must name the objective metric'), maxEpochs: count(100_000) });

function parseSpace(input: SpaceInput): { space: Space; problems: SpecProblem[] } {
  const problems: SpecProblem[] = [];
  const space: Record<string, z.output<typeof paramSchema>> = {};
  if (typeof input !== 'object' || input === null)
    return { space, problems: [{ path: 'space', message: 'must be an object of parameters' }] };
  for (const [name, raw] of Object.entries(input)) {
    const parsed = paramSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => issueProblem(i, ['space', name], raw)));
      continue;
    }
    const p = parsed.data;
    if (p.type !== 'categorical' && p.low > p.high)
      problems.push({ path: `space.${name}.low`, message: `must be <= high (${p.low} > ${p.high})` });
    if (p.type !== 'categorical' && p.log && p.low <= 0)
      problems.push({ path: `space.${name}.low`, message: 'must be > 0 on a log scale' });
    space[name] = p;
  }
  if (Object.keys(space).length === 0 && problems.length === 0)
    problems.push({ path: 'space', message: 'must define at least one parameter' });
  return { space, problems };
}

function toProblem(issue: { path: readonly PropertyKey[]; message: string }): SpecProblem {
  return { path: issue.path.map(String).join('.'), message: issue.message };
}
