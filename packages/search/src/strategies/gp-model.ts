import { choleskyInto, inverseFromCholesky, robustCholesky, solveLower, solveUpper } from './gp-linalg.ts';

const SQRT5 = Math.sqrt(5);

/** Kernel hyperparameters on log scale: lengthscales (one per input), signal variance, noise variance. */
export interface Hyper {
  logLengthscales: Float64Array;
  logSignal: number;
  logNoise: number;
}

/** Bounds and (log-normal) priors that keep the fit sane on a handful of points. */
const BOUNDS = {
  lengthscale: [Math.log(0.01), Math.log(20)],
  signal: [Math.log(0.05), Math.log(20)],
  noise: [Math.log(1e-6), Math.log(1)],
} as const;
const PRIOR = {
  lengthscale: { mean: Math.log(0.4), sd: 1.2 },
  signal: { mean: 0, sd: 1 },
  noise: { mean: Math.log(1e-3), sd: 2 },
} as const;

/** Matérn 5/2 with ARD: s²(1 + √5 r + 5r²/3) e^{−√5 r}, r the lengthscale-weighted distance. */
function matern(r2: number, signal: number): number {
  const r = Math.sqrt(r2);
  return signal * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
}

function scaledDist2(x: Float64Array, i: number, z: Float64Array, j: number, d: number, invLs2: Float64Array): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const diff = (x[i * d + k] as number) - (z[j * d + k] as number);
    s += diff * diff * (invLs2[k] as number);
  }
  return s;
}

function unpack(theta: Float64Array, d: number): Hyper {
  return { logLengthscales: theta.slice(0, d), logSignal: theta[d] as number, logNoise: theta[d + 1] as number };
}

function clampTheta(theta: Float64Array, d: number): void {
  for (let k = 0; k < d + 2; k++) {
    const [lo, hi] = k < d ? BOUNDS.lengthscale : k === d ? BOUNDS.signal : BOUNDS.noise;
    theta[k] = Math.min(hi, Math.max(lo, theta[k] as number));
  }
}

/**
 * Negative log posterior of the hyperparameters (negative log marginal likelihood plus the
 * log-normal priors) and its analytic gradient: ½ tr((ααᵀ − K⁻¹) ∂K/∂θ) for each θ.
 */
function objective(theta: Float64Array, x: Float64Array, y: Float64Array, n: number, d: number, grad: Float64Array): number {
  const signal = Math.exp(theta[d] as number);
  const noise = Math.exp(theta[d + 1] as number);
  const invLs2 = new Float64Array(d);
  for (let k = 0; k < d; k++) invLs2[k] = Math.exp(-2 * (theta[k] as number));
  const kmat = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = matern(scaledDist2(x, i, x, j, d, invLs2), signal);
      kmat[i * n + j] = v;
      kmat[j * n + i] = v;
    }
    kmat[i * n + i] = (kmat[i * n + i] as number) + noise + 1e-8;
  }
  const l = new Float64Array(n * n);
  if (!choleskyInto(kmat, n, l)) {
    grad.fill(0);
    return Number.POSITIVE_INFINITY;
  }
  const alpha = solveUpper(l, n, solveLower(l, n, Float64Array.from(y)));
  let nll = 0;
  for (let i = 0; i < n; i++) nll += 0.5 * (y[i] as number) * (alpha[i] as number) + Math.log(l[i * n + i] as number);
  nll += 0.5 * n * Math.log(2 * Math.PI);
  // W = ααᵀ − K⁻¹
  const w = inverseFromCholesky(l, n);
  for (let i = 0; i < n * n; i++) w[i] = -(w[i] as number);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) w[i * n + j] = (w[i * n + j] as number) + (alpha[i] as number) * (alpha[j] as number);
  grad.fill(0);
  let gSignal = 0;
  let gNoise = 0;
  for (let i = 0; i < n; i++) {
    gNoise += (w[i * n + i] as number) * noise;
    for (let j = 0; j < i; j++) {
      const r2 = scaledDist2(x, i, x, j, d, invLs2);
      const r = Math.sqrt(r2);
      const e = Math.exp(-SQRT5 * r);
      const wij = 2 * (w[i * n + j] as number); // symmetric pair
      gSignal += wij * signal * (1 + SQRT5 * r + (5 / 3) * r2) * e;
      // ∂k/∂log ℓ_k = s² (5/3)(1 + √5 r) e^{−√5 r} · Δ_k²/ℓ_k²
      const common = wij * signal * (5 / 3) * (1 + SQRT5 * r) * e;
      for (let k = 0; k < d; k++) {
        const diff = (x[i * d + k] as number) - (x[j * d + k] as number);
        grad[k] = (grad[k] as number) + common * diff * diff * (invLs2[k] as number);
      }
    }
    gSignal += (w[i * n + i] as number) * signal;
  }
  // grad holds ½ tr(W ∂K) for the likelihood; the objective is its negative.
  for (let k = 0; k < d; k++) grad[k] = -0.5 * (grad[k] as number);
  grad[d] = -0.5 * gSignal;
  grad[d + 1] = -0.5 * gNoise;
  // Priors.
  const addPrior = (k: number, p: { mean: number; sd: number }) => {
    const z = ((theta[k] as number) - p.mean) / p.sd;
    nll += 0.5 * z * z;
    grad[k] = (grad[k] as number) + z / p.sd;
  };
  for (let k = 0; k < d; k++) addPrior(k, PRIOR.lengthscale);
  addPrior(d, PRIOR.signal);
  addPrior(d + 1, PRIOR.noise);
  return nll;
}

