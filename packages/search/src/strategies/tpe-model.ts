import { type Direction, type ParamSpec, type ParamValue, type Params, type Space, type TrialView, orderedNames } from '@sweepd/core';
import { Arena, type TypedAlloc } from './arena.ts';
import { type NumericAxis, axisUnit, numericAxis, numericValue } from './axis.ts';
import { inTrialOrder, isConstant, observable, repeatsPossible } from './common.ts';
import type { TpeOptions } from './tpe-options.ts';
import type { NumericKernelOptions } from './tpe-parzen.ts';

/**
 * What TPE knows of a space before any trial: its parameters as model dimensions, which of them
 * form the joint (multivariate) group, and the history encoded as rows of unit coordinates.
 */

/** One parameter as TPE models it; `edges` are the unit-scale cell borders of an int with few values. */
export type Dim =
  | { kind: 'numeric'; name: string; param: ParamSpec; axis: NumericAxis; edges: Float64Array | undefined }
  | { kind: 'categorical'; name: string; param: ParamSpec & { type: 'categorical' }; choices: readonly ParamValue[] };

/** The space as TPE models it, built once per strategy. */
export interface TpeModel {
  readonly options: TpeOptions;
  readonly space: Space;
  readonly names: readonly string[];
  readonly dims: readonly Dim[];
  /** The joint group of multivariate TPE: parameters present in every trial (empty when univariate). */
  readonly jointDims: readonly Dim[];
  /** Column of each joint dimension in the rows. */
  readonly jointColumns: readonly number[];
  readonly joint: ReadonlySet<string>;
  /** An exact repeat is possible (no float in every configuration), so the history must be keyed to avoid one. */
  readonly repeatsPossible: boolean;
  /** Where one suggestion's typed arrays come from; reset as each suggestion starts. */
  readonly arena: Arena;
}

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

export function buildModel(space: Space, options: TpeOptions): TpeModel {
  const names = orderedNames(space);
  const dims: Dim[] = names.map((name) => {
    const param = space[name] as ParamSpec;
    if (param.type === 'categorical') return { kind: 'categorical', name, param, choices: param.choices };
    const axis = numericAxis(param);
    return { kind: 'numeric', name, param, axis, edges: cellEdges(axis) };
  });
  const jointDims = options.multivariate ? dims.filter((d) => !d.param.when && !isConstant(d.param)) : [];
  return {
    options,
    space,
    names,
    dims,
    jointDims,
    jointColumns: jointDims.map((d) => dims.indexOf(d)),
    joint: new Set(jointDims.map((d) => d.name)),
    repeatsPossible: repeatsPossible(space),
    arena: new Arena(),
  };
}

/**
 * Trials in model coordinates, one row each in a flat matrix: unit values for numerics, choice
 * indices for categoricals, NaN where a parameter is absent.
 */
export class Rows {
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

/** The history as one ask of TPE reads it (see TpeHistory). */
export interface TpeView {
  /** How many observed trials: the first rows and the losses. */
  observed: number;
  losses: Float64Array;
  /** The observed trials' rows, nothing after them: the caller appends failed and pending trials' rows. */
  rows: Rows;
  failed: Params[];
  pending: Params[];
}

/**
 * The history as TPE reads it, kept from one ask to the next: the observed trials' configurations,
 * losses and rows in trial order, of which only what changed since the previous ask is rewritten.
 * Between two asks a daemon's history grows by a few trials; at 10,000 trials, building these
 * afresh every ask (an object per trial, arrays grown by push, every row encoded again) took
 * about two thirds of a suggestion's time and made most of its garbage.
 */
export class TpeHistory {
  private readonly params: Params[] = [];
  private losses = new Float64Array(0);
  private rows: Rows | undefined;
  /** Rows 0 … encoded − 1 hold params 0 … encoded − 1. */
  private encoded = 0;

