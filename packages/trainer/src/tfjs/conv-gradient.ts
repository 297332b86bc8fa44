import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGradientIm2col, im2colCovers } from './im2col.ts';

/**
 * A replacement gradient for Conv2D. The cpu backend's Conv2DBackpropFilter kernel is a naive
 * loop that dominates full fine-tuning (measured at 318 s against 25 s an epoch) and the wasm
 * backend has no such kernel at all. For the common case (stride 1, dilation 1, NHWC,
 * 'same'/'valid' padding) the filter gradient is a correlation of the input with the output
 * gradient, i.e. a forward conv2d over transposed tensors, which both backends run fast:
 *
 *   dW[a,b,ci,co] = Σ_{n,i,j} xpad[n,i+a,j+b,ci] · dy[n,i,j,co]
 *                 = conv2d(input = xpadᵀ [Ci,Hp,Wp,N], filter = dyᵀ [Ho,Wo,N,Co], 'valid')[ci,a,b,co]
 *
 * The input gradient is a forward conv2d too (padded dy with the 180°-rotated filter): wasm's
 * Conv2DBackpropInput is a plain loop and was the largest cost once the filter gradient was fixed
 * (77 of ~250 ms a step). On wasm, layers with few input channels (the first, on RGB images)
 * take an im2col filter gradient instead (im2col.ts): there the conv formulation is slow.
 * Anything else — strides, dilations, NCHW, explicit padding, or a native TensorFlow backend
 * whose own kernels are fast — takes the stock gradient.
 */
type Conv2DAttrs = {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | number[][];
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: string;
};

type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

const NATIVE_BACKENDS = new Set(['tensorflow', 'tensorflow-gpu']);
let stockGradient: tf.GradConfig | undefined;

function allOnes(v: number | number[]): boolean {
  return Array.isArray(v) ? v.every((x) => x === 1) : v === 1;
}

/** Whether the replacement handles these attributes (otherwise the stock gradient runs). */
export function replacementCovers(attrs: Conv2DAttrs, backend = tf.getBackend()): boolean {
  return (
    !NATIVE_BACKENDS.has(backend) &&
    allOnes(attrs.strides) &&
    allOnes(attrs.dilations) &&
    attrs.dataFormat === 'NHWC' &&
    (attrs.pad === 'same' || attrs.pad === 'valid')
  );
}

/** [top, bottom, left, right] padding of a stride-1 conv: tfjs 'same' pads k−1 in all, the smaller half first. */
function forwardPadding(kh: number, kw: number, pad: 'same' | 'valid'): [number, number, number, number] {
  if (pad === 'valid') return [0, 0, 0, 0];
  const top = Math.floor((kh - 1) / 2);
  const left = Math.floor((kw - 1) / 2);
  return [top, kh - 1 - top, left, kw - 1 - left];
}

/** The filter gradient as a forward convolution (see the module comment). */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: readonly number[], pad: 'same' | 'valid'): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filterShape as [number, number, number, number];
    const [pt, pb, pl, pr] = forwardPadding(kh, kw, pad);
    const xT = tf.transpose(x, [3, 1, 2, 0]); // [Ci, H, W, N]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
    // Explicit padding inside the conv saves a padded copy of the activations.
    const padding: ExplicitPadding = [
      [0, 0],
      [pt, pb],
      [pl, pr],
      [0, 0],
    ];
    const out = tf.conv2d(xT, dyT, 1, padding); // [Ci, kh, kw, Co]
    return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D; // [kh, kw, Ci, Co]
  });
}

/**
 * The input gradient as a forward convolution of the (padded) output gradient with the filter
 * rotated by 180° and its channel axes swapped: wasm's Conv2DBackpropInput is a plain loop,
 * its Conv2D is XNNPACK.
 */
export function conv2dInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, pad: 'same' | 'valid'): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filter.shape;
    const [pt, pb, pl, pr] = forwardPadding(kh, kw, pad);
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const padding: ExplicitPadding = [
      [0, 0],
      [kh - 1 - pt, kh - 1 - pb],
      [kw - 1 - pl, kw - 1 - pr],
      [0, 0],
    ];
    return tf.conv2d(dy, rotated, 1, padding);
  });
}

/** The stock Conv2D gradient, as registered by tfjs-core before any replacement. */
export function stockConv2dGradient(): tf.GradConfig {
  if (!stockGradient) {
    const config = tf.getGradient('Conv2D');
    if (!config) throw new Error('tfjs-core has no Conv2D gradient registered');
    stockGradient = config;
  }
  return stockGradient;
}

let registered = false;

/** Installs the replacement (idempotent). Gradients are global across backends in tfjs. */
export function registerConvGradient(): void {
  if (registered) return;
  const stock = stockConv2dGradient();
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as unknown as Conv2DAttrs;
      if (!replacementCovers(a)) return stock.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const pad = a.pad as 'same' | 'valid';
      const dy4 = dy as tf.Tensor4D;
      return {
        x: () => conv2dInputGradient(dy4, filter, pad),
        filter: () =>
          im2colCovers(filter.shape)
            ? conv2dFilterGradientIm2col(x, dy4, filter.shape, forwardPadding(filter.shape[0], filter.shape[1], pad))
            : conv2dFilterGradient(x, dy4, filter.shape, pad),
      };
    },
  });
  registered = true;
}

/** Puts the stock gradient back (tests compare against it). */
export function unregisterConvGradient(): void {
  if (!registered) return;
  tf.registerGradient(stockConv2dGradient());
  registered = false;
}
