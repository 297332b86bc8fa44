import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Plugin,
  Rng,
  type Runner,
  type RunnerCheckContext,
  type RunnerContext,
  type SearchSpec,
  type SpecProblem,
  type TrialJob,
  type TrialOutcome,
} from '@sweepd/core';
import { z } from 'zod';
import { builtinCurves, type CurveFn } from './curves.ts';
import { lrAucValueProblems } from './lr-auc-check.ts';
import { optionProblems } from '../option-problems.ts';
import { unreportedStoppingMetrics } from '../stopping-metrics.ts';

/**
 * The `simulate` runner: a BENCHMARK AID that replays synthetic learning curves instead of
 * training, so that strategies, stopping rules and the whole daemon can be measured in seconds.
 * It trains nothing and its numbers say nothing about any model.
 *
 * `job.trainer.options`:
 * - `curve`: a built-in curve name (`lr_auc`: the learning-curve variant of the anchor's lr_auc
 *   problem) or a path (absolute, or relative to the worker's working directory) to a module
 *   whose default export is `(params, epoch, rng) => number`.
 * - `seed` (default 0): mixed with the study id and trial number into the trial's noise seed, so
 *   a trial replays the same curve wherever and whenever it runs.
 * - `epoch_delay_ms` (default 0): wait this long per epoch, to look like a slow trainer.
 *
 * Each epoch it reports `job.objective.metric` and a synthetic `train_loss` (1 − value when
 * maximizing, the value itself when minimizing), up to job.maxEpochs; it checks the abort
 * signal between epochs and returns `stopped` with the signal's reason.
 */
export const simulateJobOptionsSchema = z.strictObject({
  curve: z.string().min(1, 'must name a built-in curve (lr_auc) or a module path'),
  seed: z.number().int().default(0),
  epoch_delay_ms: z.number().min(0).max(3_600_000).default(0),
});
export type SimulateJobOptions = z.infer<typeof simulateJobOptionsSchema>;

export function createSimulateRunner(): Runner {
  const loaded = new Map<string, Promise<CurveFn>>();
  const curveFor = (name: string): Promise<CurveFn> => {
    const builtin = builtinCurves[name];
    if (builtin) return Promise.resolve(builtin);
    let found = loaded.get(name);
    if (!found) {
      found = loadCurveModule(name);
      loaded.set(name, found);
      found.catch(() => loaded.delete(name));
    }
    return found;
  };
  return {
    async run(job: TrialJob, ctx: RunnerContext): Promise<TrialOutcome> {
      const parsed = simulateJobOptionsSchema.safeParse(job.trainer.options ?? {});
      if (!parsed.success) {
        const problems = optionProblems(simulateJobOptionsSchema, parsed.error, job.trainer.options ?? {}).map(
          (p) => `${p.path}: ${p.message}`,
        );
        return { state: 'failed', reason: `simulate: ${problems.join('; ')}` };
      }
      const options = parsed.data;
      let curve: CurveFn;
      try {
        curve = await curveFor(options.curve);
      } catch (err) {
        return { state: 'failed', reason: `simulate: trainer.options.curve: ${message(err)}` };
      }
      const rng = new Rng(`simulate:${options.seed}:${job.studyId}:${job.number}`);
      const maximize = job.objective.direction === 'maximize';
      for (let epoch = 1; epoch <= job.maxEpochs; epoch++) {
        if (ctx.signal.aborted) return stopped(ctx.signal);
        if (options.epoch_delay_ms > 0 && !(await sleep(options.epoch_delay_ms, ctx.signal))) return stopped(ctx.signal);
        let value: number;
        try {
          value = curve(job.params, epoch, rng);
        } catch (err) {
          return { state: 'failed', reason: `simulate: curve '${options.curve}' failed at epoch ${epoch}: ${message(err)}` };
        }
        if (typeof value !== 'number') {
          return {
            state: 'failed',
            reason: `simulate: curve '${options.curve}' returned ${typeof value} at epoch ${epoch}; expected a number`,
          };
        }
        await ctx.report({
          epoch,
          metrics: { [job.objective.metric]: value, train_loss: maximize ? 1 - value : value },
          layers: [],
          notes: { simulated: true, curve: options.curve },
        });
      }
      return { state: 'completed' };
    },
  };
}

/** A curve that is neither built in nor a module path cannot be loaded anywhere. */
function isModulePath(specifier: string): boolean {
  return /[/\\]|\.[cm]?[jt]s$/.test(specifier);
}

/**
 * At submit: a divergence rule watching a metric this runner never reports, a rule that reads
 * layer statistics it never reports (layerRuleProblems), the options, and a curve that is built in
 * or a module path (one that exists, where the workers see the daemon's files), so a typo is a 400
 * rather than a study of failed trials.
 */
