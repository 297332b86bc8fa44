/**
 * Optimistic extrapolation of a noisy learning curve, for the learning-curve stopping rule.
 *
 * Model: y(t) = a + c·g(t), where g(t) = r^t for a rate r in (0, 1) (a curve that saturates
 * exponentially with time constant τ = −1/ln r) or g(t) = t (its limit for τ → ∞: a straight
 * line, the fastest a concave curve can keep rising). For a fixed shape g, a and c are an
 * ordinary least-squares fit, so the shape is chosen by profiling: every τ on a log grid is
 * fitted, and every shape whose residual sum of squares is within z²·σ² of the best one is
 * plausible (the profile-likelihood interval for τ at z standard deviations). The upper bound of
 * a prediction is the largest, over the plausible shapes, of the fitted value plus z times the
 * standard error of a single new measurement (the fit's own uncertainty plus the noise σ).
 *
 * With two rising points every shape fits exactly and the straight line through them rises
 * fastest, so it sets the bound: a flat curve is caught early, a rising one is never written off
 * before its bend shows. (For two falling points a flattening exponential is the most optimistic.)
 */

export interface CurvePoint {
  t: number;
  y: number;
}

export interface UpperBoundOptions {
  /** The measurement noise (a standard deviation) of a single epoch's value. */
  sigma: number;
  /** How many standard deviations of optimism (both for the shape and for the prediction). */
  z: number;
  /** A point the curve is known to pass through exactly (e.g. the metric's value before training). */
  anchor?: CurvePoint;
  /**
   * Exponents α of power-law shapes g(t) = (1 + t/τ)^−α tried beside the exponentials (every τ
   * of the grid): curves that approach their limit as a power of time keep rising long after an
   * exponential fitted to their start has flattened (Domhan et al.'s pow and Janoschek families).
   */
  powerExponents?: readonly number[];
  /**
   * The longest time constant (in epochs) a curve may have: shapes slower than this, and the
   * straight line, are not tried. A curve must bend within it — what an optimiser's curves do
   * when the epochs run out near their plateaus — so a slow, nearly straight climb is not
   * extrapolated as a line to far above its peers. Unbounded by default.
   */
  maxTimeConstant?: number;
}

/** Time constants tried, in epochs: 0.25 … 4096, 8 per octave. */
const TIME_CONSTANTS = Array.from({ length: 14 * 8 + 1 }, (_, i) => 0.25 * 2 ** (i / 8));

interface ShapeFit {
  sse: number;
  /** Fitted value at t, and the variance factor of that fitted value (times σ²). */
  predict(t: number): { value: number; varianceFactor: number };
}

/**
 * Least squares for y = a + c·g(t). Without an anchor, a and c are both fitted (centred on the
 * means); with one, the curve must pass through it exactly, so only c is fitted.
 */
function fitShape(points: readonly CurvePoint[], g: (t: number) => number, anchor?: CurvePoint): ShapeFit | undefined {
  const n = points.length;
  const gs = points.map((p) => g(p.t));
  let gCentre = 0;
  let yCentre = 0;
  if (anchor) {
    gCentre = g(anchor.t);
    yCentre = anchor.y;
  } else {
    for (let i = 0; i < n; i++) {
      gCentre += (gs[i] as number) / n;
      yCentre += (points[i] as CurvePoint).y / n;
    }
  }
  let sgg = 0;
  let sgy = 0;
  for (let i = 0; i < n; i++) {
    const dg = (gs[i] as number) - gCentre;
    sgg += dg * dg;
    sgy += dg * ((points[i] as CurvePoint).y - yCentre);
  }
  // A shape that is flat over the observed epochs (τ far below their spacing) explains nothing.
  if (!(sgg > 1e-12 * Math.max(1, gCentre * gCentre))) return undefined;
  const c = sgy / sgg;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = (points[i] as CurvePoint).y - (yCentre + c * ((gs[i] as number) - gCentre));
    sse += r * r;
  }
  const centreVariance = anchor ? 0 : 1 / n;
  return {
    sse,
    predict(t) {
      const dg = g(t) - gCentre;
      return { value: yCentre + c * dg, varianceFactor: centreVariance + (dg * dg) / sgg };
    },
  };
}

function shapesFor(
  points: readonly CurvePoint[],
  anchor?: CurvePoint,
  powerExponents: readonly number[] = [],
  maxTimeConstant = Number.POSITIVE_INFINITY,
): ShapeFit[] {
  const shapes: ShapeFit[] = [];
  const linear = Number.isFinite(maxTimeConstant) ? undefined : fitShape(points, (t) => t, anchor);
  if (linear) shapes.push(linear);
  for (const tau of TIME_CONSTANTS) {
    if (tau > maxTimeConstant) break;
    const fit = fitShape(points, (t) => Math.exp(-t / tau), anchor);
    if (fit) shapes.push(fit);
    for (const alpha of powerExponents) {
      const power = fitShape(points, (t) => (1 + Math.max(t, 0) / tau) ** -alpha, anchor);
      if (power) shapes.push(power);
    }
  }
  return shapes;
}

/**
 * The residual of a curve's best-fitting shape (3 parameters: a, c and τ): its sum of squares and
 * degrees of freedom, for pooling into a noise estimate. What the model explains (the rise) is not
 * counted as noise, unlike the spread of raw epoch-to-epoch differences on a curve still bending.
 * Undefined for a curve of fewer than 4 points (no residual freedom left).
 */
export function curveResidual(points: readonly CurvePoint[]): { sse: number; dof: number } | undefined {
  if (points.length < 4) return undefined;
  const shapes = shapesFor(points);
  if (shapes.length === 0) return undefined;
  return { sse: Math.min(...shapes.map((s) => s.sse)), dof: points.length - 3 };
}

/**
 * The optimistic (upper) bound of the curve's value at each of `at`, from points at distinct
 * epochs. Undefined with fewer than two points (counting the anchor).
 */
export function upperBounds(points: readonly CurvePoint[], at: readonly number[], options: UpperBoundOptions): number[] | undefined {
  if (points.length + (options.anchor ? 1 : 0) < 2) return undefined;
  const shapes = shapesFor(points, options.anchor, options.powerExponents, options.maxTimeConstant);
  if (shapes.length === 0) return undefined;
  const { sigma, z } = options;
  // A non-finite SSE (values near the float limit) would empty the plausible set: such shapes are dropped.
  const finite = shapes.filter((s) => Number.isFinite(s.sse));
  if (finite.length === 0) return undefined;
  const bestSse = Math.min(...finite.map((s) => s.sse));
  const plausible = finite.filter((s) => s.sse <= bestSse + z * z * sigma * sigma);
  return at.map((t) => {
    let upper = Number.NEGATIVE_INFINITY;
    for (const shape of plausible) {
      const { value, varianceFactor } = shape.predict(t);
      upper = Math.max(upper, value + z * sigma * Math.sqrt(1 + varianceFactor));
    }
    return upper;
  });
}
