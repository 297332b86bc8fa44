import {
  budgetWarnings,
  checkSpec,
  decodeSpecText,
  type Plugin,
  type PluginRegistry,
  type RunnerCheckContext,
  type SearchSpec,
  type SearchStrategy,
  SpecError,
  type SpecProblem,
  type StoppingRule,
} from '@sweepd/core';
import { letPluginsImportSweepd } from './plugin-imports.ts';
import { allowedPluginFile } from './plugin-paths.ts';

export interface StudyPlugins {
  strategy: SearchStrategy;
  rules: { name: string; rule: StoppingRule }[];
  /** At submit: what the runner warns of in the spec (specWarnings). */
  runnerWarnings: SpecProblem[];
}

/** Where the daemon's checks read paths, and whether its workers see the same files. */
export interface CheckContext extends RunnerCheckContext {
  baseDir: string;
  /** The only directories a spec's plugins may be loaded from; none: no plugins (plugin-paths.ts). */
  pluginDirs?: readonly string[];
  /** The only pools a worker can ever serve (see EngineOptions.servedPools); undefined = any. */
  servedPools?: readonly string[];
}

/**
 * Everything a submission is checked against before anything is stored, in one answer: the spec
 * itself, its plugin modules, the strategy's and each stopping rule's options, and the runner's
 * own check (parameter names and ranges, options, model, dataset). Throws one SpecError listing
 * every problem by path; returns the parsed spec, its built plugins and the warnings of the budget
 * and the runner (what runs as written but is likely not what was meant) otherwise.
 */
export async function validateStudy(
  input: unknown,
  registry: PluginRegistry,
  ctx: CheckContext,
): Promise<{ spec: SearchSpec; plugins: StudyPlugins; warnings: SpecProblem[] }> {
  const decoded = typeof input === 'string' ? decodeSpecText(input) : input;
  const { spec, problems, draft, trainerStandIn, unparsedParams } = checkSpec(decoded);
  // Plugin modules are code: a spec already refused never gets to run its own. Without them its
  // plugin names cannot be told from typos, so such a spec's answer is its own problems.
  if (problems.length > 0 && draft.plugins.length > 0) throw new SpecError(problems);
  const built = await buildPlugins(draft, registry, { ...ctx, unparsedParams }, problems, { trainerStandIn });
  if (!spec || !built || problems.length > 0) throw new SpecError(problems);
  return { spec, plugins: built, warnings: [...budgetWarnings(spec), ...built.runnerWarnings] };
}

/**
 * Loads the spec's plugin modules into a registry of the study's own (so one study's plugins never
 * shadow another's), then builds its strategy and stopping rules. Errors are SpecErrors by path.
 */
export async function instantiate(
  spec: SearchSpec,
  registry: PluginRegistry,
  where: Pick<CheckContext, 'baseDir' | 'pluginDirs'>,
): Promise<StudyPlugins> {
  const problems: SpecProblem[] = [];
  const built = await buildPlugins(
    spec,
    registry,
    { baseDir: where.baseDir, ...(where.pluginDirs ? { pluginDirs: where.pluginDirs } : {}) },
    problems,
    { checkRunner: false },
  );
  if (!built || problems.length > 0) throw new SpecError(problems);
  return built;
}

