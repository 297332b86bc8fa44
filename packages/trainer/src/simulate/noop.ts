import type { Plugin, Runner, RunnerContext, SearchSpec, SpecProblem, TrialJob, TrialOutcome } from '@sweepd/core';
import { z } from 'zod';
import { optionProblems } from '../option-problems.ts';
import { unreportedStoppingMetrics } from '../stopping-metrics.ts';

/**
 * The `noop` runner: a BENCHMARK AID for the bus and store throughput. It reports `epochs`
 * epochs (default job.maxEpochs) at once, each with the objective metric at a constant `value`
 * (default 0.5) and no layers, checking the abort signal between epochs. It trains nothing.
 */
export const noopJobOptionsSchema = z.strictObject({
  value: z.number().default(0.5),
  /** At least 1: a trial that reports no epoch has no value, and every one would fail. */
  epochs: z.number().int().min(1).optional(),
});

export function createNoopRunner(): Runner {
  return {
    async run(job: TrialJob, ctx: RunnerContext): Promise<TrialOutcome> {
      const parsed = noopJobOptionsSchema.safeParse(job.trainer.options ?? {});
      if (!parsed.success) {
        const problems = optionProblems(noopJobOptionsSchema, parsed.error, job.trainer.options ?? {}).map(
          (p) => `${p.path}: ${p.message}`,
        );
        return { state: 'failed', reason: `noop: ${problems.join('; ')}` };
      }
      const epochs = Math.min(parsed.data.epochs ?? job.maxEpochs, job.maxEpochs);
      for (let epoch = 1; epoch <= epochs; epoch++) {
        if (ctx.signal.aborted) {
          const reason = ctx.signal.reason;
          return { state: 'stopped', reason: typeof reason === 'string' ? reason : 'stopped' };
        }
        await ctx.report({ epoch, metrics: { [job.objective.metric]: parsed.data.value }, layers: [] });
      }
      return { state: 'completed' };
    },
  };
}

export const noopRunnerPlugin: Plugin<'runner', Record<string, never>> = {
  kind: 'runner',
  name: 'noop',
  description: 'Benchmark aid: instantly reports N epochs with a constant metric (bus/store throughput).',
  parseOptions: (raw) => z.strictObject({}).parse(raw ?? {}) as Record<string, never>,
  create: () => createNoopRunner(),
  checkSpec: checkNoopSpec,
};

/** At submit: the options, by path under trainer.options, and stopping rules that watch a metric it never reports. */
export function checkNoopSpec(spec: SearchSpec): SpecProblem[] {
  const { metric } = spec.objective;
  const watched = unreportedStoppingMetrics(
    spec,
    (name) => name === metric,
    (name) => `the noop runner never reports '${name}': it reports ${metric} (the objective) only`,
  );
  const parsed = noopJobOptionsSchema.safeParse(spec.trainer.options ?? {});
  return [...watched, ...(parsed.success ? [] : optionProblems(noopJobOptionsSchema, parsed.error, spec.trainer.options ?? {}))];
}
