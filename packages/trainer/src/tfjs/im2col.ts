import * as tf from '@tensorflow/tfjs';

/**
 * The filter gradient of a stride-1 convolution over few input channels (the first layer, on RGB
 * images) as one matrix product: dW = patchesᵀ · dy, with patchesᵀ [kh·kw·Ci, N·Ho·Wo] the input's
 * kh×kw patches, one row per filter tap, and dy [N·Ho·Wo, Co]. The forward-conv formulation
 * (conv-gradient.ts) is a convolution with a huge kernel and 3 "batch" rows there, which XNNPACK
 * runs slowly: 2.9 ms for batch 16 of 32×32×3 → 16, vs ~1.0 ms to write the patches straight into
 * the wasm heap (a custom kernel, below) plus 0.5 ms for the product. Layers with more input
 * channels keep the conv (their patch matrices are 9× larger than their input and lose).
 */

export const PATCHES_KERNEL = 'SweepdPatchesTransposed';
/** Input channels up to which the im2col filter gradient is used on wasm. */
export const IM2COL_MAX_INPUT_CHANNELS = 4;

interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

export interface PatchAttrs {
  kh: number;
  kw: number;
  /** Zero padding: top, bottom, left, right. */
  pad: [number, number, number, number];
}

/** Output shape of patchesTransposed for an NHWC input of `shape`. */
export function patchesShape(shape: readonly number[], { kh, kw, pad }: PatchAttrs): [number, number] {
  const [n, h, w, c] = shape as [number, number, number, number];
  const ho = h + pad[0] + pad[1] - kh + 1;
  const wo = w + pad[2] + pad[3] - kw + 1;
  return [kh * kw * c, n * ho * wo];
}

// Scratch for the channel-major padded input, reused from call to call (kernels run synchronously).
let scratch = new Float32Array(0);

/** Writes patchesᵀ of NHWC `x` into `out` (row (a·kw + b)·C + c, column (n·Ho + i)·Wo + j). */
export function fillPatchesTransposed(x: Float32Array, shape: readonly number[], attrs: PatchAttrs, out: Float32Array): void {
  const [N, H, W, C] = shape as [number, number, number, number];
  const { kh, kw, pad } = attrs;
  const [pt, pb, pl, pr] = pad;
  const Hp = H + pt + pb;
  const Wp = W + pl + pr;
  const Ho = Hp - kh + 1;
  const Wo = Wp - kw + 1;
  const plane = N * Hp * Wp;
  // A zero-padded, channel-major copy: every patch row is then a run of contiguous reads.
  if (scratch.length < C * plane) scratch = new Float32Array(C * plane);
  const xp = scratch;
  xp.fill(0, 0, C * plane);
  let s = 0;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H; i++) {
      const rowBase = (n * Hp + i + pt) * Wp + pl;
      for (let j = 0; j < W; j++) for (let c = 0; c < C; c++) xp[c * plane + rowBase + j] = x[s++] as number;
    }
  }
  let k = 0;
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      for (let c = 0; c < C; c++) {
        const tapBase = c * plane + a * Wp + b;
        for (let n = 0; n < N; n++) {
          for (let i = 0; i < Ho; i++) {
            let src = tapBase + (n * Hp + i) * Wp;
            for (let j = 0; j < Wo; j++) out[k++] = xp[src++] as number;
          }
        }
      }
    }
  }
}

function wasmPatchesTransposed(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackendInternals;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const attrs = args.attrs as unknown as PatchAttrs;
  if (x.dtype !== 'float32' || x.shape.length !== 4)
    throw new Error(`${PATCHES_KERNEL}: expected a float32 NHWC tensor, got ${x.dtype} [${x.shape}]`);
  // Allocate first: growing the wasm heap detaches views taken before.
  const out = backend.makeOutput(patchesShape(x.shape, attrs), 'float32');
  fillPatchesTransposed(backend.typedArrayFromHeap(x), x.shape, attrs, backend.typedArrayFromHeap(out));
  return out;
}

/** Registers the patches kernel on wasm (idempotent). */
export function registerPatchesKernel(): void {
  if (tf.getKernel(PATCHES_KERNEL, 'wasm')) return;
  tf.registerKernel({ kernelName: PATCHES_KERNEL, backendName: 'wasm', kernelFunc: wasmPatchesTransposed as unknown as tf.KernelFunc });
}

/** Whether the im2col filter gradient applies: wasm with the kernel registered and few input channels. */
export function im2colCovers(filterShape: readonly number[], backend = tf.getBackend()): boolean {
  return (
    backend === 'wasm' && (filterShape[2] as number) <= IM2COL_MAX_INPUT_CHANNELS && tf.getKernel(PATCHES_KERNEL, 'wasm') !== undefined
  );
}

/** dW [kh, kw, Ci, Co] of a stride-1 conv as patchesᵀ · dy (wasm only, see im2colCovers). */
export function conv2dFilterGradientIm2col(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: readonly number[],
  pad: [number, number, number, number],
): tf.Tensor4D {
  const [kh, kw, ci, co] = filterShape as [number, number, number, number];
  return tf.tidy(() => {
    const attrs: PatchAttrs = { kh, kw, pad };
    const patches = tf.engine().runKernel(PATCHES_KERNEL, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
    const [, m] = patches.shape;
    if (dy.shape[0] * dy.shape[1] * dy.shape[2] !== m)
      throw new Error(`im2col filter gradient: dy [${dy.shape}] does not match ${m} patches of x [${x.shape}]`);
    return tf.reshape(tf.matMul(patches, tf.reshape(dy, [m, co])), [kh, kw, ci, co]) as tf.Tensor4D;
  });
}
