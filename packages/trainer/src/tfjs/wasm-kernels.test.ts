import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';

interface Result {
  shape: number[];
  dtype: string;
  values: number[];
}

/** Runs `f` on raw data on `backend` (wasm has the replacement kernels registered by selectBackend). */
async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<Result> {
  await (backend === 'cpu' ? tf.setBackend('cpu') : selectBackend('wasm'));
  return tf.tidy(() => {
    const t = f();
    return { shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync() as Float32Array) };
  });
}

function expectClose(got: Result, want: Result, tolerance: number): void {
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  let worst = 0;
  for (let i = 0; i < want.values.length; i++) worst = Math.max(worst, Math.abs((got.values[i] as number) - (want.values[i] as number)));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

const random = (shape: number[], seed: number) => Array.from(tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync());

describe('wasm BatchMatMul and GatherV2 replacements against the stock cpu kernels', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('are the kernels registered on wasm', () => {
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.name).toBe('wasmBatchMatMul');
    expect(tf.getKernel('GatherV2', 'wasm')?.kernelFunc.name).toBe('wasmGatherV2');
  });

  const products: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
    { a: [32, 64], b: [64, 20], ta: false, tb: false },
    { a: [32, 100], b: [32, 64], ta: true, tb: false }, // a dense kernel's gradient xᵀ·dy
    { a: [32, 64], b: [100, 64], ta: false, tb: true }, // a dense input's gradient dy·Wᵀ
    { a: [7, 5], b: [9, 7], ta: true, tb: true },
    { a: [3, 6, 4], b: [3, 6, 5], ta: true, tb: false }, // batched
    { a: [2, 4, 6], b: [1, 5, 6], ta: false, tb: true }, // batched, broadcast b
  ];
  for (const { a, b, ta, tb } of products) {
    it(`matMul [${a}]${ta ? 'ᵀ' : ''} × [${b}]${tb ? 'ᵀ' : ''}`, async () => {
      const av = random(a, 1);
      const bv = random(b, 2);
      const f = () => tf.matMul(tf.tensor(av, a), tf.tensor(bv, b), ta, tb);
      expectClose(await on('wasm', f), await on('cpu', f), 1e-4);
    });
  }

  it('matMul gradients through a transposed product (the dense layer backward pass)', async () => {
    const xv = random([8, 12], 3);
    const wv = random([12, 5], 4);
    const f = () => {
      const [dx, dw] = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, w))))([
        tf.tensor(xv, [8, 12]),
        tf.tensor(wv, [12, 5]),
      ]) as [tf.Tensor, tf.Tensor];
      return tf.concat([dx.flatten(), dw.flatten()]);
    };
    expectClose(await on('wasm', f), await on('cpu', f), 1e-3);
  });

  const gathers: Array<{ x: number[]; indices: number[]; indexShape: number[]; axis: number; dtype: 'float32' | 'int32' }> = [
    { x: [10, 4, 4, 3], indices: [9, 0, 3, 3, 7], indexShape: [5], axis: 0, dtype: 'float32' },
    { x: [6, 5], indices: [5, 1, 2, 0], indexShape: [2, 2], axis: 0, dtype: 'int32' },
    { x: [6], indices: [2, 2, 5], indexShape: [3], axis: 0, dtype: 'float32' },
    { x: [4, 6, 2], indices: [5, 0], indexShape: [2], axis: 1, dtype: 'float32' }, // stock path
  ];
  for (const { x, indices, indexShape, axis, dtype } of gathers) {
    it(`gather [${x}] ${dtype} at [${indices}] (shape [${indexShape}]) on axis ${axis}`, async () => {
      const xv = random(x, 5).map((v) => (dtype === 'int32' ? Math.round(v * 100) : v));
      const f = () => tf.gather(tf.tensor(xv, x, dtype), tf.tensor(indices, indexShape, 'int32'), axis);
      const got = await on('wasm', f);
      expect(got).toEqual(await on('cpu', f));
    });
  }

  it('refuses an index out of range, naming it', async () => {
    await selectBackend('wasm');
    const x = tf.zeros([4, 3]);
    const before = tf.memory().numTensors;
    expect(() => tf.gather(x, tf.tensor1d([1, 4], 'int32'))).toThrow(/index value 4 is not in \[0, 3\]/);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1); // only the indices tensor
    x.dispose();
  });
});
