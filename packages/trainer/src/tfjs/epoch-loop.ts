import { Rng } from '@sweepd/core';
import * as tf from '@tensorflow/tfjs';
import type { GradientThreads } from './data-parallel.ts';
import { dataParallelStep, type StepContext, singleThreadStep } from './train-step.ts';

/** Thrown between batches when the trial's signal was aborted (a stop message). */
export class Stopped extends Error {}

/** Yields to the event loop so that an abort (a stop message) can arrive between batches. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  return 'stopped';
}

/** A seeded permutation of 0..n-1 (Fisher–Yates), the same for the same seed and epoch. */
function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

/**
 * One pass over the training set in a seeded order, one optimizer step per batch (on the gradient
 * threads when `parallel`); returns the mean training loss. Throws Stopped when `signal` aborts.
 */
export async function trainEpoch(
  step: StepContext,
  options: { nTrain: number; batchSize: number; seed: number; epoch: number; parallel?: GradientThreads; signal: AbortSignal },
): Promise<number> {
  const { nTrain, batchSize, parallel, signal } = options;
  const order = permutation(nTrain, new Rng(`${options.seed}:epoch:${options.epoch}`));
  // Summed on the backend: reading a loss back every batch would stall the pipeline.
  let lossSum: tf.Scalar = tf.scalar(0);
  try {
    for (let start = 0; start < nTrain; start += batchSize) {
      await yieldToEventLoop();
      if (signal.aborted) throw new Stopped(abortReason(signal));
      const size = Math.min(batchSize, nTrain - start);
      const rows = order.subarray(start, start + size);
      const dataLoss = parallel ? await dataParallelStep(step, rows, parallel) : singleThreadStep(step, rows);
      const batchLoss = tf.mul(dataLoss, size) as tf.Scalar;
      dataLoss.dispose();
      const next = tf.add(lossSum, batchLoss) as tf.Scalar;
      tf.dispose([lossSum, batchLoss]);
      lossSum = next;
    }
    return ((await lossSum.data())[0] as number) / nTrain;
  } finally {
    lossSum.dispose();
  }
}
