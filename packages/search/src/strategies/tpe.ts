import { type ParamSpec, type ParamValue, type Params, type Plugin, type Rng, isActive, orderedNames, sampleSpace } from '@sweepd/core';
import { z } from 'zod';
import { type NumericAxis, axisCell, axisUnit, axisValue, numericAxis, numericValue } from './axis.ts';
import { askRng, historyKeys, isConstant, seedOption, sortHistory, spaceKey } from './common.ts';
import { spaceFillingDesign } from './design.ts';
import { CategoricalParzen, NumericParzen, mixtureWeights } from './tpe-parzen.ts';

const tpeOptions = z.strictObject({
  seed: seedOption,
  n_startup_trials: z
    .number()
    .int('must be an integer')
    .min(0, 'must be >= 0')
    .max(10_000)
    .default(10)
    .describe('trials drawn before the model is used (a stratified random design): fewer exploit sooner, more explore more'),
  n_ei_candidates: z
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(10_000)
    .default(24)
    .describe('candidates drawn from the good-trial density per suggestion; more is greedier and slower'),
  gamma: z
    .number()
    .positive('must be > 0')
    .max(1, 'must be at most 1')
    .default(0.1)
    .describe('fraction of trials counted as good: n_good = min(ceil(gamma·n), gamma_max)'),
  gamma_max: z.number().int('must be an integer').min(1, 'must be at least 1').default(25).describe('cap on the number of good trials'),
  prior_weight: z.number().positive('must be > 0').default(1).describe('weight of the broad prior kernel; higher explores more'),
  consider_magic_clip: z.boolean().default(true).describe('floor kernel widths at range/min(100, k+1) so dense regions do not collapse'),
  consider_endpoints: z
    .boolean()
    .default(false)
    .describe('let the range ends count as neighbours when setting the outermost kernels’ widths (wider edge kernels)'),
  multivariate: z
    .boolean()
    .default(false)
    .describe(
      'joint kernels over the unconditional parameters (captures interactions, e.g. optimizer × learning rate); conditional ones stay independent',
    ),
  constant_liar: z
    .boolean()
    .default(true)
    .describe('count queued/running trials as bad, so parallel asks spread out instead of piling on one point'),
});
export type TpeOptions = z.output<typeof tpeOptions>;

/** One parameter as TPE models it. */
type Dim =
  | { kind: 'numeric'; name: string; param: ParamSpec; axis: NumericAxis }
  | { kind: 'categorical'; name: string; param: ParamSpec & { type: 'categorical' }; choices: readonly ParamValue[] };

/** A configuration in model coordinates: unit values for numerics, choice indices for categoricals; NaN = absent. */
interface Encoded {
  coords: Float64Array;
}

/**
 * Tree-structured Parzen Estimator, following Optuna 3's TPESampler defaults: random start, then
 * each suggestion draws n_ei_candidates from the density l(x) of the best gamma-fraction of trials
 * and keeps the one maximising l(x)/g(x), g the density of the rest.
 */
