import type { ParamValue, Rng } from '@sweepd/core';
import { axisCell, axisValue } from './axis.ts';
import type { TypedAlloc } from './arena.ts';
import { logSumExp } from './math.ts';
import { compactKernels } from './tpe-compact.ts';
import { type Dim, type Rows, type Split, type TpeModel, cellOf, kernelOptions } from './tpe-model.ts';
import { CategoricalParzen, NumericParzen, mixtureWeights } from './tpe-parzen.ts';

/**
 * Multivariate TPE: one kernel per trial across all joint parameters (one bandwidth per
 * dimension, Optuna's multivariate rule), candidates drawn from l jointly and scored by l(x)/g(x).
 */

/** A joint mixture: kernel weights and, per joint dimension, the kernels' marginals. */
interface JointDensity {
  weights: Float64Array;
  models: Array<NumericParzen | CategoricalParzen>;
}

/** The rows of `group` where every joint parameter is present. */
function complete(model: TpeModel, rows: Rows, group: Int32Array): Int32Array {
  const cols = model.jointColumns;
  const { data, width } = rows;
  const out = model.arena.i32(group.length);
  let n = 0;
  for (let g = 0; g < group.length; g++) {
    const r = group[g] as number;
    let present = true;
    for (let k = 0; k < cols.length && present; k++) present = !Number.isNaN(data[r * width + (cols[k] as number)] as number);
    if (present) out[n++] = r;
  }
  return n === group.length ? out : out.subarray(0, n);
}

/** data[r * stride + offset] for each row r of `group` (a column of the rows, or a per-row weight). */
function gather(alloc: TypedAlloc, data: Float64Array, group: Int32Array, stride: number, offset: number): Float64Array {
  const out = alloc.f64(group.length);
  for (let g = 0; g < group.length; g++) out[g] = data[(group[g] as number) * stride + offset] as number;
  return out;
}

function fitJoint(model: TpeModel, rows: Rows, group: Int32Array, good: boolean, rowWeight?: Float64Array): JointDensity {
  const { options, jointDims, jointColumns, arena } = model;
  const D = jointDims.length;
  const w = mixtureWeights(group.length, options.prior_weight, rowWeight && gather(arena, rowWeight, group, 1, 0), arena);
  const sigma = 0.2 * Math.max(group.length, 1) ** (-1 / (D + 4));
  const compact = compactKernels(model, rows, group, w, sigma);
  const weights = compact?.weights ?? w;
  return {
    weights,
    models: jointDims.map((d, k) => {
      const col = compact?.columns[k] ?? gather(arena, rows.data, group, rows.width, jointColumns[k] as number);
      return d.kind === 'categorical'
        ? new CategoricalParzen(col, weights, d.choices.length, options.prior_weight, group.length, arena)
        : new NumericParzen(col, weights, kernelOptions(options, good), sigma, arena);
    }),
  };
}

/** Candidates drawn from l: per joint dimension a value, and the coordinate it is scored at (unit value, int cell or choice). */
function drawCandidates(model: TpeModel, l: JointDensity, rng: Rng): { coords: Float64Array; values: Float64Array } {
  const { jointDims } = model;
  const C = model.options.n_ei_candidates;
  const D = jointDims.length;
  const coords = model.arena.f64(C * D);
  const values = model.arena.f64(C * D);
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
  return { coords, values };
}

/** What one joint dimension adds to each kernel's log density at a candidate, with its tables built once per fit. */
type DimTerm =
  | { kind: 'choice'; observed: Int32Array; own: number; other: number; prior: number }
  | { kind: 'cells'; rowOf: Int32Array; rows: Float64Array; cells: number; atCell: Float64Array }
  | { kind: 'mass'; parzen: NumericParzen; dim: Dim & { kind: 'numeric' } }
  | { kind: 'normal'; mus: Float64Array; invSigma: Float64Array; logNorm: Float64Array };

