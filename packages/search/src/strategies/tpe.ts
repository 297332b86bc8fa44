import { type ParamSpec, type ParamValue, type Params, type Plugin, type Rng, isActive, orderedNames, sampleSpace } from '@sweepd/core';
import { z } from 'zod';
import { type NumericAxis, axisCell, axisUnit, axisValue, numericAxis, numericValue } from './axis.ts';
import { askRng, historyKeys, isConstant, seedOption, sortHistory, spaceKey } from './common.ts';
import { spaceFillingDesign } from './design.ts';
import { logSumExp } from './math.ts';
import { CategoricalParzen, NumericParzen, mixtureWeights } from './tpe-parzen.ts';

const tpeOptions = z.strictObject({
  seed: seedOption,
  n_startup_trials: z
    .number()
    .int('must be an integer')
    .min(0, 'must be >= 0')
    .max(10_000)
    .default(10)
    .describe(
      'trials drawn before the model is used (a Latin hypercube: random, but stratified per parameter); fewer exploit sooner, more explore more',
    ),
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
    .default(true)
    .describe(
      'joint kernels over the unconditional parameters (captures interactions, e.g. optimizer × learning rate; conditional ones stay independent). ' +
        'On by default, unlike Optuna: on the anchor problems it matched or beat independent TPE everywhere; false = one model per parameter',
    ),
  good_weighting: z
    .enum(['flat', 'rank'])
    .default('flat')
    .describe("weights of the good trials' kernels: flat (Optuna), or rank (the best weighs n_good, the last good one 1: exploits harder)"),
  kernel_scoring: z
    .enum(['good-density', 'peak', 'density'])
    .default('good-density')
    .describe(
      'how kernels are scored: density = proper mixture densities; peak = every kernel by its shape, height at its centre = its weight whatever its width ' +
        "(what Optuna 3's TPE effectively does: its truncated-normal log-pdf omits the 1/σ term); good-density = the good trials' mixture as a density, " +
        "the bad trials' by peak, so a crowd of bad trials near a good one does not drown it: exploits the good region harder",
    ),
  constant_liar: z
    .boolean()
    .default(true)
    .describe('count queued/running trials as bad, so parallel asks spread out instead of piling on one point'),
});
export type TpeOptions = z.output<typeof tpeOptions>;

/** One parameter as TPE models it; `edges` are the unit-scale cell borders of an int with few values. */
type Dim =
  | { kind: 'numeric'; name: string; param: ParamSpec; axis: NumericAxis; edges: Float64Array | undefined }
  | { kind: 'categorical'; name: string; param: ParamSpec & { type: 'categorical' }; choices: readonly ParamValue[] };

/** Ints with at most this many values get per-cell mass tables (one CDF per kernel and edge). */
const MAX_TABLE_CELLS = 128;

function cellEdges(axis: NumericAxis): Float64Array | undefined {
  if (axis.step === 0) return undefined;
  const cells = Math.floor((axis.high - axis.low) / axis.step) + 1;
  if (cells > MAX_TABLE_CELLS) return undefined;
  const edges = new Float64Array(cells + 1);
  for (let c = 0; c <= cells; c++) edges[c] = axisUnit(axis, axis.low + (c - 0.5) * axis.step);
  edges[0] = 0;
  edges[cells] = 1;
  return edges;
}

/** Flags (in an array of `size`) the `count` smallest losses; ties go to the older trial. */
function markBest(losses: Float64Array, count: number, size: number): Uint8Array {
  const flags = new Uint8Array(size);
  const threshold = Float64Array.from(losses).sort()[count - 1] as number;
  let marked = 0;
  for (let i = 0; i < losses.length; i++) {
    if ((losses[i] as number) < threshold) {
      flags[i] = 1;
      marked++;
    }
  }
  for (let i = 0; i < losses.length && marked < count; i++) {
    if (losses[i] === threshold) {
      flags[i] = 1;
      marked++;
    }
  }
  return flags;
}

