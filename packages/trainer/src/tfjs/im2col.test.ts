import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { registerConvGradient, unregisterConvGradient } from './conv-gradient.ts';
import { im2colCovers } from './im2col.ts';

type Shape4 = [number, number, number, number];

/** dW of sum(conv2d(x, w) * probe) on the current backend with whatever Conv2D gradient is registered. */
function filterGradient(xv: Float32Array, xs: Shape4, wv: Float32Array, ws: Shape4, pv: Float32Array, pad: 'same' | 'valid') {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, xs);
    const w = tf.tensor4d(wv, ws);
    const outShape = tf.conv2d(x, w, 1, pad).shape;
    const probe = tf.tensor4d(
      pv.subarray(
        0,
        outShape.reduce((a, b) => a * b, 1),
      ),
      outShape,
    );
    const dw = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, 1, pad), probe)))(w);
    return { shape: dw.shape, values: dw.dataSync().slice() as Float32Array };
  });
}

const random = (n: number, seed: number) => tf.randomNormal([n], 0, 1, 'float32', seed).dataSync() as Float32Array;

describe('im2col filter gradient (wasm, few input channels)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('covers the first layer of an RGB model on wasm only', () => {
    expect(im2colCovers([3, 3, 3, 16], 'wasm')).toBe(true);
    expect(im2colCovers([3, 3, 16, 32], 'wasm')).toBe(false);
    expect(im2colCovers([3, 3, 3, 16], 'cpu')).toBe(false);
  });

  const cases: Array<{ x: Shape4; w: Shape4 }> = [
    { x: [16, 32, 32, 3], w: [3, 3, 3, 16] }, // the reference CNN's first layer, a thread's share
    { x: [2, 7, 9, 1], w: [3, 3, 1, 4] },
    { x: [3, 6, 5, 4], w: [2, 2, 4, 3] }, // even kernel: uneven 'same' padding
    { x: [2, 9, 7, 2], w: [5, 3, 2, 2] },
    { x: [1, 4, 4, 3], w: [1, 1, 3, 5] },
  ];
  for (const pad of ['same', 'valid'] as const) {
    for (const { x: xs, w: ws } of cases) {
      it(`matches the stock cpu kernel: x ${xs.join('×')}, filter ${ws.join('×')}, ${pad}`, async () => {
        const xv = random(
          xs.reduce((a, b) => a * b, 1),
          1,
        );
        const wv = random(
          ws.reduce((a, b) => a * b, 1),
          2,
        );
        const pv = random(xs[0] * xs[1] * xs[2] * ws[3], 3);
        const got = filterGradient(xv, xs, wv, ws, pv, pad);
        await tf.setBackend('cpu');
        unregisterConvGradient(); // the stock Conv2DBackpropFilter
        let want: ReturnType<typeof filterGradient>;
        try {
          want = filterGradient(xv, xs, wv, ws, pv, pad);
        } finally {
          registerConvGradient();
          await selectBackend('wasm');
        }
        expect(got.shape).toEqual(ws);
        expect(got.shape).toEqual(want.shape);
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < want.values.length; i++) {
          worst = Math.max(worst, Math.abs((got.values[i] as number) - (want.values[i] as number)));
          scale = Math.max(scale, Math.abs(want.values[i] as number));
        }
        expect(worst).toBeLessThanOrEqual(2e-5 * Math.max(1, scale));
      });
    }
  }
});
