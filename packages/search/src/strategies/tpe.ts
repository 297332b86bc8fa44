import { type Direction, type ParamValue, type Params, type Plugin, type Rng, type TrialView, isActive, sampleSpace } from '@sweepd/core';
import { askRng, historyKeys, spaceKey, startupBudgetProblem } from './common.ts';
import { spaceFillingDesign } from './design.ts';
import { sampleIndependent } from './tpe-independent.ts';
import { sampleJoint } from './tpe-joint.ts';
import { type Dim, type Rows, type TpeModel, TpeHistory, buildModel, encodeInto, splitRows } from './tpe-model.ts';
import { type TpeOptions, tpeOptions } from './tpe-options.ts';

export type { TpeOptions } from './tpe-options.ts';

/**
 * Tree-structured Parzen Estimator after Optuna 3's TPESampler: n_startup_trials first, then each
 * suggestion draws n_ei_candidates from the density l(x) of the best gamma-fraction of trials and
 * keeps the one maximising l(x)/g(x), g the density of the rest. Same gamma, weights, prior,
 * bandwidths and magic clip as Optuna; where sweepd differs (each an option, see tpeOptions):
 * the start-up trials are a Latin hypercube rather than independent draws, kernels are joint
 * (multivariate) by default, and the bad trials' kernels are scored by peak (kernel_scoring).
 * Failed trials, and with constant_liar queued/running ones, always count among the bad.
 */
export const tpeStrategy: Plugin<'strategy', TpeOptions> = {
  kind: 'strategy',
  name: 'tpe',
  description: 'Tree-structured Parzen Estimator (Optuna-style), with constant liar for parallel trials',
  parseOptions: (raw) => tpeOptions.parse(raw ?? {}),
  checkOptions: (options, ctx) => startupBudgetProblem('tpe', options.n_startup_trials, ctx.maxTrials),
  create(options, ctx) {
    const model = buildModel(ctx.space, options);
    const read = new TpeHistory();
    return {
      async ask(history, n) {
        return ask(model, read, ctx.direction, history, n);
      },
    };
  },
};

/** Start-up design until n_startup_trials are observed, then n suggestions from the model (constant liar between them). */
function ask(model: TpeModel, read: TpeHistory, direction: Direction, history: readonly TrialView[], n: number): Params[] {
  const { options, space, names } = model;
  const rng = askRng(options.seed, history);
  const { observed, losses, rows, failed, pending } = read.read(model, history, direction);
  const startup = observed < options.n_startup_trials;
  // The start-up design is fixed by the seed, so it can repeat a point even among floats: keyed too.
  const taken = model.repeatsPossible || startup ? historyKeys(space, history) : new Set<string>();
  if (startup) return spaceFillingDesign(space, options.seed, options.n_startup_trials, history.length, n, rng, taken);
  // Rows: observed trials first (trial order), then failed and pending ones (always "bad").
  for (const p of failed) encodeInto(model, rows, p);
  if (options.constant_liar) for (const p of pending) encodeInto(model, rows, p);
  const out: Params[] = [];
  for (let b = 0; b < n; b++) {
    let params = suggest(model, rows, losses, rng);
    // A repeat (a discrete space running dry, or the same argmax twice) wastes a trial: redraw at random.
    for (let attempt = 0; attempt < 8 && taken.has(spaceKey(names, params)); attempt++) params = sampleSpace(space, rng);
    taken.add(spaceKey(names, params));
    out.push(params);
    if (options.constant_liar) encodeInto(model, rows, params);
  }
  return out;
}

/** Splits the rows into good and bad, fits l and g, and picks one configuration: the joint group first, then the rest one by one. */
function suggest(model: TpeModel, rows: Rows, losses: Float64Array, rng: Rng): Params {
  // Every typed array of the previous suggestion is dead by now: its choice was returned as values.
  model.arena.reset();
  const split = splitRows(model.options, rows, losses, model.arena);
  const chosen: Record<string, ParamValue> = {};
  if (model.jointDims.length > 0) sampleJoint(model, rows, split, rng, chosen);
  for (let j = 0; j < model.dims.length; j++) {
    const d = model.dims[j] as Dim;
    if (model.joint.has(d.name) || !isActive(d.param, chosen)) continue;
    chosen[d.name] = sampleIndependent(model, rows, j, split, rng);
  }
  return chosen;
}
