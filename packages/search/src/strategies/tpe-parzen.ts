import type { Rng } from '@sweepd/core';
import { type TypedAlloc, fresh } from './arena.ts';
import { INV_SQRT_2PI, normCdf } from './math.ts';

/**
 * Parzen estimators of the Tree-structured Parzen Estimator, on unit coordinates: a weighted
 * mixture of normals truncated to [0, 1] (one per observation plus a broad prior), or for
 * categoricals a mixture of smoothed one-hot distributions. Arrays are typed, taken from the
 * caller's allocator (TPE's per-suggestion arena), and built once per fit so that scoring
 * candidates against a thousand kernels costs no allocation per candidate.
 */

/** A kernel centred this many widths inside both ends has mass 1 in [0, 1] (Φ(−8.3) < 1e-16). */
const INSIDE = 8.3;

/** log of the smallest mass a cell is given (a kernel far away from it). */
const LOG_TINY = Math.log(1e-300);

/** Optuna's default_weights: flat for the 25 newest observations, a linear ramp for older ones. */
export function defaultWeights(count: number, alloc: TypedAlloc = fresh): Float64Array {
  const w = alloc.f64(count).fill(1);
  if (count < 25) return w;
  const ramp = count - 25;
  for (let i = 0; i < ramp; i++) w[i] = ramp === 1 ? 1 / count : 1 / count + ((1 - 1 / count) * i) / (ramp - 1);
  return w;
}

/** Mixture weights: observation weights (oldest first; default_weights unless given) plus the prior's, normalised. */
export function mixtureWeights(count: number, priorWeight: number, given?: ArrayLike<number>, alloc: TypedAlloc = fresh): Float64Array {
  const base = given ?? defaultWeights(count, alloc);
  const w = alloc.f64(count + 1);
  let sum = priorWeight;
  for (let i = 0; i < count; i++) {
    w[i] = base[i] as number;
    sum += base[i] as number;
  }
  w[count] = priorWeight;
  for (let i = 0; i <= count; i++) w[i] = (w[i] as number) / sum;
  return w;
}

export interface NumericKernelOptions {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  /**
   * Score every kernel by its shape only (height at its centre = its weight, whatever its width)
   * instead of as a density. Optuna 3's truncated-normal log-pdf omits the 1/σ term, so this is
   * what its TPE effectively does; it flattens the bad trials' density where they crowd and so
   * exploits the good trials' peaks harder.
   */
  peakScoring?: boolean;
}

/** A truncated-normal mixture on [0, 1]. The last kernel is the prior N(0.5, 1). */
export class NumericParzen {
  readonly mus: Float64Array;
  readonly sigmas: Float64Array;
  readonly weights: Float64Array;
  /** weight / (σ √(2π) Z), Z the kernel's mass inside [0, 1]. */
  private readonly coef: Float64Array;
  /** weight / Z, for cell masses. */
  private readonly massCoef: Float64Array;
  private readonly cumulative: Float64Array;
  /** log(1 / (σ √(2π) Z)): a kernel's own log density at its centre. */
  readonly logNorm: Float64Array;
  readonly invSigma: Float64Array;
  /** log Z: a kernel's mass inside [0, 1]. */
  private readonly logZ: Float64Array;
  /** Where the cell tables come from: they live as long as the kernels. */
  private readonly alloc: TypedAlloc;