  read(model: TpeModel, history: readonly TrialView[], direction: Direction): TpeView {
    const trials = inTrialOrder(history) ? history : [...history].sort((a, b) => a.number - b.number);
    if (this.losses.length < history.length) this.losses = new Float64Array(Math.max(history.length, 2 * this.losses.length));
    const sign = direction === 'maximize' ? -1 : 1;
    const failed: Params[] = [];
    const pending: Params[] = [];
    let n = 0;
    let unchanged = this.encoded;
    for (const t of trials) {
      if (observable(t)) {
        if (this.params[n] !== t.params) {
          this.params[n] = t.params;
          if (n < unchanged) unchanged = n;
        }
        this.losses[n++] = sign * (t.value as number);
      } else if (t.state === 'queued' || t.state === 'running') pending.push(t.params ?? {});
      else failed.push(t.params ?? {});
    }
    this.params.length = n;
    this.rows ??= new Rows(model.dims.length, n + 16);
    const rows = this.rows;
    rows.count = Math.min(unchanged, n);
    for (let i = rows.count; i < n; i++) encodeInto(model, rows, this.params[i] as Params);
    this.encoded = n;
    return { observed: n, losses: this.losses.subarray(0, n), rows, failed, pending };
  }
}

/** Appends one configuration to `rows` in model coordinates. */
export function encodeInto(model: TpeModel, rows: Rows, params: Params): void {
  const { dims } = model;
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
}

/** Flags (in an array of `size`) the `count` smallest losses; ties go to the older trial. */
export function markBest(losses: Float64Array, count: number, size: number, alloc: TypedAlloc): Uint8Array {
  const flags = alloc.u8(size);
  const threshold = nthSmallest(losses, count);
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

/**
 * The count-th smallest loss. n_good is at most gamma_max (25 by default): keeping the smallest
 * `count` in a sorted buffer is one pass over the losses, where sorting them all cost a fifth of a
 * suggestion at 10,000 trials.
 */
function nthSmallest(losses: Float64Array, count: number): number {
  if (count > 64 || count >= losses.length) return Float64Array.from(losses).sort()[count - 1] as number;
  const best = new Float64Array(count).fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < losses.length; i++) {
    const x = losses[i] as number;
    if (!(x < (best[count - 1] as number))) continue;
    let j = count - 1;
    while (j > 0 && (best[j - 1] as number) > x) {
      best[j] = best[j - 1] as number;
      j--;
    }
    best[j] = x;
  }
  return best[count - 1] as number;
}

/** Per row: nGood − rank for the good rows (best = nGood), 0 elsewhere. */
export function rankWeights(losses: Float64Array, isGood: Uint8Array, nGood: number, alloc: TypedAlloc): Float64Array {
  const good: number[] = [];
  for (let i = 0; i < losses.length; i++) if (isGood[i]) good.push(i);
  good.sort((a, b) => (losses[a] as number) - (losses[b] as number) || a - b);
  const w = alloc.f64(isGood.length);
  good.forEach((row, rank) => {
    w[row] = nGood - rank;
  });
  return w;
}

/** The good (below) and bad (above) rows of one suggestion, each in row order, with the good rows' rank weights if asked for. */
export interface Split {
  below: Int32Array;
  above: Int32Array;
  goodWeight: Float64Array | undefined;
}

/**
 * Splits the rows: the best nGood observed trials are good; the rest and every row after the
 * observed ones (failed, pending) are bad. Both groups stay in trial order (weights ramp with age).
 */
export function splitRows(options: TpeOptions, rows: Rows, losses: Float64Array, alloc: TypedAlloc): Split {
  const nObserved = losses.length;
  const total = rows.count;
  const nGood = Math.max(1, Math.min(nObserved, Math.ceil(options.gamma * total), options.gamma_max));
  const isGood = markBest(losses, nGood, total, alloc);
  const goodWeight = options.good_weighting === 'rank' ? rankWeights(losses, isGood, nGood, alloc) : undefined;
  const below = alloc.i32(nGood);
  const above = alloc.i32(total - nGood);
  let nb = 0;
  let na = 0;
  for (let i = 0; i < total; i++) {
    if (isGood[i]) below[nb++] = i;
    else above[na++] = i;
  }
  return { below, above, goodWeight };
}

export const cellOf = (axis: NumericAxis, value: number) => Math.round((value - axis.low) / axis.step);

/** Kernel options of the good (l) or bad (g) density; see kernel_scoring. */
export function kernelOptions(options: TpeOptions, good: boolean): NumericKernelOptions {
  const peakScoring = options.kernel_scoring === 'peak' || (options.kernel_scoring === 'good-density' && !good);
  return {
    priorWeight: options.prior_weight,
    considerMagicClip: options.consider_magic_clip,
    considerEndpoints: options.consider_endpoints,
    peakScoring,
  };
}
