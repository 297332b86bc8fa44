import {
  type ParamSpec,
  type ParamValue,
  type Params,
  type Plugin,
  type Rng,
  type Space,
  isActive,
  orderedNames,
  sampleSpace,
} from '@sweepd/core';
import { z } from 'zod';
import { type NumericAxis, axisUnit, axisValue, numericAxis, numericValue } from './axis.ts';
import { type Observation, askRng, historyKeys, isConstant, seedOption, sortHistory, spaceKey, startupBudgetProblem } from './common.ts';
import { spaceFillingDesign } from './design.ts';
import { GaussianProcess, fitHyper } from './gp-model.ts';
import { logH } from './math.ts';

/** Past this many model inputs (after one-hot), a GP on a few hundred trials learns little: use tpe. */
export const GP_MAX_DIMENSIONS = 20;
/** Queued/running trials the kriging believer takes into account (the newest ones). */
const MAX_BELIEVED_PENDING = 64;

const gpOptions = z.strictObject({
  seed: seedOption,
  n_startup_trials: z
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(1000)
    .default(5)
    .describe('trials from a Latin-hypercube design before the GP is used'),
  n_candidates: z
    .number()
    .int('must be an integer')
    .min(16, 'must be at least 16')
    .max(100_000)
    .default(2000)
    .describe('random configurations scored by expected improvement per suggestion, before local refinement'),
  n_local_starts: z.number().int().min(0).max(100).default(5).describe('best candidates refined by coordinate search'),
  xi: z
    .number()
    .min(0)
    .max(1)
    .default(1e-3)
    .describe('exploration margin of expected improvement, in standard deviations of the objective'),
  max_observations: z
    .number()
    .int()
    .min(20)
    .max(2000)
    .default(500)
    .describe('past this many finished trials the GP is conditioned on the best half plus an even spread of the rest'),
  max_fit_observations: z
    .number()
    .int()
    .min(10)
    .max(2000)
    .default(150)
    .describe('trials used to fit the kernel hyperparameters (same thinning)'),
  constant_liar: z
    .boolean()
    .default(true)
    .describe('kriging believer: queued/running trials enter the GP at its predicted mean, so parallel asks spread out'),
});
export type GpOptions = z.output<typeof gpOptions>;

type Gene =
  | { kind: 'numeric'; name: string; param: ParamSpec; axis: NumericAxis; column: number }
  | { kind: 'categorical'; name: string; param: ParamSpec; choices: readonly ParamValue[]; column: number };

/** Model inputs: one column per numeric parameter (unit scale), one per choice of a categorical (one-hot). */
export function gpDimensions(space: Space): number {
  let d = 0;
  for (const p of Object.values(space)) {
    if (isConstant(p)) continue;
    d += p.type === 'categorical' ? p.choices.length : 1;
  }
  return d;
}

/**
 * Gaussian-process Bayesian optimisation: Matérn 5/2 ARD kernel on the unit cube (log scales
 * where `log`, categoricals one-hot), standardised losses, hyperparameters by maximum a posteriori
 * with L-BFGS, log expected improvement maximised over random candidates plus coordinate search.
 */