export function checkSimulateSpec(spec: SearchSpec, ctx: RunnerCheckContext = {}): SpecProblem[] {
  // It reports the objective and train_loss, nothing else.
  const { metric } = spec.objective;
  const watched = unreportedStoppingMetrics(
    spec,
    (name) => name === metric || name === 'train_loss',
    (name) => `the simulate runner never reports '${name}': it reports ${metric} (the objective) and train_loss`,
  );
  return [...watched, ...layerRuleProblems(spec), ...curveProblems(spec, ctx)];
}

/**
 * The builtin rules that act only on what a trainer says of its layers, and what each reads in
 * its stead when no layer reports figures: the runner's own flag in `notes.diagnostics`.
 */
const LAYER_RULES: Readonly<Record<string, { reads: string; flag: string }>> = {
  'weight-stall': { reads: 'updateRatio', flag: 'stalled' },
  'dead-units': { reads: 'deadFraction', flag: 'dying' },
};

/**
 * Rules that never act on this runner, by path: each epoch it reports `layers: []` and notes
 * without `diagnostics`, so weight-stall and dead-units have neither figures nor flag to read.
 */
function layerRuleProblems(spec: SearchSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  spec.stopping.forEach((rule, i) => {
    const needs = Object.hasOwn(LAYER_RULES, rule.name) ? LAYER_RULES[rule.name] : undefined;
    if (!needs) return;
    problems.push({
      path: `stopping.${i}`,
      message:
        `the simulate runner reports no layer statistics: ${rule.name} never acts on it ` +
        `(it reads each layer's ${needs.reads}, else notes.diagnostics.${needs.flag}, and this runner reports neither); remove the rule`,
    });
  });
  return problems;
}

/** The options, and what the curve needs of the spec. */
function curveProblems(spec: SearchSpec, ctx: RunnerCheckContext): SpecProblem[] {
  const parsed = simulateJobOptionsSchema.safeParse(spec.trainer.options ?? {});
  if (!parsed.success) return optionProblems(simulateJobOptionsSchema, parsed.error, spec.trainer.options ?? {});
  const { curve } = parsed.data;
  if (curve === 'lr_auc') {
    // What lrAucParams reads; without it every trial would fail the same way, one by one.
    const names = new Set([...Object.keys(spec.space), ...Object.keys(spec.fixed ?? {}), ...(ctx.unparsedParams ?? [])]);
    const missing = [
      ...(names.has('learning_rate') || names.has('lr') ? [] : ['learning_rate (or lr)']),
      ...(names.has('optimizer') ? [] : ['optimizer']),
    ];
    return missing.length === 0
      ? lrAucValueProblems(spec)
      : [{ path: 'space', message: `the simulate runner's lr_auc curve needs ${missing.join(' and ')}, in space or fixed` }];
  }
  if (builtinCurves[curve]) return [];
  if (!isModulePath(curve))
    return [
      {
        path: 'trainer.options.curve',
        message: `'${curve}' is neither a built-in curve (${Object.keys(builtinCurves).join(', ')}) nor a module path`,
      },
    ];
  const file = path.resolve(ctx.baseDir ?? process.cwd(), curve);
  if (ctx.workersShareFiles !== false && !existsSync(file)) return [{ path: 'trainer.options.curve', message: `no module at ${file}` }];
  return [];
}

async function loadCurveModule(specifier: string): Promise<CurveFn> {
  if (!isModulePath(specifier)) {
    throw new Error(`'${specifier}' is neither a built-in curve (${Object.keys(builtinCurves).join(', ')}) nor a module path`);
  }
  const url = pathToFileURL(path.resolve(specifier)).href;
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (err) {
    throw new Error(`module '${specifier}' could not be imported: ${message(err)}`);
  }
  if (typeof mod.default !== 'function') throw new Error(`module '${specifier}' has no default export (params, epoch, rng) => number`);
  return mod.default as CurveFn;
}

function stopped(signal: AbortSignal): TrialOutcome {
  const reason = signal.reason;
  return { state: 'stopped', reason: typeof reason === 'string' ? reason : reason instanceof Error ? reason.message : 'stopped' };
}

/** Resolves true after `ms`, false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const simulateRunnerPlugin: Plugin<'runner', Record<string, never>> = {
  kind: 'runner',
  name: 'simulate',
  description: 'Benchmark aid: replays synthetic learning curves (built-in lr_auc or a module) instead of training.',
  parseOptions: (raw) => z.strictObject({}).parse(raw ?? {}) as Record<string, never>,
  create: () => createSimulateRunner(),
  checkSpec: checkSimulateSpec,
};

export { builtinCurves, type CurveFn, lrAucAtEpoch, lrAucCurve, lrAucParams, lrAucTrue, tauOf } from './curves.ts';
export { noopRunnerPlugin } from './noop.ts';
