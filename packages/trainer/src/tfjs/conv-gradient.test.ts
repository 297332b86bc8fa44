import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { registerConvGradient, replacementCovers, unregisterConvGradient } from './conv-gradient.ts';

/** Gradients of sum(conv2d(x, w) * probe) w.r.t. x and w, with whatever Conv2D gradient is registered. */
function gradients(x: tf.Tensor4D, w: tf.Tensor4D, probe: tf.Tensor4D, pad: 'same' | 'valid') {
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), probe)));
  const [dx, dw] = g([x, w]) as [tf.Tensor, tf.Tensor];
  return { dx: { shape: dx.shape, values: dx.dataSync().slice() }, dw: { shape: dw.shape, values: dw.dataSync().slice() } };
}

function maxAbsDiff(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('Conv2D replacement gradient', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(() => unregisterConvGradient());

  const cases: Array<{ x: [number, number, number, number]; w: [number, number, number, number] }> = [
    { x: [1, 5, 5, 1], w: [3, 3, 1, 1] },
    { x: [2, 8, 8, 3], w: [3, 3, 3, 4] },
    { x: [4, 7, 9, 5], w: [3, 3, 5, 6] },
    { x: [3, 6, 6, 2], w: [2, 2, 2, 3] },
    { x: [2, 9, 7, 4], w: [5, 3, 4, 2] },
    { x: [3, 4, 4, 8], w: [1, 1, 8, 5] },
  ];
  for (const pad of ['same', 'valid'] as const) {
    for (const { x: xs, w: ws } of cases) {
      it(`matches the stock kernel: x ${xs.join('×')}, filter ${ws.join('×')}, ${pad}`, () => {
        const x = tf.randomNormal(xs, 0, 1, 'float32', 1) as tf.Tensor4D;
        const w = tf.randomNormal(ws, 0, 1, 'float32', 2) as tf.Tensor4D;
        const outShape = tf.conv2d(x, w, 1, pad).shape;
        const probe = tf.randomNormal(outShape, 0, 1, 'float32', 3) as tf.Tensor4D;
        unregisterConvGradient();
        const stock = gradients(x, w, probe, pad);
        registerConvGradient();
        const mine = gradients(x, w, probe, pad);
        expect(mine.dw.shape).toEqual(ws);
        expect(mine.dx.shape).toEqual(xs);
        expect(maxAbsDiff(mine.dw.values, stock.dw.values)).toBeLessThan(2e-5 * Math.max(1, ...stock.dw.values.map(Math.abs)));
        expect(maxAbsDiff(mine.dx.values, stock.dx.values)).toBeLessThan(2e-5 * Math.max(1, ...stock.dx.values.map(Math.abs)));
        tf.dispose([x, w, probe]);
      });
    }
  }

  it('gives the same gradients on the wasm backend (which has no filter-gradient kernel of its own)', async () => {
    const xs: [number, number, number, number] = [3, 8, 8, 4];
    const ws: [number, number, number, number] = [3, 3, 4, 5];
    const values = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync().slice();
    const [xv, wv] = [values(xs, 11), values(ws, 12)];
    for (const pad of ['same', 'valid'] as const) {
      await tf.setBackend('cpu');
      unregisterConvGradient();
      const outShape = tf.conv2d(tf.tensor4d(xv, xs), tf.tensor4d(wv, ws), 1, pad).shape;
      const pv = values(outShape, 13);
      const stock = gradients(tf.tensor4d(xv, xs), tf.tensor4d(wv, ws), tf.tensor4d(pv, outShape), pad);
      await selectBackend('wasm');
      registerConvGradient();
      const mine = gradients(tf.tensor4d(xv, xs), tf.tensor4d(wv, ws), tf.tensor4d(pv, outShape), pad);
      expect(tf.getBackend()).toBe('wasm');
      expect(maxAbsDiff(mine.dw.values, stock.dw.values)).toBeLessThan(1e-4);
      expect(maxAbsDiff(mine.dx.values, stock.dx.values)).toBeLessThan(1e-4);
    }
    await tf.setBackend('cpu');
  });

  it('falls back to the stock gradient for strides it does not cover', () => {
    expect(replacementCovers({ strides: 2, pad: 'same', dataFormat: 'NHWC', dilations: 1 }, 'cpu')).toBe(false);
    expect(replacementCovers({ strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] }, 'wasm')).toBe(true);
    expect(replacementCovers({ strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 }, 'tensorflow')).toBe(false);
    registerConvGradient();
    const x = tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 2, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const dw = tf.grad((b: tf.Tensor) => tf.sum(tf.conv2d(x, b as tf.Tensor4D, 2, 'same')))(w);
    unregisterConvGradient();
    const stock = tf.grad((b: tf.Tensor) => tf.sum(tf.conv2d(x, b as tf.Tensor4D, 2, 'same')))(w);
    expect(maxAbsDiff(dw.dataSync(), stock.dataSync())).toBe(0);
  });
});
