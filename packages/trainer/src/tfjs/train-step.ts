import * as tf from '@tensorflow/tfjs';
import { type GradientThreads, splitRows } from './data-parallel.ts';

/** What one optimizer step needs: the model part being trained and its data. */
export interface StepContext {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  /** The trainable variables, in trainableWeights order. */
  variables: tf.Variable[];
  /** Kernels under weight decay (slim's l2_regularizer). */
  kernels: tf.Tensor[];
  weightDecay: number;
  inputs: tf.Tensor;
  labels: tf.Tensor;
}

interface Batch {
  xb: tf.Tensor;
  yb: tf.Tensor;
}

/**
 * The rows of a batch, gathered outside the gradient tape: under the tape tfjs saves a clone of a
 * gather's inputs for its backward pass — a copy of the whole training set every step (12 MB for
 * 1024 images of 32×32×3) although no gradient flows into the data.
 */
export function gatherBatch(inputs: tf.Tensor, labels: tf.Tensor, rows: Int32Array): Batch {
  return tf.tidy(() => {
    const idx = tf.tensor1d(rows, 'int32');
    return { xb: tf.gather(inputs, idx), yb: tf.gather(labels, idx) };
  });
}

/**
 * The loss of `rows` scaled by `weight` (their fraction of the batch), plus weight decay when
 * `withDecay`; `kept` receives a kept copy of the scaled data loss (without decay).
 */
function shareLoss(ctx: StepContext, batch: Batch, weight: number, withDecay: boolean, kept: { loss?: tf.Scalar }): tf.Scalar {
  const { xb, yb } = batch;
  const logits = ctx.model.apply(xb, { training: true }) as tf.Tensor;
  const ce = tf.losses.sigmoidCrossEntropy(yb, logits) as tf.Scalar;
  const scaled = weight === 1 ? ce : (tf.mul(ce, weight) as tf.Scalar);
  // A kept copy: minimize() disposes the returned cost, which is `scaled` itself without weight decay.
  kept.loss = tf.keep(tf.clone(scaled));
  if (!withDecay || ctx.weightDecay === 0 || ctx.kernels.length === 0) return scaled;
  // slim's l2_regularizer: weight_decay · Σ w² / 2 over the trainable kernels.
  const l2 = tf.addN(ctx.kernels.map((k) => tf.sum(tf.square(k))));
  return tf.add(scaled, tf.mul(l2, ctx.weightDecay / 2)) as tf.Scalar;
}

/** One optimizer step on `rows` in this thread; returns the batch's mean data loss (a scalar the caller disposes). */
export function singleThreadStep(ctx: StepContext, rows: Int32Array): tf.Scalar {
  const kept: { loss?: tf.Scalar } = {};
  tf.tidy(() => {
    const batch = gatherBatch(ctx.inputs, ctx.labels, rows);
    ctx.optimizer.minimize(() => shareLoss(ctx, batch, 1, true, kept), false, ctx.variables);
  });
  return kept.loss as tf.Scalar;
}

/**
 * One optimizer step on `rows` split across the main thread and `threads`: the other shares'
 * gradients are computed meanwhile in the gradient threads (with the weights as they are now),
 * then everything is summed and applied here. Same result as singleThreadStep up to float
 * rounding (summation order). Returns the batch's mean data loss.
 */
export async function dataParallelStep(ctx: StepContext, rows: Int32Array, threads: GradientThreads): Promise<tf.Scalar> {
  const shares = splitRows(rows, threads.count);
  const own = shares[0] as Int32Array;
  // dataSync copies out of the wasm heap: the threads get this step's weights.
  const weights = ctx.variables.map((v) => v.dataSync() as Float32Array);
  const remote = threads.gradients(shares.slice(1), rows.length, weights);
  const kept: { loss?: tf.Scalar } = {};
  let local: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
  const batch = gatherBatch(ctx.inputs, ctx.labels, own);
  try {
    local = tf.variableGrads(() => shareLoss(ctx, batch, own.length / rows.length, true, kept), ctx.variables);
    const answer = await remote;
    const { grads } = local;
    tf.tidy(() => {
      const summed: tf.NamedTensorMap = {};
      ctx.variables.forEach((v, i) => {
        const parts = [grads[v.name] as tf.Tensor, ...answer.grads.map((g) => tf.tensor(g[i] as Float32Array, v.shape))];
        summed[v.name] = tf.addN(parts);
      });
      ctx.optimizer.applyGradients(summed);
    });
    const total = tf.add(kept.loss as tf.Scalar, answer.loss) as tf.Scalar;
    return total;
  } catch (error) {
    // Let the threads finish the step before the error propagates (they are reused by the next trial).
    await remote.catch(() => {});
    throw error;
  } finally {
    tf.dispose([batch.xb, batch.yb]);
    if (local) tf.dispose([local.value, ...Object.values(local.grads)]);
    kept.loss?.dispose();
  }
}
