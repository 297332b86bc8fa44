import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOptimizer, learningRateAt, setLearningRate } from './optimizer.ts';
import { resolveTrainingParams } from './params.ts';

/**
 * Two steps of each optimizer on a tiny dense layer whose loss is linear in the kernel
 * (loss = Σ x·W), so the gradient is the constant g = Σ_batch x and every update can be
 * written out by hand.
 */
const x = [
  [1, 2],
  [3, -1],
];
const w0 = [0.5, -0.3];
const g = [1 + 3, 2 - 1]; // ∂/∂W Σ_n Σ_i x[n,i]·W[i]

function twoSteps(params: Record<string, string | number>, lrSecondStep?: number): number[] {
  const p = resolveTrainingParams(params);
  const optimizer = buildOptimizer(p);
  const layer = tf.layers.dense({ units: 1, useBias: false, kernelInitializer: tf.initializers.constant({ value: 0 }) });
  const input = tf.tensor2d(x);
  layer.apply(input);
  layer.setWeights([tf.tensor2d(w0, [2, 1])]);
  const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  const step = () => optimizer.minimize(() => tf.sum(layer.apply(input) as tf.Tensor) as tf.Scalar, false, vars);
  step();
  if (lrSecondStep !== undefined) setLearningRate(optimizer, lrSecondStep);
  step();
  const out = Array.from(layer.getWeights()[0]!.dataSync());
  optimizer.dispose();
  layer.dispose();
  input.dispose();
  return out;
}

function expectClose(actual: number[], expected: number[]) {
  actual.forEach((a, i) => {
    expect(a).toBeCloseTo(expected[i] as number, 5);
  });
}

describe('optimizers', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('sgd: w − lr·g per step, and a changed rate takes effect', () => {
    expectClose(
      twoSteps({ optimizer: 'sgd', learning_rate: 0.1 }),
      w0.map((w, i) => w - 2 * 0.1 * g[i]!),
    );
    expectClose(
      twoSteps({ optimizer: 'sgd', learning_rate: 0.1 }, 0.01),
      w0.map((w, i) => w - 0.1 * g[i]! - 0.01 * g[i]!),
    );
  });

  it('momentum: accumulator a = μ·a + g, w −= lr·a; setLearningRate reaches the cached scalar', () => {
    const mu = 0.8;
    const lr = 0.1;
    expectClose(
      twoSteps({ optimizer: 'momentum', learning_rate: lr, momentum: mu }),
      w0.map((w, i) => w - lr * g[i]! - lr * (mu * g[i]! + g[i]!)),
    );
    expectClose(
      twoSteps({ optimizer: 'momentum', learning_rate: lr, momentum: mu }, 0.01),
      w0.map((w, i) => w - lr * g[i]! - 0.01 * (mu * g[i]! + g[i]!)),
    );
  });

  it('rmsprop with slim’s flags: ms = ρ·ms + (1−ρ)g², mom = μ·mom + lr·g/√(ms+ε)', () => {
    const [lr, rho, mu, eps] = [0.01, 0.9, 0.9, 1.0];
    const expected = w0.map((w, i) => {
      const gi = g[i]!;
      const ms1 = (1 - rho) * gi * gi;
      const mom1 = (lr * gi) / Math.sqrt(ms1 + eps);
      const ms2 = rho * ms1 + (1 - rho) * gi * gi;
      const mom2 = mu * mom1 + (lr * gi) / Math.sqrt(ms2 + eps);
      return w - mom1 - mom2;
    });
    expectClose(twoSteps({ optimizer: 'rmsprop', learning_rate: lr, rmsprop_decay: rho, rmsprop_momentum: mu }), expected);
  });

  it('adam: bias-corrected moments, default ε 1e-8', () => {
    const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
    const expected = w0.map((w, i) => {
      const gi = g[i]!;
      let m = 0;
      let v = 0;
      let cur = w;
      for (let t = 1; t <= 2; t++) {
        m = b1 * m + (1 - b1) * gi;
        v = b2 * v + (1 - b2) * gi * gi;
        cur -= (lr * (m / (1 - b1 ** t))) / (Math.sqrt(v / (1 - b2 ** t)) + eps);
      }
      return cur;
    });
    expectClose(twoSteps({ optimizer: 'adam', learning_rate: lr }), expected);
    expectClose(twoSteps({ optimizer: 'adam', learning_rate: lr }, 0.001), [w0[0]! - lr - 0.001, w0[1]! - lr - 0.001]);
  });
});

describe('learning-rate schedules', () => {
  it('exponential decays in stairs every num_epochs_per_decay epochs (slim defaults)', () => {
    const p = resolveTrainingParams({ learning_rate: 0.01 });
    expect(p.decayType).toBe('exponential');
    expect([0, 1, 2, 3, 4].map((e) => learningRateAt(p, e, 10))).toEqual([0.01, 0.01, 0.01 * 0.94, 0.01 * 0.94, 0.01 * 0.94 ** 2]);
    const q = resolveTrainingParams({ learning_rate: 0.1, learning_rate_decay_factor: 0.5, num_epochs_per_decay: 1.5 });
    expect([0, 1, 2, 3].map((e) => learningRateAt(q, e, 10))).toEqual([0.1, 0.1, 0.05, 0.025]);
  });

  it('polynomial goes linearly to end_learning_rate over maxEpochs; fixed stays', () => {
    const p = resolveTrainingParams({ learning_rate: 0.1, learning_rate_decay_type: 'polynomial', end_learning_rate: 0.02 });
    const rates = [0, 1, 2, 3, 4].map((e) => learningRateAt(p, e, 4));
    [0.1, 0.08, 0.06, 0.04, 0.02].forEach((r, i) => {
      expect(rates[i]).toBeCloseTo(r, 12);
    });
    const f = resolveTrainingParams({ learning_rate: 0.3, learning_rate_decay_type: 'fixed' });
    expect(learningRateAt(f, 7, 10)).toBe(0.3);
  });

  it('fills slim defaults and rejects bad values by name', () => {
    const p = resolveTrainingParams({});
    expect(p).toMatchObject({
      learningRate: 0.01,
      optimizer: 'rmsprop',
      rmspropDecay: 0.9,
      rmspropMomentum: 0.9,
      epsilon: 1,
      weightDecay: 4e-5,
      batchSize: 32,
      frozenLayers: 0,
    });
    expect(() => resolveTrainingParams({ optimizer: 'lbfgs' })).toThrow(/optimizer must be one of sgd, momentum, rmsprop, adam/);
    expect(() => resolveTrainingParams({ learning_rate: -1, batch_size: 2.5 })).toThrow(/learning_rate.*batch_size/);
  });
});
