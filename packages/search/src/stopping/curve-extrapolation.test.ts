import { Rng } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { type CurvePoint, curveResidual, upperBounds } from './curve-extrapolation.ts';

/** y(t) = final − (final − start)·exp(−t/τ) at epochs 1..n, plus N(0, σ²) noise from `rng`. */
function saturating(n: number, final: number, tau: number, sigma = 0, rng?: Rng, start = 0.5): CurvePoint[] {
  return Array.from({ length: n }, (_, i) => {
    const t = i + 1;
    return { t, y: final - (final - start) * Math.exp(-t / tau) + (rng ? sigma * rng.normal() : 0) };
  });
}

describe('upperBounds', () => {
  it('needs two points', () => {
    expect(upperBounds([], [5], { sigma: 0.01, z: 2 })).toBeUndefined();
    expect(upperBounds([{ t: 1, y: 0.6 }], [5], { sigma: 0.01, z: 2 })).toBeUndefined();
  });

  it('with two points, is the straight line through them plus its prediction error', () => {
    const [at2, at10] = upperBounds(
      [
        { t: 1, y: 0.6 },
        { t: 2, y: 0.7 },
      ],
      [2, 10],
      { sigma: 0.01, z: 2 },
    ) as number[];
    // Line: 0.5 + 0.1·t. Variance factor at t: 1/2 + (t − 1.5)²/0.5.
    expect(at2).toBeCloseTo(0.7 + 2 * 0.01 * Math.sqrt(1 + 0.5 + 0.25 / 0.5), 9);
    expect(at10).toBeCloseTo(1.5 + 2 * 0.01 * Math.sqrt(1 + 0.5 + 72.25 / 0.5), 9);
  });

  it('on an exact saturating curve, sees the plateau coming: the bound sits just above the true value', () => {
    const points = saturating(6, 0.9, 2);
    const [at20] = upperBounds(points, [20], { sigma: 0.001, z: 2 }) as number[];
    expect(at20).toBeGreaterThan(0.9);
    expect(at20).toBeLessThan(0.9 + 0.02);
  });

  it('anchored at an exact first point, extrapolates from one more point: the line through both', () => {
    const anchor = { t: 0, y: 0.5 };
    const [at20] = upperBounds([{ t: 1, y: 0.52 }], [20], { sigma: 0.01, z: 2, anchor }) as number[];
    // Every shape fits exactly; the line rises fastest: 0.5 + 20·0.02, its variance factor 20²/1².
    expect(at20).toBeCloseTo(0.9 + 2 * 0.01 * Math.sqrt(1 + 400), 9);
  });

  it('anchored, fits a saturating curve from its start: the bound sits just above the true value', () => {
    const anchor = { t: 0, y: 0.5 };
    const points = saturating(3, 0.9, 2);
    const [at20] = upperBounds(points, [20], { sigma: 0.001, z: 2, anchor }) as number[];
    expect(at20).toBeGreaterThan(0.9);
    expect(at20).toBeLessThan(0.9 + 0.01);
    // Without the anchor three points leave the shape far less certain.
    const [free] = upperBounds(points, [20], { sigma: 0.001, z: 2 }) as number[];
    expect(free).toBeGreaterThan(at20 as number);
  });

  it('with power-law shapes, does not write off a curve that approaches its plateau as a power of time', () => {
    // y = 0.95 − 0.45·(1 + t/1.1)^−1.2: steep at first, then still rising at epoch 20 (0.937 there).
    const points = Array.from({ length: 6 }, (_, i) => ({ t: i + 1, y: 0.95 - 0.45 * (1 + (i + 1) / 1.1) ** -1.2 }));
    const truth = 0.95 - 0.45 * (1 + 20 / 1.1) ** -1.2;
    const anchor = { t: 0, y: 0.5 };
    const [exponential] = upperBounds(points, [20], { sigma: 0.001, z: 2, anchor }) as number[];
    const [power] = upperBounds(points, [20], { sigma: 0.001, z: 2, anchor, powerExponents: [1] }) as number[];
    expect(exponential).toBeLessThan(truth - 0.03); // exponentials fitted to its start flatten too soon
    expect(power).toBeGreaterThan(truth);
    expect(power).toBeLessThan(truth + 0.02);
  });

  it('with maxTimeConstant, extrapolates a straight climb as a curve that bends within it, not as a line', () => {
    const anchor = { t: 0, y: 0.5 };
    const climb = Array.from({ length: 8 }, (_, i) => ({ t: i + 1, y: 0.5 + 0.03 * (i + 1) }));
    const [line] = upperBounds(climb, [20], { sigma: 0.005, z: 2, anchor }) as number[];
    const [bent3] = upperBounds(climb, [20], { sigma: 0.005, z: 2, anchor, maxTimeConstant: 3 }) as number[];
    const [bent8] = upperBounds(climb, [20], { sigma: 0.005, z: 2, anchor, maxTimeConstant: 8 }) as number[];
    expect(line).toBeGreaterThan(1.05);
    expect(bent8).toBeLessThan(line as number);
    expect(bent3).toBeLessThan(bent8 as number);
    // One anchored point: the line through it no longer sets the bound.
    const [one] = upperBounds([{ t: 1, y: 0.52 }], [20], { sigma: 0.01, z: 2, anchor, maxTimeConstant: 3 }) as number[];
    expect(one).toBeLessThan(0.65);
    // A curve that does bend within the limit is still bounded just above its plateau.
    const tau2 = Array.from({ length: 4 }, (_, i) => ({ t: i + 1, y: 0.9 - 0.4 * Math.exp(-(i + 1) / 2) }));
    const [plateau] = upperBounds(tau2, [20], { sigma: 0.001, z: 2, anchor, maxTimeConstant: 3 }) as number[];
    expect(plateau).toBeGreaterThan(0.9);
    expect(plateau).toBeLessThan(0.91);
  });

  it('for a falling curve, bounds the next epoch above the horizon (the rule asks for both)', () => {
    const falling = [0.9, 0.89, 0.88, 0.87, 0.86].map((y, i) => ({ t: i + 1, y }));
    const [next, horizon] = upperBounds(falling, [6, 20], { sigma: 0.002, z: 2 }) as number[];
    expect(next).toBeGreaterThan(horizon ?? Number.POSITIVE_INFINITY);
    expect(next).toBeLessThan(0.87);
  });

  it('covers the true final value of noisy curves at least as often as its confidence says', () => {
    const rng = new Rng('coverage');
    let covered = 0;
    let total = 0;
    for (let i = 0; i < 400; i++) {
      const final = 0.6 + 0.35 * rng.next();
      const tau = 0.5 + 8 * rng.next();
      const n = 2 + rng.int(6);
      const points = saturating(n, final, tau, 0.005, rng);
      const [upper] = upperBounds(points, [20], { sigma: 0.005, z: 2 }) as number[];
      const truth = final - (final - 0.5) * Math.exp(-20 / tau);
      total++;
      if (upper !== undefined && upper >= truth) covered++;
    }
    // z = 2 is a one-sided 97.7 % bound for a known shape; profiling the shape only widens it.
    expect(covered / total).toBeGreaterThan(0.97);
  });

  it('is tighter the more of the curve it has seen', () => {
    const rng = new Rng('tighter');
    const full = saturating(12, 0.85, 2, 0.005, rng);
    const widths = [3, 5, 8, 12].map((n) => (upperBounds(full.slice(0, n), [20], { sigma: 0.005, z: 2 }) as number[])[0] as number);
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeLessThan(widths[i - 1] as number);
  });
});

