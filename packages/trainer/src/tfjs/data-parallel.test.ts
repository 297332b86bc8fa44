import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { dataParallelObstacle, GradientThreads, splitRows } from './data-parallel.ts';
import { buildSmallCnn } from './model.ts';
import { dataParallelStep, type StepContext, singleThreadStep } from './train-step.ts';

const N = 48;
const SHAPE: [number, number, number] = [8, 8, 3];

function context(model: tf.LayersModel, inputs: tf.Tensor, labels: tf.Tensor, weightDecay: number): StepContext {
  const trainable = model.trainableWeights;
  return {
    model,
    optimizer: tf.train.adam(0.01),
    variables: trainable.map((w) => w.read() as tf.Variable),
    kernels: trainable.filter((w) => w.originalName.endsWith('kernel')).map((w) => w.read()),
    weightDecay,
    inputs,
    labels,
  };
}

function batches(steps: number, batch: number): Int32Array[] {
  return Array.from({ length: steps }, (_, s) => Int32Array.from({ length: batch }, (_, i) => (s * 7 + i * 5) % N));
}

describe('data-parallel training', () => {
  let threads: GradientThreads;
  let inputs: tf.Tensor;
  let labels: tf.Tensor;
  beforeAll(async () => {
    await selectBackend('wasm');
    threads = await GradientThreads.start(2, 'wasm');
    inputs = tf.randomUniform([N, ...SHAPE], 0, 1, 'float32', 1);
    labels = tf.tidy(() => tf.cast(tf.less(tf.randomUniform([N, 5], 0, 1, 'float32', 2), 0.5), 'float32'));
  }, 30_000);
  afterAll(async () => {
    tf.dispose([inputs, labels]);
    await threads?.close();
  });

  it('splits a batch into contiguous shares, the larger first', () => {
    const rows = Int32Array.from([9, 8, 7, 6, 5, 4, 3]);
    expect(splitRows(rows, 2).map((s) => Array.from(s))).toEqual([
      [9, 8, 7, 6],
      [5, 4, 3],
    ]);
    expect(splitRows(rows, 3).map((s) => s.length)).toEqual([3, 2, 2]);
  });

  for (const { frozen, weightDecay } of [
    { frozen: 0, weightDecay: 0 },
    { frozen: 2, weightDecay: 0.01 },
  ]) {
    it(`gives the single-thread result within float tolerance (${frozen} frozen layers, weight decay ${weightDecay})`, async () => {
      const single = buildSmallCnn({ classes: 5, inputShape: SHAPE, seed: 3 });
      const parallel = buildSmallCnn({ classes: 5, inputShape: SHAPE, seed: 3 });
      for (const m of [single, parallel]) {
        for (const l of m.layers.filter((l) => l.weights.length).slice(0, frozen)) l.trainable = false;
      }
      const a = context(single, inputs, labels, weightDecay);
      const b = context(parallel, inputs, labels, weightDecay);
      const before = tf.memory().numTensors;
      await threads.beginTrial(parallel, inputs, labels);
      const lossesA: number[] = [];
      const lossesB: number[] = [];
      // Batches of odd size too: shares of 7 and 6 rows must weigh 7/13 and 6/13.
      for (const rows of [...batches(4, 12), ...batches(2, 13)]) {
        const la = singleThreadStep(a, rows);
        const lb = await dataParallelStep(b, rows, threads);
        lossesA.push(la.dataSync()[0] as number);
        lossesB.push(lb.dataSync()[0] as number);
        tf.dispose([la, lb]);
      }
      const remaining = await threads.endTrial();
      for (let i = 0; i < lossesA.length; i++) expect(lossesB[i]).toBeCloseTo(lossesA[i] as number, 5);
      // Training moved the weights, and both copies the same way.
      let moved = 0;
      single.weights.forEach((w, i) => {
        const x = w.read().dataSync();
        const y = (parallel.weights[i] as tf.LayerVariable).read().dataSync();
        for (let k = 0; k < x.length; k++) expect(Math.abs((x[k] as number) - (y[k] as number)), w.name).toBeLessThan(1e-5);
        if (i < 2 * frozen) return;
        moved += 1;
      });
      expect(moved).toBeGreaterThan(0);
      expect(lossesA.at(-1)).not.toBe(lossesA[0]);
      for (const o of [a.optimizer, b.optimizer]) o.dispose();
      for (const m of [single, parallel]) for (const w of m.weights) w.dispose();
      // No tensors left behind on either side (each thread frees its replica at the end of a trial).
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before - 2 * single.weights.length);
      expect(new Set(remaining).size).toBe(1);
    }, 30_000);
  }

  it('leaves no tensors in the gradient thread from trial to trial', async () => {
    const counts: number[] = [];
    for (let t = 0; t < 2; t++) {
      const model = buildSmallCnn({ classes: 5, inputShape: SHAPE, seed: t });
      await threads.beginTrial(model, inputs, labels);
      const ctx = context(model, inputs, labels, 0);
      (await dataParallelStep(ctx, batches(1, 8)[0] as Int32Array, threads)).dispose();
      counts.push(...(await threads.endTrial()));
      ctx.optimizer.dispose();
      for (const w of model.weights) w.dispose();
    }
    expect(counts[1]).toBe(counts[0]);
  }, 30_000);

  it('refuses models whose training output depends on the whole batch', () => {
    const input = tf.input({ shape: [4] });
    const out = tf.layers.dense({ units: 2 }).apply(tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(input) as tf.SymbolicTensor);
    const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
    expect(dataParallelObstacle(model)).toMatch(/drop \(Dropout\)/);
    expect(dataParallelObstacle(buildSmallCnn({ classes: 2, inputShape: SHAPE }))).toBeUndefined();
    for (const w of model.weights) w.dispose();
  });
});
