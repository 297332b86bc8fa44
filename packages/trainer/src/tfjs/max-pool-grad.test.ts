import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { registerWasmMaxPoolGrad, unregisterWasmMaxPoolGrad } from './max-pool-grad.ts';

type Pad = 'same' | 'valid';
type Shape4 = [number, number, number, number];

/** Gradient of sum(maxPool(x) * probe) w.r.t. x on the current backend, with whatever MaxPoolGrad is registered. */
function poolGradient(xs: Float32Array, shape: Shape4, probe: Float32Array, size: number, stride: number, pad: Pad) {
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, shape);
    const outShape = tf.maxPool(x, size, stride, pad).shape;
    const p = tf.tensor4d(
      probe.subarray(
        0,
        outShape.reduce((a, b) => a * b, 1),
      ),
      outShape,
    );
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, size, stride, pad), p)))(x);
    return { shape: dx.shape, values: dx.dataSync().slice() as Float32Array };
  });
}

async function onCpu<T>(f: () => T): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return f();
  } finally {
    await selectBackend('wasm');
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Deterministic pseudo-random values (a tiny LCG), so every backend sees the same input. */
function values(n: number, seed: number, kind: 'normal' | 'ties' | 'positive'): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    // ties: ReLU-like values from {0, 1, 2}, so windows often hold equal maxima (and all-zero windows).
    out[i] = kind === 'normal' ? u * 4 - 2 : kind === 'ties' ? Math.max(0, Math.floor(u * 5) - 2) : u + 0.01;
  }
  return out;
}

const cases: Array<{ x: Shape4; size: number; stride: number }> = [
  { x: [2, 8, 8, 3], size: 2, stride: 2 },
  { x: [3, 7, 9, 5], size: 2, stride: 2 },
  { x: [2, 9, 7, 4], size: 3, stride: 2 },
  { x: [2, 6, 6, 2], size: 3, stride: 1 },
  { x: [1, 10, 11, 16], size: 3, stride: 3 },
  { x: [32, 16, 16, 16], size: 2, stride: 2 },
];

describe('wasm MaxPoolGrad replacement', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });
  afterAll(() => registerWasmMaxPoolGrad());

  for (const pad of ['same', 'valid'] as const) {
    for (const { x: shape, size, stride } of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const probe = values(n, 99, 'normal');
      for (const kind of ['normal', 'ties'] as const) {
        it(`matches the stock cpu kernel: x ${shape.join('×')}, window ${size}, stride ${stride}, ${pad}, ${kind} values`, async () => {
          const x = values(n, 7, kind);
          const stock = await onCpu(() => poolGradient(x, shape, probe, size, stride, pad));
          registerWasmMaxPoolGrad();
          const mine = poolGradient(x, shape, probe, size, stride, pad);
          expect(mine.shape).toEqual(shape);
          expect(stock.shape).toEqual(shape);
          expect(maxAbsDiff(mine.values, stock.values)).toBeLessThan(1e-5);
          expect(mine.values.some((v) => v !== 0)).toBe(true);
        });
      }
      it(`matches the stock wasm kernel on positive values without ties: x ${shape.join('×')}, window ${size}, stride ${stride}, ${pad}`, () => {
        const x = values(n, 11, 'positive');
        unregisterWasmMaxPoolGrad();
        const stock = poolGradient(x, shape, probe, size, stride, pad);
        registerWasmMaxPoolGrad();
        const mine = poolGradient(x, shape, probe, size, stride, pad);
        expect(mine.shape).toEqual(stock.shape);
        expect(maxAbsDiff(mine.values, stock.values)).toBeLessThan(1e-5);
      });
    }
  }

  it('routes dy of a window of negative values, which the stock wasm kernel drops', async () => {
    // Channel 1 holds only negative numbers: the cpu kernel (and this one) route its dy to the first
    // max (−5); tfjs-backend-wasm 4.22's MaxPoolGrad returns 0 there.
    const x = new Float32Array([-1, -5, -2, -6, -3, -7, -4, -8]);
    const probe = new Float32Array([1, 2]);
    const cpu = await onCpu(() => poolGradient(x, [1, 2, 2, 2], probe, 2, 2, 'valid'));
    const mine = poolGradient(x, [1, 2, 2, 2], probe, 2, 2, 'valid');
    expect(Array.from(cpu.values)).toEqual([1, 2, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(mine.values)).toEqual(Array.from(cpu.values));
  });

  it('routes nothing from a window of −∞ and keeps the tensor count flat', async () => {
    const ninf = Number.NEGATIVE_INFINITY;
    const x = new Float32Array([ninf, ninf, 2, 7, ninf, ninf, 7, 1]);
    const probe = new Float32Array([3, 4]);
    const cpu = await onCpu(() => poolGradient(x, [1, 2, 4, 1], probe, 2, 2, 'valid'));
    const before = tf.memory().numTensors;
    const mine = poolGradient(x, [1, 2, 4, 1], probe, 2, 2, 'valid');
    // The left window holds only −∞; in the right one the first of the two 7s takes all of dy.
    expect(Array.from(mine.values)).toEqual([0, 0, 0, 4, 0, 0, 0, 0]);
    expect(Array.from(mine.values)).toEqual(Array.from(cpu.values));
    expect(tf.memory().numTensors).toBe(before);
  });
});
