import { describe, expect, it } from 'vitest';
import { kernelLayer, sparsityLayer } from './layer-tags.ts';

describe('layer tags', () => {
  it('takes kernels as TF-slim, Keras and torch name them', () => {
    expect(kernelLayer('InceptionV4/Conv2d_1a_3x3/weights')).toBe('InceptionV4/Conv2d_1a_3x3');
    expect(kernelLayer('InceptionResnetV2/Repeat/block35_1/Branch_0/Conv2d_1x1/weights')).toBe(
      'InceptionResnetV2/Repeat/block35_1/Branch_0/Conv2d_1x1',
    );
    expect(kernelLayer('MobilenetV1/Conv2d_1_depthwise/depthwise_weights')).toBe('MobilenetV1/Conv2d_1_depthwise');
    expect(kernelLayer('dense/kernel')).toBe('dense');
    expect(kernelLayer('dense_1/kernel_0')).toBe('dense_1');
    expect(kernelLayer('conv2d/kernel:0')).toBe('conv2d');
    // Keras 3's TensorBoard callback (histogram_freq ≥ 1), under its run folder's name.
    expect(kernelLayer('conv1/kernel/histogram')).toBe('conv1');
    expect(kernelLayer('train/head/kernel/histogram')).toBe('train/head');
    expect(kernelLayer('layer1.0.conv1.weight')).toBe('layer1.0.conv1');
    expect(kernelLayer('fc.weight')).toBe('fc');
  });

  it('leaves out biases, normalization scales and shifts, moving statistics and activations', () => {
    for (const tag of [
      'InceptionV4/Logits/Logits/biases',
      'InceptionV4/Conv2d_1a_3x3/BatchNorm/beta',
      'InceptionV4/Conv2d_1a_3x3/BatchNorm/moving_mean',
      'layer1.0.bn1.weight',
      'features.0.norm.weight',
      'encoder.ln1.weight',
      'fc.bias',
      'train/conv1/bias/histogram',
      'train/batch_normalization/gamma/histogram',
      'activations/Conv2d_1a_3x3',
    ]) {
      expect(kernelLayer(tag), tag).toBeUndefined();
    }
  });

  it('reads the end point of a sparsity scalar', () => {
    expect(sparsityLayer('sparsity/Mixed_5b')).toBe('Mixed_5b');
    expect(sparsityLayer('sparsity/InceptionV4/Conv2d_1a_3x3')).toBe('InceptionV4/Conv2d_1a_3x3');
    expect(sparsityLayer('losses/sparsity')).toBeUndefined();
  });
});
