import { Rng, type Space, sampleSpace } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { COMPACT_ABOVE, compactKernels } from './tpe-compact.ts';
import { Rows, buildModel, encodeInto } from './tpe-model.ts';
import { tpeOptions } from './tpe-options.ts';
import { mixtureWeights } from './tpe-parzen.ts';

const space: Space = {
  lr: { type: 'float', low: 1e-8, high: 1e-1, log: true },
  optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
  frozen: { type: 'int', low: 0, high: 10, step: 1, log: false },
};
const model = buildModel(space, tpeOptions.parse({}));

function history(count: number, seed: string): { rows: Rows; group: Int32Array; weights: Float64Array } {
  const rng = new Rng(seed);
  const rows = new Rows(model.dims.length, count);
  // Clustered like a real study's bad trials: most near a few rates, some anywhere.
  for (let i = 0; i < count; i++) {
    const params = sampleSpace(space, rng);
    if (rng.next() < 0.7) params.lr = 10 ** (-4 + 0.5 * rng.normal());
    encodeInto(model, rows, params);
  }
  return { rows, group: Int32Array.from({ length: count }, (_, i) => i), weights: mixtureWeights(count, 1) };
}

/** Un-normalised joint density: a normal in each numeric coordinate, the kernel's own category only (the prior left out). */
function logDensity(columns: Float64Array[], weights: Float64Array, kernels: number, sigma: number, point: number[]): number {
  let sum = 0;
  for (let i = 0; i < kernels; i++) {
    if (columns[1]?.[i] !== point[1]) continue;
    const zl = (point[0] as number) - (columns[0]?.[i] as number);
    const zf = (point[2] as number) - (columns[2]?.[i] as number);
    sum += (weights[i] as number) * Math.exp((-0.5 * (zl * zl + zf * zf)) / (sigma * sigma));
  }
  return Math.log(sum);
}

describe('compactKernels', () => {
  it('leaves small mixtures exact', () => {
    const { rows, group, weights } = history(COMPACT_ABOVE, 'small');
    expect(compactKernels(model, rows, group, weights, 0.1)).toBeUndefined();
  });

  it('merges 10,000 kernels into far fewer, keeping every weight and the density within 0.03 nats', () => {
    const count = 10_000;
    const { rows, group, weights } = history(count, 'large');
    const sigma = 0.2 * count ** (-1 / 7);
    const compact = compactKernels(model, rows, group, weights, sigma);
    if (!compact) throw new Error('no compaction at 10,000 kernels');
    const kernels = compact.weights.length - 1;
    expect(kernels).toBeLessThan(count / 2);
    const total = (w: Float64Array) => w.reduce((a, b) => a + b, 0);
    expect(total(compact.weights)).toBeCloseTo(total(weights), 12);
    expect(compact.weights[kernels]).toBe(weights[count]); // the prior untouched

    const exact = [0, 1, 2].map((col) => Float64Array.from(group, (r) => rows.at(r, col)));
    const rng = new Rng('points');
    let worst = 0;
    for (let p = 0; p < 300; p++) {
      // Points where candidates land: near some trial, as draws from the good density are.
      const near = rng.int(count);
      const point = [(exact[0]?.[near] as number) + sigma * rng.normal(), exact[1]?.[near] as number, exact[2]?.[near] as number];
      const diff = logDensity(compact.columns, compact.weights, kernels, sigma, point) - logDensity(exact, weights, count, sigma, point);
      worst = Math.max(worst, Math.abs(diff));
    }
    expect(worst).toBeLessThan(0.03);
  });
});