  /**
   * Univariate bandwidths (Optuna): each kernel as wide as the larger gap to its sorted
   * neighbours (0 and 1 count as neighbours), clipped to [1/min(100, k+1), 1] with the magic clip.
   * `fixedSigma` (multivariate): one bandwidth for every observation kernel.
   */
  constructor(
    observed: ArrayLike<number>,
    weights: Float64Array,
    options: NumericKernelOptions,
    fixedSigma?: number,
    alloc: TypedAlloc = fresh,
  ) {
    const m = observed.length;
    const k = m + 1;
    this.alloc = alloc;
    this.mus = alloc.f64(k);
    this.sigmas = alloc.f64(k);
    this.weights = weights;
    for (let i = 0; i < m; i++) this.mus[i] = observed[i] as number;
    this.mus[m] = 0.5;
    if (fixedSigma !== undefined) {
      this.sigmas.fill(fixedSigma);
    } else {
      // Native numeric sort of a copy, then each kernel finds its rank by binary search
      // (no comparator closures: this runs for every parameter on every ask).
      const sorted = alloc.f64(k);
      sorted.set(this.mus);
      sorted.sort();
      for (let i = 0; i < k; i++) {
        const here = this.mus[i] as number;
        let lo = 0;
        let hi = k - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if ((sorted[mid] as number) < here) lo = mid + 1;
          else hi = mid;
        }
        const r = lo;
        const left = r === 0 ? 0 : (sorted[r - 1] as number);
        const right = r === k - 1 ? 1 : (sorted[r + 1] as number);
        let s = Math.max(here - left, right - here);
        if (!options.considerEndpoints && k >= 2) {
          if (r === 0) s = right - here;
          else if (r === k - 1) s = here - left;
        }
        this.sigmas[i] = s;
      }
      const minSigma = options.considerMagicClip ? 1 / Math.min(100, k + 1) : 1e-12;
      for (let i = 0; i < k; i++) this.sigmas[i] = Math.min(1, Math.max(minSigma, this.sigmas[i] as number));
    }
    this.sigmas[m] = 1;
    this.coef = alloc.f64(k);
    this.massCoef = alloc.f64(k);
    this.cumulative = alloc.f64(k);
    this.logNorm = alloc.f64(k);
    this.invSigma = alloc.f64(k);
    this.logZ = alloc.f64(k);
    let acc = 0;
    // Most kernels of a large mixture share one width and sit far inside [0, 1]: their mass there
    // is 1 to double precision, and their log terms repeat; computing those once per width made the
    // 10,000 kernels of a univariate g three times cheaper to build.
    let lastS = Number.NaN;
    let lastLogNorm = 0;
    for (let i = 0; i < k; i++) {
      const mu = this.mus[i] as number;
      const s = this.sigmas[i] as number;
      const inside = mu > INSIDE * s && 1 - mu > INSIDE * s;
      const z = inside ? 1 : Math.max(1e-300, normCdf((1 - mu) / s) - normCdf(-mu / s));
      const w = weights[i] as number;
      const height = options.peakScoring ? 1 : s;
      this.coef[i] = (w * INV_SQRT_2PI) / (height * z);
      this.massCoef[i] = w / z;
      if (inside && s !== lastS) {
        lastS = s;
        lastLogNorm = Math.log(INV_SQRT_2PI / height);
      }
      this.logNorm[i] = inside ? lastLogNorm : Math.log(INV_SQRT_2PI / (height * z));
      this.invSigma[i] = 1 / s;
      this.logZ[i] = inside ? 0 : Math.log(z);
      acc += w;
      this.cumulative[i] = acc;
    }
  }

  get size(): number {
    return this.mus.length;
  }

  pickKernel(rng: Rng): number {
    return pickWeighted(this.cumulative, rng);
  }

  /** A draw from kernel `i`, truncated to [0, 1] by rejection (acceptance ≥ about 1/3). */
  sampleKernel(rng: Rng, i: number): number {
    const mu = this.mus[i] as number;
    const s = this.sigmas[i] as number;
    for (let attempt = 0; attempt < 64; attempt++) {
      const x = mu + s * rng.normal();
      if (x >= 0 && x <= 1) return x;
    }
    return Math.min(1, Math.max(0, mu));
  }

  /** Mixture density at x. */
  pdf(x: number): number {
    let sum = 0;
    const { mus, sigmas, coef } = this;
    for (let i = 0; i < mus.length; i++) {
      const z = (x - (mus[i] as number)) / (sigmas[i] as number);
      // exp(−0.5·z²) < 1e-16 past 8.5σ: skip it.
      if (z > -8.5 && z < 8.5) sum += (coef[i] as number) * Math.exp(-0.5 * z * z);
    }
    return sum;
  }

  /** Mixture mass of the cell [lo, hi] (ints). */
  mass(lo: number, hi: number): number {
    let sum = 0;
    const { mus, sigmas, massCoef } = this;
    for (let i = 0; i < mus.length; i++) {
      const mu = mus[i] as number;
      const s = sigmas[i] as number;
      sum += (massCoef[i] as number) * (normCdf((hi - mu) / s) - normCdf((lo - mu) / s));
    }
    return sum;
  }

  /**
   * Mixture mass of each cell between consecutive `edges` (an int's values): one CDF per kernel
   * and edge instead of two per kernel and candidate.
   */
  cellMasses(edges: Float64Array): Float64Array {
    const cells = edges.length - 1;
    const out = this.alloc.f64(cells);
    // An int's kernels sit on a few cell centres with a few widths: sum their coefficients per
    // distinct (centre, width), then one CDF per distinct kernel and edge.
    const { mus, invSigma, coefs } = this.distinctMassKernels();
    for (let i = 0; i < mus.length; i++) {
      const mu = mus[i] as number;
      const is = invSigma[i] as number;
      const c = coefs[i] as number;
      let prev = normCdf(((edges[0] as number) - mu) * is);
      for (let e = 0; e < cells; e++) {
        const next = normCdf(((edges[e + 1] as number) - mu) * is);
        out[e] = (out[e] as number) + c * (next - prev);
        prev = next;
      }
    }
    return out;
  }

  /** The kernels merged where centre and width are equal, their mass coefficients summed. */
  private distinctMassKernels(): { mus: number[]; invSigma: number[]; coefs: number[] } {
    const out = { mus: [] as number[], invSigma: [] as number[], coefs: [] as number[] };
    const seen = new Map<number, number[]>(); // centre → indices into out
    for (let i = 0; i < this.mus.length; i++) {
      const mu = this.mus[i] as number;
      const is = this.invSigma[i] as number;
      const same = seen.get(mu);
      const at = same?.find((j) => out.invSigma[j] === is);
      if (at !== undefined) {
        out.coefs[at] = (out.coefs[at] as number) + (this.massCoef[i] as number);
        continue;
      }
      out.mus.push(mu);
      out.invSigma.push(is);
      out.coefs.push(this.massCoef[i] as number);
      if (same) same.push(out.mus.length - 1);
      else seen.set(mu, [out.mus.length - 1]);
    }
    return out;
  }

  /**
   * Log of each kernel's own mass of each cell between consecutive `edges` (an int's values), as
   * distinct rows (one per distinct centre and bandwidth: an int's kernels sit on a few cell
   * centres, mostly with one shared bandwidth) and, per kernel, the row that is its own. The same
   * numbers as one row per kernel, from a few dozen CDF evaluations instead of one per kernel and
   * edge, and without a kernels × cells table to allocate.
   */
  cellLogMassRows(edges: Float64Array): { rowOf: Int32Array; rows: Float64Array; cells: number } {
    const cells = edges.length - 1;
    const K = this.mus.length;
    const rowOf = this.alloc.i32(K);
    const found: number[] = [];
    const seen = new Map<number, Array<{ is: number; lz: number; row: number }>>();
    for (let i = 0; i < K; i++) {
      const mu = this.mus[i] as number;
      const is = this.invSigma[i] as number;
      const lz = this.logZ[i] as number;
      const same = seen.get(mu);
      let row = -1;
      if (same) for (const e of same) if (e.is === is && e.lz === lz) row = e.row;
      if (row < 0) {
        row = found.length / 3;
        found.push(mu, is, lz);
        if (same) same.push({ is, lz, row });
        else seen.set(mu, [{ is, lz, row }]);
      }
      rowOf[i] = row;
    }
    const distinct = found.length / 3;
    const rows = this.alloc.f64(distinct * cells);
    for (let r = 0; r < distinct; r++) {
      const mu = found[3 * r] as number;
      const is = found[3 * r + 1] as number;
      const lz = found[3 * r + 2] as number;
      let prev = normCdf(((edges[0] as number) - mu) * is);
      for (let e = 0; e < cells; e++) {
        const next = normCdf(((edges[e + 1] as number) - mu) * is);
        const mass = next - prev;
        rows[r * cells + e] = (mass > 1e-300 ? Math.log(mass) : LOG_TINY) - lz;
        prev = next;
      }
    }
    return { rowOf, rows, cells };
  }

  /** log mass of kernel i alone on [lo, hi]. */
  kernelLogMass(i: number, lo: number, hi: number): number {
    const mu = this.mus[i] as number;
    const s = this.sigmas[i] as number;
    const m = normCdf((hi - mu) / s) - normCdf((lo - mu) / s);
    return Math.log(Math.max(1e-300, (m * (this.massCoef[i] as number)) / (this.weights[i] as number)));
  }
}

