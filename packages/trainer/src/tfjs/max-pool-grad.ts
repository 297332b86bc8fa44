import * as tf from '@tensorflow/tfjs';

/**
 * A faster MaxPoolGrad kernel for the wasm backend. The stock one (tfjs-backend-wasm 4.22) took
 * ~17 of ~60 ms of a training step of the reference CNN — more than any convolution — for what
 * is a scatter of dy to each window's argmax. This one is a plain JS loop over views of the wasm
 * heap (no copies): per output pixel it scans the window once for all channels at a time
 * (contiguous NHWC reads) and adds dy at the first maximum, which is the stock kernels' choice on
 * ties (strictly greater than the running max, starting from −∞; a window with no number above
 * −∞ routes nothing). Any stride, window and padding; overlapping windows accumulate.
 */

interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** dx of a max pool: `x` the pool's input, `dy` the gradient of its output (NHWC, float32). */
export function maxPoolBackprop(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  info: ReturnType<typeof tf.backend_util.computePool2DInfo>,
): void {
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { dilationHeight, dilationWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  dx.fill(0);
  if (
    effectiveFilterHeight === 2 &&
    effectiveFilterWidth === 2 &&
    strideHeight === 2 &&
    strideWidth === 2 &&
    padTop === 0 &&
    padLeft === 0 &&
    2 * outHeight <= inHeight &&
    2 * outWidth <= inWidth
  ) {
    pool2x2Backprop(x, dy, dx, batchSize, inHeight, inWidth, C, outHeight, outWidth);
    return;
  }
  const maxVal = new Float32Array(C);
  const maxPos = new Int32Array(C);
  let outBase = 0;
  for (let b = 0; b < batchSize; b++) {
    const batchBase = b * inHeight * inWidth * C;
    for (let oy = 0; oy < outHeight; oy++) {
      const yStart = oy * strideHeight - padTop;
      for (let ox = 0; ox < outWidth; ox++, outBase += C) {
        const xStart = ox * strideWidth - padLeft;
        maxVal.fill(Number.NEGATIVE_INFINITY);
        maxPos.fill(-1);
        for (let fy = 0; fy < effectiveFilterHeight; fy += dilationHeight) {
          const iy = yStart + fy;
          if (iy < 0 || iy >= inHeight) continue;
          for (let fx = 0; fx < effectiveFilterWidth; fx += dilationWidth) {
            const ix = xStart + fx;
            if (ix < 0 || ix >= inWidth) continue;
            const base = batchBase + (iy * inWidth + ix) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c] as number;
              if (v > (maxVal[c] as number)) {
                maxVal[c] = v;
                maxPos[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) {
          const p = maxPos[c] as number;
          if (p >= 0) dx[p] = (dx[p] as number) + (dy[outBase + c] as number);
        }
      }
    }
  }
}

/**
 * The common 2×2 stride-2 window with every window inside the input (the reference CNN's
 * pooling): no bounds checks and no per-pixel state, ~3× faster than the general loop.
 */
function pool2x2Backprop(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  batchSize: number,
  inHeight: number,
  inWidth: number,
  C: number,
  outHeight: number,
  outWidth: number,
): void {
  const rowStride = inWidth * C;
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      let p00 = (b * inHeight + 2 * oy) * rowStride;
      for (let ox = 0; ox < outWidth; ox++, p00 += 2 * C) {
        for (let c = 0; c < C; c++, o++) {
          // First maximum in row-major window order, strictly greater than −∞ (as the stock kernels).
          let pos = -1;
          let m = Number.NEGATIVE_INFINITY;
          const q00 = p00 + c;
          const q01 = q00 + C;
          const q10 = q00 + rowStride;
          const q11 = q10 + C;
          let v = x[q00] as number;
          if (v > m) {
            m = v;
            pos = q00;
          }
          v = x[q01] as number;
          if (v > m) {
            m = v;
            pos = q01;
          }
          v = x[q10] as number;
          if (v > m) {
            m = v;
            pos = q10;
          }
          v = x[q11] as number;
          if (v > m) pos = q11;
          if (pos >= 0) dx[pos] = dy[o] as number;
        }
      }
    }
  }
}

function wasmMaxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackendInternals;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32')
    throw new Error(`MaxPoolGrad: expected float32 tensors, got input ${input.dtype} and dy ${dy.dtype}`);
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  // Allocate first: growing the wasm heap detaches views taken before.
  const dx = backend.makeOutput(input.shape, 'float32');
  maxPoolBackprop(backend.typedArrayFromHeap(input), backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(dx), info);
  return dx;
}

let stockKernel: tf.KernelConfig | undefined;

/** Replaces wasm's MaxPoolGrad (idempotent). Needs the wasm backend registered. */
export function registerWasmMaxPoolGrad(): void {
  if (stockKernel) return;
  const stock = tf.getKernel('MaxPoolGrad', 'wasm');
  if (!stock) throw new Error('the wasm backend has no MaxPoolGrad kernel registered (is @tensorflow/tfjs-backend-wasm loaded?)');
  stockKernel = stock;
  tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel({ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: wasmMaxPoolGrad as unknown as tf.KernelFunc });
}

/** Puts the stock kernel back (tests compare against it). */
export function unregisterWasmMaxPoolGrad(): void {
  if (!stockKernel) return;
  tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel(stockKernel);
  stockKernel = undefined;
}
