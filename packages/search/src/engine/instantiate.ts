import { type PluginRegistry, type SearchSpec, type SearchStrategy, SpecError, type StoppingRule } from '@sweepd/core';

export interface StudyPlugins {
  strategy: SearchStrategy;
  rules: { name: string; rule: StoppingRule }[];
}

/**
 * Loads the spec's plugin modules into a registry of the study's own (so one study's plugins never
 * shadow another's), then builds its strategy and stopping rules. Errors are SpecErrors by path.
 */
export async function instantiate(spec: SearchSpec, registry: PluginRegistry, baseDir: string): Promise<StudyPlugins> {
  const own = spec.plugins.length > 0 ? registry.fork() : registry;
  for (const specifier of spec.plugins) await own.load(specifier, baseDir);
  const runners = own.names('runner');
  // Runners live on the workers; the daemon knows the built-in ones and can catch a typo early.
  if (runners.length > 0 && !runners.includes(spec.trainer.runner)) {
    throw new SpecError([{ path: 'trainer.runner', message: `no runner named '${spec.trainer.runner}' (known: ${runners.join(', ')})` }]);
  }
  const { space, objective, budget } = spec;
  const strategy = await own.create(
    'strategy',
    spec.strategy,
    { space, direction: objective.direction, metric: objective.metric, maxTrials: budget.max_trials, maxEpochs: budget.max_epochs },
    'strategy',
  );
  const rules = [];
  for (const [i, ref] of spec.stopping.entries()) {
    const rule = await own.create(
      'stopping',
      ref,
      { direction: objective.direction, metric: objective.metric, maxEpochs: budget.max_epochs },
      `stopping.${i}`,
    );
    rules.push({ name: ref.name, rule });
  }
  return { strategy, rules };
}