/** Per row: nGood − rank for the good rows (best = nGood), 0 elsewhere. */
function rankWeights(losses: Float64Array, isGood: Uint8Array, nGood: number): Float64Array {
  const good: number[] = [];
  for (let i = 0; i < losses.length; i++) if (isGood[i]) good.push(i);
  good.sort((a, b) => (losses[a] as number) - (losses[b] as number) || a - b);
  const w = new Float64Array(isGood.length);
  good.forEach((row, rank) => {
    w[row] = nGood - rank;
  });
  return w;
}

const cellOf = (axis: NumericAxis, value: number) => Math.round((value - axis.low) / axis.step);

/**
 * Trials in model coordinates, one row each in a flat matrix: unit values for numerics, choice
 * indices for categoricals, NaN where a parameter is absent.
 */
class Rows {
  data: Float64Array;
  count = 0;
  constructor(
    readonly width: number,
    capacity: number,
  ) {
    this.data = new Float64Array(Math.max(1, capacity) * width);
  }
  add(): number {
    if ((this.count + 1) * this.width > this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data.fill(Number.NaN, this.count * this.width, (this.count + 1) * this.width);
    return this.count++;
  }
  at(row: number, col: number): number {
    return this.data[row * this.width + col] as number;
  }
}

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
  create(options, ctx) {
    const space = ctx.space;
    const names = orderedNames(space);
    const dims: Dim[] = names.map((name) => {
      const param = space[name] as ParamSpec;
      if (param.type === 'categorical') return { kind: 'categorical', name, param, choices: param.choices };
      const axis = numericAxis(param);
      return { kind: 'numeric', name, param, axis, edges: cellEdges(axis) };
    });
    // The joint group of multivariate TPE: parameters present in every trial.
    const jointDims = options.multivariate ? dims.filter((d) => !d.param.when && !isConstant(d.param)) : [];
    const joint = new Set(jointDims.map((d) => d.name));

    const encodeInto = (rows: Rows, params: Params): void => {
      const row = rows.add();
      for (let j = 0; j < dims.length; j++) {
        const d = dims[j] as Dim;
        const v = params[d.name];
        if (v === undefined) continue;
        if (d.kind === 'categorical') {
          const i = d.choices.indexOf(v);
          if (i >= 0) rows.data[row * dims.length + j] = i;
        } else {
          const x = numericValue(v);
          if (x !== undefined) rows.data[row * dims.length + j] = axisUnit(d.axis, x);
        }
      }
    };
    // With a float in play an exact repeat has probability zero, so the history need not be keyed.
    const discreteOnly = dims.every((d) => d.kind === 'categorical' || d.axis.step > 0 || isConstant(d.param));

    return {
      async ask(history, n) {
        const rng = askRng(options.seed, history);
        const sorted = sortHistory(history, ctx.direction);
        const taken = discreteOnly || sorted.observed.length < options.n_startup_trials ? historyKeys(space, history) : new Set<string>();
        if (sorted.observed.length < options.n_startup_trials) {
          return spaceFillingDesign(space, options.seed, options.n_startup_trials, history.length, n, rng, taken);
        }
        // Rows: observed trials first (trial order), then failed and pending ones (always "bad").
        const rows = new Rows(dims.length, history.length + n);
        const losses = new Float64Array(sorted.observed.length);
        sorted.observed.forEach((o, i) => {
          encodeInto(rows, o.params);
          losses[i] = o.loss;
        });
        for (const p of sorted.failed) encodeInto(rows, p);
        if (options.constant_liar) for (const p of sorted.pending) encodeInto(rows, p);
        const out: Params[] = [];
        for (let b = 0; b < n; b++) {
          let params = suggest(rows, losses, rng);
          // A repeat (a discrete space running dry, or the same argmax twice) wastes a trial: redraw at random.
          for (let attempt = 0; attempt < 8 && taken.has(spaceKey(names, params)); attempt++) params = sampleSpace(space, rng);
          taken.add(spaceKey(names, params));
          out.push(params);
          if (options.constant_liar) encodeInto(rows, params);
        }
        return out;
      },
    };

    /** Splits, fits l and g, and picks one configuration. */
    function suggest(rows: Rows, losses: Float64Array, rng: Rng): Params {
      const nObserved = losses.length;
      const total = rows.count;
      const nGood = Math.max(1, Math.min(nObserved, Math.ceil(options.gamma * total), options.gamma_max));
      // Rank by loss (ties: older first); the best nGood are good, the rest and every bad row above.
      const isGood = markBest(losses, nGood, total);
      // Rank weighting: the best good trial weighs nGood, the last one 1.
      const goodWeight = options.good_weighting === 'rank' ? rankWeights(losses, isGood, nGood) : undefined;
      // Both groups in row order, i.e. trial order (weights ramp with age); bad rows are the newest.
      const below = new Int32Array(nGood);
      const above = new Int32Array(total - nGood);
      let nb = 0;
      let na = 0;
      for (let i = 0; i < total; i++) {
        if (isGood[i]) below[nb++] = i;
        else above[na++] = i;
      }
      const chosen: Record<string, ParamValue> = {};
      if (jointDims.length > 0) sampleJoint(rows, below, above, rng, chosen, goodWeight);
      for (let j = 0; j < dims.length; j++) {
        const d = dims[j] as Dim;
        if (joint.has(d.name) || !isActive(d.param, chosen)) continue;
        chosen[d.name] = sampleIndependent(rows, j, d, below, above, rng, goodWeight);
      }
      return chosen;
    }

    /** Column j over the given rows, skipping rows where the parameter is absent; with the rows' mixture weights. */
    function column(rows: Rows, group: Int32Array, j: number, rowWeight?: Float64Array): { values: Float64Array; weights: Float64Array } {
      const out = new Float64Array(group.length);
      const base = rowWeight ? new Float64Array(group.length) : undefined;
      let m = 0;
      for (let r = 0; r < group.length; r++) {
        const row = group[r] as number;
        const v = rows.at(row, j);
        if (Number.isNaN(v)) continue;
        if (base) base[m] = rowWeight?.[row] as number;
        out[m++] = v;
      }
      return { values: out.subarray(0, m), weights: mixtureWeights(m, options.prior_weight, base ? base.subarray(0, m) : undefined) };
    }

    function kernelOptions(good = true) {
      const peakScoring = options.kernel_scoring === 'peak' || (options.kernel_scoring === 'good-density' && !good);
      return {
        priorWeight: options.prior_weight,
        considerMagicClip: options.consider_magic_clip,
        considerEndpoints: options.consider_endpoints,
        peakScoring,
      };
    }

    function sampleIndependent(
      rows: Rows,
      j: number,
      d: Dim,
      below: Int32Array,
      above: Int32Array,
      rng: Rng,
      goodWeight?: Float64Array,
    ): ParamValue {
      if (isConstant(d.param)) return d.kind === 'categorical' ? (d.choices[0] as ParamValue) : d.axis.low;
      const { values: lo, weights: loW } = column(rows, below, j, goodWeight);
      const { values: hi, weights: hiW } = column(rows, above, j);
      const candidates = options.n_ei_candidates;
      if (d.kind === 'categorical') {
        const l = new CategoricalParzen(lo, loW, d.choices.length, options.prior_weight);
        const g = new CategoricalParzen(hi, hiW, d.choices.length, options.prior_weight);
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
      const l = new NumericParzen(lo, loW, kernelOptions());
      const g = new NumericParzen(hi, hiW, kernelOptions(false));
      const lCells = d.edges ? l.cellMasses(d.edges) : undefined;
      const gCells = d.edges ? g.cellMasses(d.edges) : undefined;
      let best = d.axis.low;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < candidates; c++) {
        const u = l.sampleKernel(rng, l.pickKernel(rng));
        const value = axisValue(d.axis, u);
        let score: number;
        if (lCells && gCells) {
          const cell = cellOf(d.axis, value);
          score = Math.log(lCells[cell] as number) - Math.log(gCells[cell] as number);
        } else if (d.axis.step > 0) {
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
    function sampleJoint(
      rows: Rows,
      below: Int32Array,
      above: Int32Array,
      rng: Rng,
      chosen: Record<string, ParamValue>,
      goodWeight?: Float64Array,
    ): void {
      const idx = jointDims.map((d) => dims.indexOf(d));
      const complete = (group: Int32Array) => group.filter((r) => idx.every((j) => !Number.isNaN(rows.at(r, j))));
      const D = jointDims.length;
      const build = (group: Int32Array, good: boolean, rowWeight?: Float64Array) => {
        const w = mixtureWeights(
          group.length,
          options.prior_weight,
          rowWeight ? Float64Array.from(group, (r) => rowWeight[r] as number) : undefined,
        );
        const sigma = 0.2 * Math.max(group.length, 1) ** (-1 / (D + 4));
        return {
          weights: w,
          models: jointDims.map((d, k) => {
            const col = Float64Array.from(group, (r) => rows.at(r, idx[k] as number));
            return d.kind === 'categorical'
              ? new CategoricalParzen(col, w, d.choices.length, options.prior_weight)
              : new NumericParzen(col, w, kernelOptions(good), sigma);
          }),
        };
      };
      const l = build(complete(below), true, goodWeight);
      const g = build(complete(above), false);
      const C = options.n_ei_candidates;
      // Candidates: unit coordinate (continuous), cell (int) or choice (categorical) per joint dim.
      const coords = new Float64Array(C * D);
      const values = new Float64Array(C * D);
      for (let c = 0; c < C; c++) {
        const kIndex = (l.models[0] as NumericParzen | CategoricalParzen).pickKernel(rng);
        for (let k = 0; k < D; k++) {
          const d = jointDims[k] as Dim;
          const x = (l.models[k] as NumericParzen | CategoricalParzen).sampleKernel(rng, kIndex);
          if (d.kind === 'numeric') {
            const value = axisValue(d.axis, x);
            values[c * D + k] = value;
            coords[c * D + k] = d.edges ? cellOf(d.axis, value) : x;
          } else {
            values[c * D + k] = x;
            coords[c * D + k] = x;
          }
        }
      }
      const logDensities = (model: ReturnType<typeof build>) => {
        const K = model.weights.length;
        const acc = new Float64Array(C * K);
        const logW = model.weights.map(Math.log);
        for (let c = 0; c < C; c++) acc.set(logW, c * K);
        // Dims outer, kernels inner: tight loops over typed arrays, tables built once per dim.
        for (let k = 0; k < D; k++) {
          const d = jointDims[k] as Dim;
          const m = model.models[k] as NumericParzen | CategoricalParzen;
          if (m instanceof CategoricalParzen) {
            const [own, other] = m.logOwnOther;
            const prior = -Math.log(m.choiceCount);
            const obs = m.observed;
            for (let c = 0; c < C; c++) {
              const x = coords[c * D + k] as number;
              const base = c * K;
              for (let i = 0; i < K - 1; i++) acc[base + i] = (acc[base + i] as number) + (obs[i] === x ? own : other);
              acc[base + K - 1] = (acc[base + K - 1] as number) + prior;
            }
          } else if (d.kind === 'numeric' && d.edges) {
            const table = m.cellLogMassTable(d.edges);
            const cells = d.edges.length - 1;
            for (let c = 0; c < C; c++) {
              const cell = coords[c * D + k] as number;
              const base = c * K;
              for (let i = 0; i < K; i++) acc[base + i] = (acc[base + i] as number) + (table[i * cells + cell] as number);
            }
          } else if (d.kind === 'numeric' && d.axis.step > 0) {
            for (let c = 0; c < C; c++) {
              const [a, b] = axisCell(d.axis, values[c * D + k] as number);
              for (let i = 0; i < K; i++) acc[c * K + i] = (acc[c * K + i] as number) + m.kernelLogMass(i, a, b);
            }
          } else {
            const { mus, invSigma, logNorm } = m;
            for (let c = 0; c < C; c++) {
              const x = coords[c * D + k] as number;
              const base = c * K;
              for (let i = 0; i < K; i++) {
                const z = (x - (mus[i] as number)) * (invSigma[i] as number);
                acc[base + i] = (acc[base + i] as number) + (logNorm[i] as number) - 0.5 * z * z;
              }
            }
          }
        }
        const out = new Float64Array(C);
        for (let c = 0; c < C; c++) out[c] = logSumExp(acc.subarray(c * K, (c + 1) * K));
        return out;
      };
      const logL = logDensities(l);
      const logG = logDensities(g);
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < C; c++) {
        const s = (logL[c] as number) - (logG[c] as number);
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
