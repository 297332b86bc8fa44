import { type PluginRegistry, registry, type SearchStrategy, type Space, type StoppingRule, type Direction } from '@sweepd/core';

/**
 * Drives a strategy without the daemon (benchmarks, notebooks, tests).
 * `maxTrials`/`maxEpochs` default to generous values for strategies that plan ahead.
 */
export async function createStrategy(
  ref: { name: string; options?: unknown },
  ctx: { space: Space; direction: Direction; metric?: string; maxTrials?: number; maxEpochs?: number },
  from: PluginRegistry = registry,
): Promise<SearchStrategy> {
  return from.create(
    'strategy',
    ref,
    {
      space: ctx.space,
      direction: ctx.direction,
      metric: ctx.metric ?? 'objective',
      maxTrials: ctx.maxTrials ?? 100_000,
      maxEpochs: ctx.maxEpochs ?? 100,
    },
    'strategy',
  );
}

export async function createStoppingRule(
  ref: { name: string; options?: unknown },
  ctx: { direction: Direction; metric: string; maxEpochs: number },
  from: PluginRegistry = registry,
): Promise<StoppingRule> {
  return from.create('stopping', ref, ctx, 'stopping');
}