export const tpeStrategy: Plugin<'strategy', TpeOptions> = {
  kind: 'strategy',
  name: 'tpe',
  description: 'Tree-structured Parzen Estimator (Optuna-style), with constant liar for parallel trials',
  parseOptions: (raw) => tpeOptions.parse(raw ?? {}),
  create(options, ctx) {
    const space = ctx.space;
    const names = orderedNames(space);
    const dims: Dim[] = names.map((name) => {
      const param = space[name] as ParamSpec;
      if (param.type === 'categorical') return { kind: 'categorical', name, param, choices: param.choices };
      return { kind: 'numeric', name, param, axis: numericAxis(param) };
    });
    // The joint group of multivariate TPE: parameters present in every trial.
    const jointDims = options.multivariate ? dims.filter((d) => !d.param.when && !isConstant(d.param)) : [];
    const joint = new Set(jointDims.map((d) => d.name));

    const encode = (params: Params): Encoded => {
      const coords = new Float64Array(dims.length).fill(Number.NaN);
      for (let j = 0; j < dims.length; j++) {
        const d = dims[j] as Dim;
        const v = params[d.name];
        if (v === undefined) continue;
        if (d.kind === 'categorical') {
          const i = d.choices.indexOf(v);
          if (i >= 0) coords[j] = i;
        } else {
          const x = numericValue(v);
          if (x !== undefined) coords[j] = axisUnit(d.axis, x);
        }
      }
      return { coords };
    };

    return {
      async ask(history, n) {
        const rng = askRng(options.seed, history);
        const sorted = sortHistory(history, ctx.direction);
        const taken = historyKeys(space, history);
        if (sorted.observed.length < options.n_startup_trials) {
          return spaceFillingDesign(space, options.seed, options.n_startup_trials, history.length, n, rng, taken);
        }
        const good = sorted.observed.map((o) => ({ enc: encode(o.params), loss: o.loss }));
        const bad: Encoded[] = sorted.failed.map(encode);
        if (options.constant_liar) for (const p of sorted.pending) bad.push(encode(p));
        const out: Params[] = [];
        for (let b = 0; b < n; b++) {
          let params = suggest(good, bad, rng);
          // A repeat (a discrete space running dry, or the same argmax twice) wastes a trial: redraw at random.
          for (let attempt = 0; attempt < 8 && taken.has(spaceKey(names, params)); attempt++) params = sampleSpace(space, rng);
          taken.add(spaceKey(names, params));
          out.push(params);
          if (options.constant_liar) bad.push(encode(params));
        }
        return out;
      },
    };

    /** Splits, fits l and g, and picks one configuration. */
    function suggest(observed: Array<{ enc: Encoded; loss: number }>, bad: Encoded[], rng: Rng): Params {
      const total = observed.length + bad.length;
      const nGood = Math.max(1, Math.min(observed.length, Math.ceil(options.gamma * total), options.gamma_max));
      // Rank by loss (ties: older first); the best nGood are good, the rest and every bad one above.
      const order = observed.map((_, i) => i).sort((a, b) => (observed[a]?.loss as number) - (observed[b]?.loss as number) || a - b);
      const isGood = new Uint8Array(observed.length);
      for (let r = 0; r < nGood; r++) isGood[order[r] as number] = 1;
      // Both groups in trial order (weights ramp with age); bad ones are the newest.
      const below: Encoded[] = [];
      const above: Encoded[] = [];
      for (let i = 0; i < observed.length; i++) (isGood[i] ? below : above).push((observed[i] as { enc: Encoded }).enc);
      for (const e of bad) above.push(e);

      const chosen: Record<string, ParamValue> = {};
      if (jointDims.length > 0) sampleJoint(below, above, rng, chosen);
      for (let j = 0; j < dims.length; j++) {
        const d = dims[j] as Dim;
        if (joint.has(d.name) || !isActive(d.param, chosen)) continue;
        chosen[d.name] = sampleIndependent(j, d, below, above, rng);
      }
      return chosen;
    }

    function column(group: Encoded[], j: number): number[] {
      const out: number[] = [];
      for (const e of group) {
        const v = e.coords[j] as number;
        if (!Number.isNaN(v)) out.push(v);
      }
      return out;
    }

    function sampleIndependent(j: number, d: Dim, below: Encoded[], above: Encoded[], rng: Rng): ParamValue {
      if (isConstant(d.param)) return d.kind === 'categorical' ? (d.choices[0] as ParamValue) : d.axis.low;
      const lo = column(below, j);
      const hi = column(above, j);
      const candidates = options.n_ei_candidates;
      if (d.kind === 'categorical') {
        const l = new CategoricalParzen(lo, mixtureWeights(lo.length, options.prior_weight), d.choices.length, options.prior_weight);
        const g = new CategoricalParzen(hi, mixtureWeights(hi.length, options.prior_weight), d.choices.length, options.prior_weight);
        let best = 0;
        let bestScore = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < candidates; c++) {
          const x = l.sampleKernel(rng, l.pickKernel(rng));
          const score = Math.log(l.probs[x] as number) - Math.log(g.probs[x] as number);
          if (score > bestScore) {
            bestScore = score;
            best = x;
          }
        }
        return d.choices[best] as ParamValue;
      }
      const kernel = {
        priorWeight: options.prior_weight,
        considerMagicClip: options.consider_magic_clip,
        considerEndpoints: options.consider_endpoints,
      };
      const l = new NumericParzen(lo, mixtureWeights(lo.length, options.prior_weight), kernel);
      const g = new NumericParzen(hi, mixtureWeights(hi.length, options.prior_weight), kernel);
      let best = d.axis.low;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < candidates; c++) {
        const u = l.sampleKernel(rng, l.pickKernel(rng));
        const value = axisValue(d.axis, u);
        let score: number;
        if (d.axis.step > 0) {
          const [a, b] = axisCell(d.axis, value);
          score = Math.log(l.mass(a, b)) - Math.log(g.mass(a, b));
        } else {
          score = Math.log(l.pdf(u)) - Math.log(g.pdf(u));
        }
        if (score > bestScore) {
          bestScore = score;
          best = value;
        }
      }
      return best;
    }

    /** Multivariate TPE: one kernel per good trial across all joint parameters, sampled and scored jointly. */
    function sampleJoint(below: Encoded[], above: Encoded[], rng: Rng, chosen: Record<string, ParamValue>): void {
      const idx = jointDims.map((d) => dims.indexOf(d));
      const complete = (e: Encoded) => idx.every((j) => !Number.isNaN(e.coords[j] as number));
      const lo = below.filter(complete);
      const hi = above.filter(complete);
      const sigmaFor = (m: number) => 0.2 * Math.max(m, 1) ** (-1 / (jointDims.length + 4));
      const kernel = {
        priorWeight: options.prior_weight,
        considerMagicClip: options.consider_magic_clip,
        considerEndpoints: options.consider_endpoints,
      };
      const build = (group: Encoded[]) => {
        const w = mixtureWeights(group.length, options.prior_weight);
        return {
          weights: w,
          models: jointDims.map((d, k) => {
            const col = group.map((e) => e.coords[idx[k] as number] as number);
            return d.kind === 'categorical'
              ? new CategoricalParzen(col, w, d.choices.length, options.prior_weight)
              : new NumericParzen(col, w, kernel, sigmaFor(group.length));
          }),
        };
      };
      const l = build(lo);
      const g = build(hi);
      const D = jointDims.length;
      const C = options.n_ei_candidates;
      const values = new Float64Array(C * D);
      const cells = new Float64Array(C * D * 2);
      for (let c = 0; c < C; c++) {
        const first = l.models[0] as NumericParzen | CategoricalParzen;
        const kIndex = first.pickKernel(rng);
        for (let k = 0; k < D; k++) {
          const d = jointDims[k] as Dim;
          const model = l.models[k] as NumericParzen | CategoricalParzen;
          const x = model.sampleKernel(rng, kIndex);
          if (d.kind === 'numeric') {
            const value = axisValue(d.axis, x);
            values[c * D + k] = value;
            if (d.axis.step > 0) {
              const [a, b] = axisCell(d.axis, value);
              cells[(c * D + k) * 2] = a;
              cells[(c * D + k) * 2 + 1] = b;
            } else cells[(c * D + k) * 2] = x;
          } else values[c * D + k] = x;
        }
      }
      const score = (model: { weights: Float64Array; models: Array<NumericParzen | CategoricalParzen> }, c: number, buf: Float64Array) => {
        const K = model.weights.length;
        for (let i = 0; i < K; i++) {
          let s = Math.log(model.weights[i] as number);
          for (let k = 0; k < D; k++) {
            const d = jointDims[k] as Dim;
            const m = model.models[k] as NumericParzen | CategoricalParzen;
            if (d.kind === 'categorical') s += (m as CategoricalParzen).kernelLogProb(i, values[c * D + k] as number);
            else if (d.axis.step > 0)
              s += (m as NumericParzen).kernelLogMass(i, cells[(c * D + k) * 2] as number, cells[(c * D + k) * 2 + 1] as number);
            else s += (m as NumericParzen).kernelLogPdf(i, cells[(c * D + k) * 2] as number);
          }
          buf[i] = s;
        }
        let max = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < K; i++) if ((buf[i] as number) > max) max = buf[i] as number;
        let sum = 0;
        for (let i = 0; i < K; i++) sum += Math.exp((buf[i] as number) - max);
        return max + Math.log(sum);
      };
      const bufL = new Float64Array(l.weights.length);
      const bufG = new Float64Array(g.weights.length);
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < C; c++) {
        const s = score(l, c, bufL) - score(g, c, bufG);
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      for (let k = 0; k < D; k++) {
        const d = jointDims[k] as Dim;
        const v = values[best * D + k] as number;
        chosen[d.name] = d.kind === 'categorical' ? (d.choices[v] as ParamValue) : v;
      }
    }
  },
};
