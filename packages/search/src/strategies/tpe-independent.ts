import type { ParamValue, Rng } from '@sweepd/core';
import { axisCell, axisValue } from './axis.ts';
import { isConstant } from './common.ts';
import { type Dim, type Rows, type Split, type TpeModel, cellOf, kernelOptions } from './tpe-model.ts';
import { CategoricalParzen, NumericParzen, mixtureWeights } from './tpe-parzen.ts';

/**
 * Univariate TPE for one parameter: l and g fitted on its column alone, n_ei_candidates drawn
 * from l, the one maximising l(x)/g(x) kept. Used for every parameter outside the joint group.
 */

/** Column j over the given rows, skipping rows where the parameter is absent; with the rows' mixture weights. */
function column(
  model: TpeModel,
  rows: Rows,
  group: Int32Array,
  j: number,
  rowWeight?: Float64Array,
): { values: Float64Array; weights: Float64Array } {
  const out = model.arena.f64(group.length);
  const base = rowWeight ? model.arena.f64(group.length) : undefined;
  let m = 0;
  for (let r = 0; r < group.length; r++) {
    const row = group[r] as number;
    const v = rows.at(row, j);
    if (Number.isNaN(v)) continue;
    if (base) base[m] = rowWeight?.[row] as number;
    out[m++] = v;
  }
  const weights = mixtureWeights(m, model.options.prior_weight, base?.subarray(0, m), model.arena);
  return { values: out.subarray(0, m), weights };
}

export function sampleIndependent(model: TpeModel, rows: Rows, j: number, split: Split, rng: Rng): ParamValue {
  const { options } = model;
  const d = model.dims[j] as Dim;
  if (isConstant(d.param)) return d.kind === 'categorical' ? (d.choices[0] as ParamValue) : d.axis.low;
  const { values: lo, weights: loW } = column(model, rows, split.below, j, split.goodWeight);
  const { values: hi, weights: hiW } = column(model, rows, split.above, j);
  const candidates = options.n_ei_candidates;
  if (d.kind === 'categorical') {
    const l = new CategoricalParzen(lo, loW, d.choices.length, options.prior_weight, lo.length, model.arena);
    const g = new CategoricalParzen(hi, hiW, d.choices.length, options.prior_weight, hi.length, model.arena);
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
  const l = new NumericParzen(lo, loW, kernelOptions(options, true), undefined, model.arena);
  const g = new NumericParzen(hi, hiW, kernelOptions(options, false), undefined, model.arena);
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