/**
 * Smoothed one-hot kernels over `choices` categories: kernel i puts (1 + a)/(1 + C·a) on its
 * observed category and a/(1 + C·a) on each other, a = priorWeight/(m + 1); the prior is uniform.
 */
export class CategoricalParzen {
  /** Mixture probability of each category. */
  readonly probs: Float64Array;
  readonly observed: Int32Array;
  readonly weights: Float64Array;
  private readonly smooth: number;
  private readonly choices: number;
  private readonly cumulative: Float64Array;

  /** `observations`: the trials behind the kernels, when merged kernels stand for more trials than there are kernels (tpe-compact.ts). */
  constructor(
    observed: ArrayLike<number>,
    weights: Float64Array,
    choices: number,
    priorWeight: number,
    observations = observed.length,
    alloc: TypedAlloc = fresh,
  ) {
    const m = observed.length;
    this.observed = alloc.i32(m);
    for (let i = 0; i < m; i++) this.observed[i] = observed[i] as number;
    this.weights = weights;
    this.choices = choices;
    this.smooth = priorWeight / (observations + 1);
    const norm = 1 + choices * this.smooth;
    this.probs = alloc.f64(choices);
    let obsWeight = 0;
    for (let i = 0; i < m; i++) {
      obsWeight += weights[i] as number;
      const c = this.observed[i] as number;
      this.probs[c] = (this.probs[c] as number) + (weights[i] as number) / norm;
    }
    const prior = weights[m] as number;
    for (let c = 0; c < choices; c++) this.probs[c] = (this.probs[c] as number) + (obsWeight * this.smooth) / norm + prior / choices;
    this.cumulative = alloc.f64(m + 1);
    let acc = 0;
    for (let i = 0; i <= m; i++) {
      acc += weights[i] as number;
      this.cumulative[i] = acc;
    }
  }

  pickKernel(rng: Rng): number {
    return pickWeighted(this.cumulative, rng);
  }

  /** A category drawn from kernel i. */
  sampleKernel(rng: Rng, i: number): number {
    if (i >= this.observed.length) return rng.int(this.choices);
    const own = this.observed[i] as number;
    const norm = 1 + this.choices * this.smooth;
    let u = rng.next() * norm;
    if (u < 1) return own;
    u -= 1;
    return Math.min(this.choices - 1, Math.floor(u / this.smooth));
  }

  /** log probability a kernel gives its own category, and each other one. */
  get logOwnOther(): [number, number] {
    const norm = 1 + this.choices * this.smooth;
    return [Math.log((1 + this.smooth) / norm), Math.log(this.smooth / norm)];
  }

  get choiceCount(): number {
    return this.choices;
  }
}

/** An index drawn with probability proportional to its weight, given the cumulative weights. */
function pickWeighted(cumulative: Float64Array, rng: Rng): number {
  const u = rng.next() * (cumulative[cumulative.length - 1] as number);
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cumulative[mid] as number) > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