function dimTerm(model: TpeModel, d: Dim, m: NumericParzen | CategoricalParzen): DimTerm {
  if (m instanceof CategoricalParzen) {
    const [own, other] = m.logOwnOther;
    return { kind: 'choice', observed: m.observed, own, other, prior: -Math.log(m.choiceCount) };
  }
  if (d.kind === 'numeric' && d.edges) {
    const { rowOf, rows, cells } = m.cellLogMassRows(d.edges);
    return { kind: 'cells', rowOf, rows, cells, atCell: model.arena.f64(rows.length / cells) };
  }
  if (d.kind === 'numeric' && d.axis.step > 0) return { kind: 'mass', parzen: m, dim: d };
  return { kind: 'normal', mus: m.mus, invSigma: m.invSigma, logNorm: m.logNorm };
}

/** Adds one dimension's term, at the candidate's coordinate x (value: its value on the parameter's scale), to every kernel's log term. */
function addTerm(term: DimTerm, row: Float64Array, x: number, value: number): void {
  const K = row.length;
  if (term.kind === 'choice') {
    const { observed, own, other } = term;
    for (let i = 0; i < K - 1; i++) row[i] = (row[i] as number) + (observed[i] === x ? own : other);
    row[K - 1] = (row[K - 1] as number) + term.prior;
  } else if (term.kind === 'cells') {
    const { rowOf, rows, cells, atCell } = term;
    for (let r = 0; r < atCell.length; r++) atCell[r] = rows[r * cells + x] as number;
    for (let i = 0; i < K; i++) row[i] = (row[i] as number) + (atCell[rowOf[i] as number] as number);
  } else if (term.kind === 'mass') {
    const [a, b] = axisCell(term.dim.axis, value);
    for (let i = 0; i < K; i++) row[i] = (row[i] as number) + term.parzen.kernelLogMass(i, a, b);
  } else {
    const { mus, invSigma, logNorm } = term;
    for (let i = 0; i < K; i++) {
      const z = (x - (mus[i] as number)) * (invSigma[i] as number);
      row[i] = (row[i] as number) + (logNorm[i] as number) - 0.5 * z * z;
    }
  }
}

/**
 * log density of the mixture at each candidate. Candidate by candidate: one row of K kernel
 * terms, summed over the dimensions in order, then reduced. The sums are those of a C × K matrix
 * filled dimension by dimension, in the same order, without the matrix (2 MB at 10,000 trials,
 * once a buffer kept for the life of the process); the speed measured the same.
 */
function logDensities(model: TpeModel, density: JointDensity, coords: Float64Array, values: Float64Array): Float64Array {
  const { jointDims } = model;
  const C = model.options.n_ei_candidates;
  const D = jointDims.length;
  const K = density.weights.length;
  // A plain loop, not weights.map(Math.log): the builtin boxed every result, 77 kB of garbage an ask at 10,000 trials.
  const logW = model.arena.f64(K);
  for (let i = 0; i < K; i++) logW[i] = Math.log(density.weights[i] as number);
  const terms = jointDims.map((d, k) => dimTerm(model, d, density.models[k] as NumericParzen | CategoricalParzen));
  const row = model.arena.f64(K);
  const out = model.arena.f64(C);
  for (let c = 0; c < C; c++) {
    row.set(logW);
    for (let k = 0; k < D; k++) addTerm(terms[k] as DimTerm, row, coords[c * D + k] as number, values[c * D + k] as number);
    out[c] = logSumExp(row);
  }
  return out;
}

/** Picks the joint parameters of one suggestion into `chosen`. */
export function sampleJoint(model: TpeModel, rows: Rows, split: Split, rng: Rng, chosen: Record<string, ParamValue>): void {
  const { jointDims } = model;
  const l = fitJoint(model, rows, complete(model, rows, split.below), true, split.goodWeight);
  const g = fitJoint(model, rows, complete(model, rows, split.above), false);
  const { coords, values } = drawCandidates(model, l, rng);
  const logL = logDensities(model, l, coords, values);
  const logG = logDensities(model, g, coords, values);
  const C = model.options.n_ei_candidates;
  const D = jointDims.length;
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