/** Projected L-BFGS (memory 6) with Armijo backtracking. */
function lbfgs(
  f: (t: Float64Array, g: Float64Array) => number,
  start: Float64Array,
  d: number,
  maxIter: number,
): { theta: Float64Array; value: number } {
  const p = start.length;
  let theta = Float64Array.from(start);
  clampTheta(theta, d);
  let g = new Float64Array(p);
  let value = f(theta, g);
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  for (let iter = 0; iter < maxIter && Number.isFinite(value); iter++) {
    // Two-loop recursion for the direction.
    const q = Float64Array.from(g);
    const alphas: number[] = [];
    for (let m = ss.length - 1; m >= 0; m--) {
      const s = ss[m] as Float64Array;
      const yv = ys[m] as Float64Array;
      const rho = 1 / dot(yv, s);
      const a = rho * dot(s, q);
      alphas[m] = a;
      for (let i = 0; i < p; i++) q[i] = (q[i] as number) - a * (yv[i] as number);
    }
    if (ss.length > 0) {
      const s = ss[ss.length - 1] as Float64Array;
      const yv = ys[ys.length - 1] as Float64Array;
      const gamma = dot(s, yv) / dot(yv, yv);
      for (let i = 0; i < p; i++) q[i] = (q[i] as number) * gamma;
    } else {
      const norm = Math.sqrt(dot(g, g)) || 1;
      for (let i = 0; i < p; i++) q[i] = (q[i] as number) / Math.max(1, norm);
    }
    for (let m = 0; m < ss.length; m++) {
      const s = ss[m] as Float64Array;
      const yv = ys[m] as Float64Array;
      const rho = 1 / dot(yv, s);
      const b = rho * dot(yv, q);
      for (let i = 0; i < p; i++) q[i] = (q[i] as number) + (s[i] as number) * ((alphas[m] as number) - b);
    }
    // Direction −q; fall back to steepest descent if it is not a descent direction.
    let slope = -dot(g, q);
    if (!(slope < 0)) {
      q.set(g);
      slope = -dot(g, g);
      ss.length = 0;
      ys.length = 0;
    }
    let step = 1;
    let next = new Float64Array(p);
    let nextG = new Float64Array(p);
    let nextValue = Number.POSITIVE_INFINITY;
    for (let ls = 0; ls < 20; ls++) {
      for (let i = 0; i < p; i++) next[i] = (theta[i] as number) - step * (q[i] as number);
      clampTheta(next, d);
      nextValue = f(next, nextG);
      if (nextValue <= value + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(nextValue < value)) break;
    const s = new Float64Array(p);
    const yv = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      s[i] = (next[i] as number) - (theta[i] as number);
      yv[i] = (nextG[i] as number) - (g[i] as number);
    }
    if (dot(s, yv) > 1e-12) {
      ss.push(s);
      ys.push(yv);
      if (ss.length > 6) {
        ss.shift();
        ys.shift();
      }
    }
    const improvement = value - nextValue;
    theta = next;
    g = nextG;
    value = nextValue;
    next = new Float64Array(p);
    nextG = new Float64Array(p);
    if (improvement < 1e-7 * Math.max(1, Math.abs(value))) break;
  }
  return { theta, value };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Fits the hyperparameters by maximum a posteriori from a few fixed starts; keeps the best. */
export function fitHyper(x: Float64Array, y: Float64Array, n: number, d: number, maxIter = 60): Hyper {
  const starts = [
    [Math.log(0.4), 0, Math.log(1e-3)],
    [Math.log(0.15), 0, Math.log(1e-5)],
    [Math.log(1.5), 0, Math.log(1e-2)],
  ];
  let best: { theta: Float64Array; value: number } | undefined;
  for (const [ls, sig, noise] of starts) {
    const start = new Float64Array(d + 2).fill(ls as number);
    start[d] = sig as number;
    start[d + 1] = noise as number;
    const r = lbfgs((t, g) => objective(t, x, y, n, d, g), start, d, maxIter);
    if (!best || r.value < best.value) best = r;
  }
  return unpack((best as { theta: Float64Array }).theta, d);
}

/** A GP conditioned on data with fixed hyperparameters: posterior mean and variance at new points. */
export class GaussianProcess {
  private readonly l: Float64Array;
  private readonly alpha: Float64Array;
  private readonly invLs2: Float64Array;
  private readonly signal: number;
  private readonly kstar: Float64Array;

  constructor(
    private readonly x: Float64Array,
    y: Float64Array,
    private readonly n: number,
    private readonly d: number,
    hyper: Hyper,
  ) {
    this.signal = Math.exp(hyper.logSignal);
    const noise = Math.exp(hyper.logNoise);
    this.invLs2 = new Float64Array(d);
    for (let k = 0; k < d; k++) this.invLs2[k] = Math.exp(-2 * (hyper.logLengthscales[k] as number));
    const kmat = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const v = matern(scaledDist2(x, i, x, j, d, this.invLs2), this.signal);
        kmat[i * n + j] = v;
        kmat[j * n + i] = v;
      }
      kmat[i * n + i] = (kmat[i * n + i] as number) + noise;
    }
    this.l = robustCholesky(kmat, n).l;
    this.alpha = solveUpper(this.l, n, solveLower(this.l, n, Float64Array.from(y)));
    this.kstar = new Float64Array(n);
  }

  /** Posterior mean and variance at point `j` of the row-major `z`. */
  predict(z: Float64Array, j: number): { mean: number; variance: number } {
    const { n, d, kstar } = this;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const k = matern(scaledDist2(this.x, i, z, j, d, this.invLs2), this.signal);
      kstar[i] = k;
      mean += k * (this.alpha[i] as number);
    }
    solveLower(this.l, n, kstar);
    let reduction = 0;
    for (let i = 0; i < n; i++) reduction += (kstar[i] as number) * (kstar[i] as number);
    return { mean, variance: Math.max(1e-12, this.signal - reduction) };
  }
}