describe('curveResidual', () => {
  it('is zero for an exact saturating curve or a line, and needs four points', () => {
    expect(curveResidual(saturating(3, 0.9, 2))).toBeUndefined();
    expect(curveResidual(saturating(10, 0.9, 2))?.sse).toBeLessThan(1e-6);
    expect(curveResidual(Array.from({ length: 6 }, (_, i) => ({ t: i + 1, y: 0.5 + 0.01 * i })))?.sse).toBeLessThan(1e-20);
  });

  /** √(Σ SSE / Σ dof) over `count` noisy saturating curves of `length` epochs with noise sd 0.005. */
  function pooledNoise(length: number, count: number, seed: string): number {
    const rng = new Rng(seed);
    let sse = 0;
    let dof = 0;
    for (let i = 0; i < count; i++) {
      const r = curveResidual(saturating(length, 0.7 + 0.25 * rng.next(), 0.5 + 5 * rng.next(), 0.005, rng));
      sse += r?.sse ?? 0;
      dof += r?.dof ?? 0;
    }
    return Math.sqrt(sse / dof);
  }

  it('pools to the noise sd of noisy curves, not to the size of their rise', () => {
    expect(pooledNoise(20, 40, 'residual')).toBeGreaterThan(0.0045);
    expect(pooledNoise(20, 40, 'residual')).toBeLessThan(0.0055);
  });

  it('counts three fitted parameters: short noisy curves pool to the noise sd too', () => {
    // Profiling τ fits a little of the noise too, so short curves read a few per cent low.
    expect(pooledNoise(5, 400, 'short')).toBeGreaterThan(0.0043);
    expect(pooledNoise(5, 400, 'short')).toBeLessThan(0.0055);
  });
});
