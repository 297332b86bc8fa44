import type { EpochRecord, LayerStats, Params, TrialView } from '@sweepd/core';

/**
 * Trials rebuilt from measurements (objective val_auc_macro, one "epoch" = 100 steps at batch 32),
 * for the diagnosis tests and anyone who wants to print a diagnosis without training:
 *
 * - InceptionV4 on an H200, fine-tuned from pretrained weights on a 19-class multi-label target
 *   (six configs side by side; AUC after 100, 200, 300, 400 steps, median kernel movement, zero
 *   activations of the last block);
 * - TF1 RMSProp at lr 1e-4, epsilon 1.0 over 500 steps (kernels 0.3 %, AUC 0.58);
 * - SGD at lr 5.5e-6 on the small CNN (biases moved about 5e-5).
 *
 * Per-layer figures are spread around the measured median (×0.5, ×1, ×2): the medians, maxima
 * and curves are the measured ones; the spread between layers was not recorded.
 */

export const RECORDED_METRIC = 'val_auc_macro';

interface Recorded {
  number: number;
  params: Params;
  auc: number[];
  /** Median ‖W − W₀‖/‖W₀‖ of the trainable kernels at the last epoch (grows linearly to it). */
  kernels: number;
  /** Median absolute bias movement at the last epoch. */
  biases: number;
  /** Zero activations of the last block at the last epoch, and its dead-unit fraction. */
  sparsity: number;
  dead: number;
  /** Layers with trainable kernels: the head only when the backbone is frozen. */
  headOnly?: boolean;
}

const BLOCKS = ['stem', 'mixed_5', 'mixed_6', 'mixed_7', 'logits'];

function layersAt(r: Recorded, epoch: number, epochs: number): LayerStats[] {
  const share = epoch / epochs;
  const spread = [0.5, 0.8, 1, 1.5, 2];
  return BLOCKS.map((layer, i) => {
    const trainable = !r.headOnly || layer === 'logits';
    const k = r.kernels * share * (spread[i] as number);
    // The last block's activations drift from a healthy 40 % to the measured figure.
    const last = i === BLOCKS.length - 2;
    const sparsity = last ? 0.4 + (r.sparsity - 0.4) * share : 0.4;
    const dead = last ? 0.02 + (r.dead - 0.02) * share : 0.02;
    return {
      layer,
      trainable,
      ...(trainable
        ? {
            kernelMovement: k,
            updateRatio: (r.kernels * (spread[i] as number)) / epochs,
            biasMovement: r.biases * share * (spread[i] as number),
          }
        : { kernelMovement: 0, updateRatio: 0, biasMovement: 0 }),
      ...(layer === 'logits' ? {} : { sparsity, deadFraction: dead }),
    };
  });
}

function build(r: Recorded): TrialView {
  const epochs: EpochRecord[] = r.auc.map((auc, i) => ({
    epoch: i + 1,
    metrics: { [RECORDED_METRIC]: auc, train_loss: 0.3, val_loss: 0.3, learning_rate: r.params.learning_rate as number },
    layers: layersAt(r, i + 1, r.auc.length),
  }));
  return { id: `rec${r.number}`, number: r.number, params: r.params, state: 'completed', value: Math.max(...r.auc), epochs };
}

const rmsprop = (lr: number, eps: number): Params => ({ optimizer: 'rmsprop', learning_rate: lr, opt_epsilon: eps, rmsprop_momentum: 0.9 });

/** (d) The practitioner's config on a pretrained InceptionV4: kernels static, AUC best of six. */
export const practitioner = build({
  number: 0,
  params: { ...rmsprop(0.01, 1.0), frozen_layers: 0 },
  auc: [0.86, 0.9, 0.92, 0.9],
  kernels: 0.0047,
  biases: 0.02,
  sparsity: 0.55,
  dead: 0.05,
});
/** (c) Adam 1e-4, all layers: healthy (falls back at the end). */
export const adamAllLayers = build({
  number: 1,
  params: { optimizer: 'adam', learning_rate: 1e-4, opt_epsilon: 1e-8, frozen_layers: 0 },
  auc: [0.88, 0.92, 0.92, 0.83],
  kernels: 0.1,
  biases: 0.05,
  sparsity: 0.6,
  dead: 0.06,
});
/** Adam 1e-3 with every convolution frozen: only the head moves. */
export const adamHeadOnly = build({
  number: 2,
  params: { optimizer: 'adam', learning_rate: 1e-3, opt_epsilon: 1e-8, frozen_layers: 4 },
  auc: [0.63, 0.66, 0.67, 0.68],
  kernels: 0.8,
  biases: 0.05,
  sparsity: 0.83,
  dead: 0.1,
  headOnly: true,
});
/** (a) TF1 RMSProp lr 1e-4, epsilon 1.0, 500 steps: kernels 0.3 %, AUC 0.58. */
export const rmspropLow = build({
  number: 3,
  params: { ...rmsprop(1e-4, 1.0), frozen_layers: 0 },
  auc: [0.52, 0.54, 0.55, 0.57, 0.58],
  kernels: 0.003,
  biases: 0.002,
  sparsity: 0.59,
  dead: 0.04,
});
/** (b) TF1 RMSProp lr 0.01, epsilon 1e-8: kernels 104 %, 99.7 % zeros in a late block, AUC 0.63. */
export const rmspropSmallEpsilon = build({
  number: 4,
  params: { ...rmsprop(0.01, 1e-8), frozen_layers: 0 },
  auc: [0.62, 0.7, 0.66, 0.63],
  kernels: 1.04,
  biases: 0.5,
  sparsity: 0.997,
  dead: 0.97,
});
/** Adam 1e-4 from scratch: learns, slower. */
export const adamScratch = build({
  number: 5,
  params: { optimizer: 'adam', learning_rate: 1e-4, opt_epsilon: 1e-8, frozen_layers: 0, pretrained: false },
  auc: [0.68, 0.69, 0.73, 0.74],
  kernels: 0.077,
  biases: 0.03,
  sparsity: 0.49,
  dead: 0.05,
});

/** The six configs of one study. */
export const inceptionStudy: readonly TrialView[] = [
  practitioner,
  adamAllLayers,
  adamHeadOnly,
  rmspropLow,
  rmspropSmallEpsilon,
  adamScratch,
];

/** SGD at 5.5e-6: kernels and biases (about 5e-5) barely moved, AUC flat at chance. */
export const sgdTiny = build({
  number: 6,
  params: { optimizer: 'sgd', learning_rate: 5.5e-6, frozen_layers: 1 },
  auc: [0.49, 0.5, 0.5],
  kernels: 2e-5,
  biases: 5e-5,
  sparsity: 0.45,
  dead: 0.03,
});
