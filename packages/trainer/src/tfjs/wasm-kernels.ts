import * as tf from '@tensorflow/tfjs';

/**
 * Faster replacements of two tfjs-backend-wasm 4.22 kernels that a training step of the reference
 * CNN hits every step (measured one step on one thread, batch 32, ~47 ms in all):
 *
 * - BatchMatMul with a transposed operand: wasm runs it in a slow loop (the dense layers'
 *   gradients, xᵀ·dy [32,1024]ᵀ×[32,64] and dy·Wᵀ [32,64]×[1024,64]ᵀ, took 2.1 and 1.7 ms; the
 *   untransposed product of the same size 0.15 ms). Transposing the operand explicitly first and
 *   running the untransposed product takes 0.35 and 0.57 ms.
 * - GatherV2 of whole rows (axis 0, the batch of a training step): 2.3 ms for 32 images of
 *   32×32×3, where copying the rows over views of the wasm heap takes microseconds.
 *
 * Anything else goes to the stock kernel.
 */

interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  disposeData(dataId: tf.DataId): void;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

const stockKernels = new Map<string, tf.KernelConfig>();

function stock(name: string, args: KernelArgs): tf.TensorInfo {
  const kernel = stockKernels.get(name) ?? tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`the wasm backend has no ${name} kernel`);
  return kernel.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

/** The last two axes of `x` swapped, by the stock Transpose kernel (a new tensor the caller disposes). */
function swapLastAxes(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return stock('Transpose', { inputs: { x }, backend, attrs: { perm } });
}

function wasmBatchMatMul(args: KernelArgs): tf.TensorInfo {
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (!transposeA && !transposeB) return stock('BatchMatMul', args);
  const backend = args.backend as WasmBackendInternals;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const temporaries: tf.TensorInfo[] = [];
  try {
    const aa = transposeA ? swapLastAxes(a, backend) : a;
    if (transposeA) temporaries.push(aa);
    const bb = transposeB ? swapLastAxes(b, backend) : b;
    if (transposeB) temporaries.push(bb);
    return stock('BatchMatMul', { inputs: { a: aa, b: bb }, backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}

function wasmGatherV2(args: KernelArgs): tf.TensorInfo {
  const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  if (axis !== 0 || batchDims !== 0 || indices.dtype !== 'int32' || x.dtype === 'string' || x.dtype === 'complex64')
    return stock('GatherV2', args);
  const backend = args.backend as WasmBackendInternals;
  const rows = x.shape[0] as number;
  const rowSize = x.shape.slice(1).reduce((p, d) => p * d, 1);
  // Allocate first: growing the wasm heap detaches views taken before.
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const idx = backend.typedArrayFromHeap(indices);
  const dst = backend.typedArrayFromHeap(out);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i] as number;
    if (r < 0 || r >= rows) {
      backend.disposeData(out.dataId);
      throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
    }
    dst.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
  }
  return out;
}

const REPLACEMENTS: Array<[string, (args: KernelArgs) => tf.TensorInfo]> = [
  ['BatchMatMul', wasmBatchMatMul],
  ['GatherV2', wasmGatherV2],
];

/** Replaces wasm's BatchMatMul and GatherV2 (idempotent). Needs the wasm backend registered. */
export function registerWasmKernels(): void {
  if (stockKernels.size > 0) return;
  for (const [name] of REPLACEMENTS) {
    const kernel = tf.getKernel(name, 'wasm');
    if (!kernel) throw new Error(`the wasm backend has no ${name} kernel registered (is @tensorflow/tfjs-backend-wasm loaded?)`);
    stockKernels.set(name, kernel);
  }
  for (const [name, kernelFunc] of REPLACEMENTS) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

/** Puts the stock kernels back (tests compare against them). */
export function unregisterWasmKernels(): void {
  for (const [name, kernel] of stockKernels) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(kernel);
  }
  stockKernels.clear();
}
