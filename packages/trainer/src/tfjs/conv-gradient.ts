import * as tf from '@tensorflow/tfjs';

/**
 * A replacement gradient for Conv2D. The cpu backend's Conv2DBackpropFilter kernel is a naive
 * loop that dominates full fine-tuning (318 s vs 25 s an epoch, see TRAINING.md) and the wasm
 * backend has no such kernel at all. For the common case (stride 1, dilation 1, NHWC,
 * 'same'/'valid' padding) the filter gradient is a correlation of the input with the output
 * gradient, i.e. a forward conv2d over transposed tensors, which both backends run fast:
 *
 *   dW[a,b,ci,co] = Σ_{n,i,j} xpad[n,i+a,j+b,ci] · dy[n,i,j,co]
 *                 = conv2d(input = xpadᵀ [Ci,Hp,Wp,N], filter = dyᵀ [Ho,Wo,N,Co], 'valid')[ci,a,b,co]
 *
 * The input gradient uses conv2dTranspose (the stock Conv2DBackpropInput, present on both).
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

/** The filter gradient as a forward convolution (see the module comment). */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: readonly number[], pad: 'same' | 'valid'): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filterShape as [number, number, number, number];
    let xp = x;
    if (pad === 'same') {
      // tfjs 'same' at stride 1 pads kh-1 rows in all, the smaller half on top.
      const top = Math.floor((kh - 1) / 2);
      const left = Math.floor((kw - 1) / 2);
      xp = tf.pad(x, [
        [0, 0],
        [top, kh - 1 - top],
        [left, kw - 1 - left],
        [0, 0],
      ]);
    }
    const xT = tf.transpose(xp, [3, 1, 2, 0]); // [Ci, Hp, Wp, N]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
    const out = tf.conv2d(xT, dyT, 1, 'valid'); // [Ci, kh, kw, Co]
    return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D; // [kh, kw, Ci, Co]
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
        x: () => tf.conv2dTranspose(dy4, filter, x.shape, 1, pad),
        filter: () => conv2dFilterGradient(x, dy4, filter.shape, pad),
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
