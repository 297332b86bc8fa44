/**
 * Which summary tags carry per-layer diagnostics.
 *
 * Kernel histograms: TF-slim's train_image_classifier.py writes one histogram per model variable,
 * tagged with the variable's name (`InceptionV4/Conv2d_1a_3x3/weights`); Keras 3's TensorBoard
 * callback writes `<layer>/kernel/histogram` (Keras 2: `<layer>/kernel_0`); torch scripts usually tag `<module>.weight`
 * (`layer1.0.conv1.weight`). The layer is the tag without that last part. A torch `.weight` of a
 * module whose name says normalization (`bn1`, `norm`, `BatchNorm`, `ln`) is a scale, not a
 * kernel, and is left out, as are biases, BatchNorm beta/gamma and moving statistics: LayerStats
 * has no field for their distribution.
 *
 * Zero fractions: `sparsity/<end_point>` scalars (TF-slim: tf.nn.zero_fraction of the end point's
 * activations).
 */

const KERNEL = /^(.+)[/.](?:weights|kernel|weight|depthwise_weights|depthwise_kernel|pointwise_kernel)(?:[:_]0)?(?:\/histogram)?$/;
const NORMALIZATION = /(?:^|[._/])(?:bn\d*|batchnorm|batch_norm|norm\d*|ln\d*|layernorm|layer_norm|gn\d*|groupnorm)$/i;
const SPARSITY = /^sparsity\/(.+)$/;

/** The layer a histogram tag is the kernel of, or undefined. */
export function kernelLayer(tag: string): string | undefined {
  const m = KERNEL.exec(tag);
  if (!m) return undefined;
  const layer = m[1]!;
  const lastPart = layer.split(/[/.]/).pop() ?? layer;
  if (NORMALIZATION.test(lastPart)) return undefined;
  return layer;
}

/** The end point a scalar tag is the zero fraction of, or undefined. */
export function sparsityLayer(tag: string): string | undefined {
  return SPARSITY.exec(tag)?.[1];
}