export const gpStrategy: Plugin<'strategy', GpOptions> = {
  kind: 'strategy',
  name: 'gp',
  description: 'Gaussian-process Bayesian optimisation (Matérn 5/2, log-EI), for small spaces and budgets',
  parseOptions: (raw) => gpOptions.parse(raw ?? {}),
  checkOptions: (options, ctx) => startupBudgetProblem('gp', options.n_startup_trials, ctx.maxTrials),
  create(options, ctx) {
    const space = ctx.space;
    const d = gpDimensions(space);
    if (d > GP_MAX_DIMENSIONS) {
      throw new Error(
        `gp: the space has ${d} model dimensions after one-hot encoding the categoricals (at most ${GP_MAX_DIMENSIONS}); use tpe for a space this large`,
      );
    }
    const names = orderedNames(space);
    const genes: Gene[] = [];
    let column = 0;
    for (const name of names) {
      const param = space[name] as ParamSpec;
      if (param.type === 'categorical') {
        genes.push({ kind: 'categorical', name, param, choices: param.choices, column });
        if (!isConstant(param)) column += param.choices.length;
      } else {
        genes.push({ kind: 'numeric', name, param, axis: numericAxis(param), column });
        if (!isConstant(param)) column += 1;
      }
    }

    /** Inputs of a configuration; inactive numerics sit at 0.5 and inactive one-hots at 0. */
    const encodeInto = (params: Params, out: Float64Array, row: number) => {
      for (const g of genes) {
        if (isConstant(g.param)) continue;
        const v = params[g.name];
        if (g.kind === 'numeric') {
          const x = numericValue(v);
          out[row * d + g.column] = x === undefined ? 0.5 : axisUnit(g.axis, x);
        } else {
          for (let c = 0; c < g.choices.length; c++) out[row * d + g.column + c] = v !== undefined && g.choices[c] === v ? 1 : 0;
        }
      }
    };
    /** A configuration's coordinates for local search: unit value or choice index per parameter. */
    const toGenes = (params: Params) =>
      genes.map((g) => {
        const v = params[g.name];
        if (g.kind === 'categorical') return Math.max(0, v === undefined ? 0 : g.choices.indexOf(v));
        const x = numericValue(v);
        return x === undefined ? 0.5 : axisUnit(g.axis, x);
      });
    const fromGenes = (values: number[]): Params => {
      const params: Record<string, ParamValue> = {};
      genes.forEach((g, i) => {
        if (!isActive(g.param, params)) return;
        params[g.name] = g.kind === 'categorical' ? (g.choices[values[i] as number] as ParamValue) : axisValue(g.axis, values[i] as number);
      });
      return params;
    };

    return {
      async ask(history, n) {
        const rng = askRng(options.seed, history);
        const sorted = sortHistory(history, ctx.direction);
        const taken = historyKeys(space, history);
        if (sorted.observed.length < options.n_startup_trials || d === 0) {
          return spaceFillingDesign(space, options.seed, options.n_startup_trials, history.length, n, rng, taken);
        }
        // Failed trials count as the worst loss seen: the region is bad, but not infinitely so.
        let worst = Number.NEGATIVE_INFINITY;
        for (const o of sorted.observed) worst = Math.max(worst, o.loss);
        const data: Observation[] = [...sorted.observed, ...sorted.failed.map((params, i) => ({ params, loss: worst, number: -1 - i }))];
        const conditioned = thin(data, options.max_observations);
        const fitted = thin(conditioned, options.max_fit_observations);
        // Standardise on the conditioned data.
        let mean = 0;
        for (const o of conditioned) mean += o.loss;
        mean /= conditioned.length;
        let sd = 0;
        for (const o of conditioned) sd += (o.loss - mean) ** 2;
        sd = Math.sqrt(sd / conditioned.length) || 1;
        const standard = (loss: number) => (loss - mean) / sd;

        const fx = new Float64Array(fitted.length * d);
        const fy = new Float64Array(fitted.length);
        fitted.forEach((o, i) => {
          encodeInto(o.params, fx, i);
          fy[i] = standard(o.loss);
        });
        const hyper = fitHyper(fx, fy, fitted.length, d);

        // Only the newest pending trials are believed: thousands would make every ask cubic in them.
        const pending = options.constant_liar ? sorted.pending.slice(-MAX_BELIEVED_PENDING) : [];
        const out: Params[] = [];
        let best = Number.POSITIVE_INFINITY;
        for (const o of sorted.observed) best = Math.min(best, standard(o.loss));
        for (let b = 0; b < n; b++) {
          const gp = believerGp(conditioned, pending, standard, hyper);
          let params = maximiseEi(gp, best, rng);
          for (let attempt = 0; attempt < 8 && taken.has(spaceKey(names, params)); attempt++) params = sampleSpace(space, rng);
          taken.add(spaceKey(names, params));
          out.push(params);
          if (options.constant_liar) {
            pending.push(params);
            if (pending.length > MAX_BELIEVED_PENDING) pending.shift();
          }
        }
        return out;
      },
    };

    /** The GP on the data, plus pending points believed to score the GP's own prediction there. */
    function believerGp(data: Observation[], pending: Params[], standard: (loss: number) => number, hyper: ReturnType<typeof fitHyper>) {
      const m = data.length;
      const x = new Float64Array((m + pending.length) * d);
      const y = new Float64Array(m + pending.length);
      data.forEach((o, i) => {
        encodeInto(o.params, x, i);
        y[i] = standard(o.loss);
      });
      if (pending.length === 0) return new GaussianProcess(x, y, m, d, hyper);
      const base = new GaussianProcess(x.subarray(0, m * d), y.subarray(0, m), m, d, hyper);
      pending.forEach((p, i) => {
        encodeInto(p, x, m + i);
        y[m + i] = base.predict(x, m + i).mean;
      });
      return new GaussianProcess(x, y, m + pending.length, d, hyper);
    }

    function maximiseEi(gp: GaussianProcess, best: number, rng: Rng): Params {
      const buf = new Float64Array(d);
      const score = (params: Params) => {
        encodeInto(params, buf, 0);
        const { mean, variance } = gp.predict(buf, 0);
        const s = Math.sqrt(variance);
        return Math.log(s) + logH((best - mean - options.xi) / s);
      };
      const scored: Array<{ params: Params; value: number }> = [];
      for (let i = 0; i < options.n_candidates; i++) {
        const params = sampleSpace(space, rng);
        scored.push({ params, value: score(params) });
      }
      scored.sort((a, b) => b.value - a.value);
      let winner = scored[0] as { params: Params; value: number };
      for (const start of scored.slice(0, options.n_local_starts)) {
        const refined = coordinateSearch(start.params, start.value, score);
        if (refined.value > winner.value) winner = refined;
      }
      return winner.params;
    }

    /** Best-improvement coordinate search: ±step on each numeric, every other choice of each categorical. */
    function coordinateSearch(start: Params, startValue: number, score: (p: Params) => number) {
      let values = toGenes(start);
      let current = { params: start, value: startValue };
      let step = 0.05;
      for (let iter = 0; iter < 40 && step > 1e-4; iter++) {
        let bestMove: { params: Params; value: number; values: number[] } | undefined;
        genes.forEach((g, i) => {
          if (isConstant(g.param) || !isActive(g.param, current.params)) return;
          const tries = g.kind === 'numeric' ? [(values[i] as number) - step, (values[i] as number) + step] : g.choices.map((_, c) => c);
          for (const t of tries) {
            if (g.kind === 'numeric' && (t < 0 || t > 1)) continue;
            if (g.kind === 'categorical' && t === values[i]) continue;
            const next = values.slice();
            next[i] = t;
            const params = fromGenes(next);
            const value = score(params);
            if (value > (bestMove?.value ?? current.value)) bestMove = { params, value, values: next };
          }
        });
        if (bestMove) {
          current = { params: bestMove.params, value: bestMove.value };
          values = bestMove.values;
          step *= 1.5;
        } else step /= 2;
      }
      return current;
    }
  },
};

/**
 * At most `limit` observations: the best half by loss and an even spread (in trial order) of
 * the rest. Deterministic, so asking twice gives the same model.
 */
export function thin(data: Observation[], limit: number): Observation[] {
  if (data.length <= limit) return data;
  const byLoss = data.map((_, i) => i).sort((a, b) => (data[a]?.loss as number) - (data[b]?.loss as number) || a - b);
  const keep = new Set(byLoss.slice(0, Math.ceil(limit / 2)));
  const rest = data.map((_, i) => i).filter((i) => !keep.has(i));
  const want = limit - keep.size;
  for (let k = 0; k < want; k++) keep.add(rest[Math.floor((k * rest.length) / want)] as number);
  return [...keep].sort((a, b) => a - b).map((i) => data[i] as Observation);
}
