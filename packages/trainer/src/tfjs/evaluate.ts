import { type ActivationSparsity, multilabelAuc } from '@sweepd/core';
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/index.ts';
import { sparsityOf } from './diagnostics.ts';

/** Runs `model` over `x` in batches and concatenates the outputs (kept by the caller). */
export function predictInBatches(model: tf.LayersModel, x: tf.Tensor, batchSize: number): tf.Tensor {
  const n = x.shape[0] as number;
  const parts: tf.Tensor[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    parts.push(tf.tidy(() => model.predict(x.slice(start, size)) as tf.Tensor));
  }
  const out = parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts);
  if (parts.length > 1) tf.dispose(parts);
  return out;
}

/**
 * The validation pass. The first `probe` images go through a model that also returns the ReLU
 * layers' outputs, so the activation statistics cost no extra forward pass.
 */
export function evaluate(
  trainModel: tf.LayersModel,
  probeModel: tf.LayersModel | undefined,
  probeLayers: readonly string[],
  inputs: tf.Tensor,
  labels: tf.Tensor,
  probe: number,
  batchSize: number,
): { logits: tf.Tensor; loss: tf.Scalar; activations: Map<string, ActivationSparsity>; activationSeconds: number } {
  const activations = new Map<string, ActivationSparsity>();
  let activationSeconds = 0;
  const { logits, loss } = tf.tidy(() => {
    const n = inputs.shape[0] as number;
    const parts: tf.Tensor[] = [];
    let start = 0;
    if (probeModel && probe > 0) {
      const [head, ...relus] = probeModel.predict(inputs.slice(0, probe)) as tf.Tensor[];
      // Timed as diagnostics although reading the outputs also waits for the probe batch's forward pass.
      const t0 = performance.now();
      relus.forEach((t, i) => {
        activations.set(probeLayers[i] as string, sparsityOf(t));
      });
      activationSeconds = (performance.now() - t0) / 1000;
      parts.push(head as tf.Tensor);
      start = probe;
    }
    for (; start < n; start += batchSize) parts.push(trainModel.predict(inputs.slice(start, Math.min(batchSize, n - start))) as tf.Tensor);
    const all = parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts);
    return { logits: all, loss: tf.losses.sigmoidCrossEntropy(labels, all) as tf.Scalar };
  });
  return { logits, loss, activations, activationSeconds };
}

/**
 * The AUC metrics of one validation pass into `metrics` (macro, micro, macro AP, per class), and
 * the classes without an AUC (one label value only in the validation set) into `notes`.
 */
export function recordAuc(
  dataset: ImageDataset,
  scores: Float32Array,
  metrics: Record<string, number>,
  notes: Record<string, unknown>,
): void {
  // Logits, not sigmoids, as scores: same order, and no ties from float32 saturation at 1.
  const auc = multilabelAuc(dataset.validation.labels, scores, dataset.classes.length);
  if (auc.macro !== null) metrics.val_auc_macro = auc.macro;
  if (auc.micro !== null) metrics.val_auc_micro = auc.micro;
  if (auc.macroAveragePrecision !== null) metrics.val_ap_macro = auc.macroAveragePrecision;
  dataset.classes.forEach((name, k) => {
    const a = auc.perClass[k];
    const ap = auc.averagePrecision[k];
    if (a !== null && a !== undefined) metrics[`val_auc[${name}]`] = a;
    if (ap !== null && ap !== undefined) metrics[`val_ap[${name}]`] = ap;
  });
  notes.auc_undefined_classes = auc.omitted.map((k) => dataset.classes[k]);
}