/** Builds what it can of `spec`'s plugins, adding every problem found to `problems`. */
async function buildPlugins(
  spec: SearchSpec,
  registry: PluginRegistry,
  ctx: CheckContext,
  problems: SpecProblem[],
  { checkRunner = true, trainerStandIn = false }: { checkRunner?: boolean; trainerStandIn?: boolean } = {},
): Promise<StudyPlugins | undefined> {
  const collect = async <T>(make: () => Promise<T>, at: string): Promise<T | undefined> => {
    try {
      return await make();
    } catch (err) {
      if (err instanceof SpecError) problems.push(...err.problems);
      else problems.push({ path: at, message: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  };
  const own = spec.plugins.length > 0 ? registry.fork() : registry;
  if (spec.plugins.length > 0 && ctx.pluginDirs) await letPluginsImportSweepd(ctx.pluginDirs);
  for (const [i, specifier] of spec.plugins.entries())
    await collect(async () => own.load(await allowedPluginFile(specifier, ctx.baseDir, ctx.pluginDirs), ctx.baseDir), `plugins.${i}`);

  // A trainer section that did not parse is a stand-in here (the tfjs runner's defaults): the
  // runner's own checks would judge the spec by a runner it does not name.
  const pools = ctx.servedPools;
  if (checkRunner && !trainerStandIn && pools && !pools.includes(spec.trainer.pool)) {
    problems.push({
      path: 'trainer.pool',
      message: `no worker can take pool '${spec.trainer.pool}': this daemon's workers are its own, on its in-process bus, and serve only ${pools.map((p) => `'${p}'`).join(', ')} (start it with --pool ${spec.trainer.pool}, or with --nats-url for remote workers)`,
    });
  }

  // Runners live on the workers; the daemon knows the built-in ones (and any a spec loads).
  const runners = own.names('runner');
  const runner = own.get('runner', spec.trainer.runner);
  if (!runner && runners.length > 0) {
    problems.push({ path: 'trainer.runner', message: `no runner named '${spec.trainer.runner}' (known: ${runners.join(', ')})` });
  } else if (runner?.checkSpec && checkRunner && !trainerStandIn) {
    const found = await collect(async () => runner.checkSpec?.(spec, ctx) ?? [], 'trainer');
    problems.push(...(found ?? []));
  }
  const runnerWarnings = checkRunner && !trainerStandIn ? runnerWarningsOf(runner, spec) : [];

  const { space, objective, budget } = spec;
  // A budget that did not parse is a stand-in here: plugins are not judged against it.
  const budgetParsed = !problems.some((p) => p.path === 'budget' || p.path.startsWith('budget.'));
  const strategyCtx = {
    space,
    direction: objective.direction,
    metric: objective.metric,
    maxTrials: budget.max_trials,
    maxEpochs: budget.max_epochs,
    // Trial 0 takes a trial of the budget: strategies that plan by maxTrials count it (a grid).
    ...(spec.baseline ? { baseline: spec.baseline } : {}),
  };
  const strategy = await collect(() => own.create('strategy', spec.strategy, strategyCtx, 'strategy'), 'strategy');
  // Checks that came after a study was stored must not stop it resuming: asked at submit only.
  const strategyPlugin = own.get('strategy', spec.strategy.name);
  if (strategy && checkRunner && budgetParsed && strategyPlugin?.checkOptions) {
    const why = strategyPlugin.checkOptions(strategyPlugin.parseOptions(spec.strategy.options), strategyCtx);
    if (why) problems.push({ path: 'strategy', message: why });
  }
  const rules: StudyPlugins['rules'] = [];
  const stoppingCtx = {
    direction: objective.direction,
    metric: objective.metric,
    maxEpochs: budget.max_epochs,
    maxTrials: budget.max_trials,
  };
  for (const [i, ref] of spec.stopping.entries()) {
    const rule = await collect(() => own.create('stopping', ref, stoppingCtx, `stopping.${i}`), `stopping.${i}`);
    if (rule) rules.push({ name: ref.name, rule });
    const plugin = own.get('stopping', ref.name);
    if (rule && checkRunner && budgetParsed && plugin?.checkOptions) {
      const why = plugin.checkOptions(plugin.parseOptions(ref.options), stoppingCtx);
      if (why) problems.push({ path: `stopping.${i}`, message: why });
    }
  }
  return strategy && rules.length === spec.stopping.length ? { strategy, rules, runnerWarnings } : undefined;
}

/** The runner's warnings; one that fails to give them gives none (a warning is not a reason to refuse). */
function runnerWarningsOf(runner: Plugin<'runner'> | undefined, spec: SearchSpec): SpecProblem[] {
  try {
    return [...(runner?.specWarnings?.(spec) ?? [])];
  } catch {
    return [];
  }
}
