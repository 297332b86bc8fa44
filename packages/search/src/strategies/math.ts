/** Small numeric helpers shared by the model-based strategies (TPE, GP). */

const SQRT2 = Math.SQRT2;
export const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
export const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7
 * everywhere), which is plenty for kernel masses and acquisition values.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF. */
export function normCdf(x: number): number {
  // Past ±8.5σ the tail is below 1e-17: skip the exp (most kernel/edge pairs of a crowded mixture).
  if (x < -8.5) return 0;
  if (x > 8.5) return 1;
  return 0.5 * erfc(-x / SQRT2);
}

/** Standard normal density. */
export function normPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** log of a sum of exps, stable; -Infinity for an empty or all -Infinity input. */
export function logSumExp(values: ArrayLike<number>, length = values.length): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < length; i++) if ((values[i] as number) > max) max = values[i] as number;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let s = 0;
  for (let i = 0; i < length; i++) {
    const d = (values[i] as number) - max;
    // Terms below e^-40 of the largest cannot change the sum: skip their exp.
    if (d > -40) s += Math.exp(d);
  }
  return max + Math.log(s);
}

/**
 * log(h(z)) with h(z) = z·Φ(z) + φ(z), the standardised expected improvement. For very negative z,
 * h underflows, so use the asymptotic series of the Mills ratio there: log-EI keeps ranking
 * candidates far from the incumbent instead of flattening them all to −∞.
 */
export function logH(z: number): number {
  if (z > -6) {
    const h = z * normCdf(z) + normPdf(z);
    return Math.log(Math.max(h, 1e-300));
  }
  const z2 = z * z;
  // h(z) = φ(z)/z² · (1 − 3/z² + 15/z⁴ − …) for z → −∞
  return -0.5 * z2 - LOG_SQRT_2PI - Math.log(z2) + Math.log1p(-3 / z2 + 15 / (z2 * z2));
}
