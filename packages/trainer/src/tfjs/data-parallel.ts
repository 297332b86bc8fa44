import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';

/**
 * Data parallelism over threads. tfjs-backend-wasm runs on one thread in Node (its threaded
 * build creates workers from blob: URLs, tfjs issue 3830), so on a 2-core machine half the CPU
 * sat idle. Here each batch is split into shares: the main thread computes the gradient of its
 * share, each gradient thread (gradient-worker.ts, its own tfjs engine with a model replica) that
 * of another, each scaled by its share's fraction of the batch, so that their sum is exactly the
 * full batch's mean-loss gradient. The main thread sums them and applies one optimizer step.
 * Replicas receive the current trainable weights with every step (~360 kB for the reference
 * CNN, far below a step's compute) instead of replaying the update: the optimizer, learning-rate
 * schedule and weight decay then live in one place and replicas cannot drift.
 */

export type ToGradientWorker =
  | { type: 'init'; backend: string }
  | {
      type: 'trial';
      topology: unknown;
      weights: Array<{ values: Float32Array; shape: number[] }>;
      inputs: Float32Array;
      inputShape: number[];
      labels: Float32Array;
      labelShape: number[];
    }
  | { type: 'step'; step: number; indices: Int32Array; weight: number; weights: Float32Array[] }
  | { type: 'end-trial' };

export type FromGradientWorker =
  | { type: 'ready'; backend: string }
  | { type: 'trial-ready'; trainable: number }
  | { type: 'grads'; step: number; grads: Float32Array[]; loss: number }
  | { type: 'trial-ended'; numTensors: number }
  | { type: 'error'; message: string };

/** Environment variable the process pool sets: this process's share of the cores (so that N trainer processes do not oversubscribe them). */
export const TRAINER_THREADS_ENV = 'SWEEPD_TRAINER_THREADS';

/**
 * Threads used when the options do not say. On wasm (one engine per thread): SWEEPD_TRAINER_THREADS
 * when set (the process pool gives each of its processes cores / processes), else min(2, cores);
 * other backends run their own threads, so 1. A malformed variable is an error naming it.
 */
export function defaultThreads(backend: string, env: NodeJS.ProcessEnv = process.env): number {
  if (backend !== 'wasm') return 1;
  const raw = env[TRAINER_THREADS_ENV];
  if (raw === undefined || raw.trim() === '') return Math.min(2, availableParallelism());
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new Error(`${TRAINER_THREADS_ENV} must be an integer from 1 to 64, got ${JSON.stringify(raw)}`);
  return n;
}

/** Layers whose training-mode output depends on the whole batch or on random draws: splitting the batch would change the result. */
const BATCH_DEPENDENT = new Set([
  'BatchNormalization',
  'LayerNormalization',
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
]);

/** Why `model` cannot be trained data-parallel with the same result, or undefined when it can. */
export function dataParallelObstacle(model: tf.LayersModel): string | undefined {
  const layer = model.layers.find((l) => BATCH_DEPENDENT.has(l.getClassName()));
  return layer ? `layer ${layer.name} (${layer.getClassName()}) depends on the whole batch or on random draws` : undefined;
}

/** Splits `rows` into `parts` contiguous shares, the larger ones first (the main thread takes share 0). */
export function splitRows(rows: Int32Array, parts: number): Int32Array[] {
  const shares: Int32Array[] = [];
  const base = Math.floor(rows.length / parts);
  let extra = rows.length % parts;
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const size = base + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
    shares.push(rows.subarray(start, start + size));
    start += size;
  }
  return shares;
}

const WORKER_ENTRY = new URL('./gradient-worker.ts', import.meta.url).href;
// Worker threads do not take --import in execArgv on Node 20, so the thread registers tsx's
// loader itself before importing the TypeScript entry (resolved from here, not from the cwd).
const TSX_API = import.meta.resolve('tsx/esm/api');
const BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_ENTRY)}); });`;

class GradientThread {
  private waiter: { resolve: (m: FromGradientWorker) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(readonly worker: Worker) {
    worker.unref(); // an idle thread must not keep the process alive
    worker.on('message', (m: FromGradientWorker) => {
      const w = this.waiter;
      this.waiter = undefined;
      this.worker.unref();
      if (!w) return;
      if (m.type === 'error') w.reject(new Error(`gradient thread: ${m.message}`));
      else w.resolve(m);
    });
    const fail = (error: Error) => {
      this.failure = error;
      this.waiter?.reject(error);
      this.waiter = undefined;
    };
    worker.on('error', (e) => fail(new Error(`gradient thread failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`gradient thread exited (code ${code})`)));
  }

  call(message: ToGradientWorker, transfer: ArrayBuffer[] = []): Promise<FromGradientWorker> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error('gradient thread is busy (one request at a time)'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.worker.ref(); // keep the process alive while the main thread waits for the answer
      this.worker.postMessage(message, transfer);
    });
  }
}

/** The gradient threads of one runner, reused from trial to trial (starting one costs ~1 s). */
export class GradientThreads {
  private step = 0;

  private constructor(
    private readonly threads: GradientThread[],
    readonly backend: string,
  ) {}

  /** Starts `count − 1` gradient threads on `backend` (the main thread is the count-th). */
  static async start(count: number, backend: string): Promise<GradientThreads> {
    if (!Number.isInteger(count) || count < 2) throw new Error(`GradientThreads needs at least 2 threads, got ${count}`);
    const threads = Array.from({ length: count - 1 }, () => new GradientThread(new Worker(BOOTSTRAP, { eval: true, env: process.env })));
    const pool = new GradientThreads(threads, backend);
    try {
      const answers = await Promise.all(threads.map((t) => t.call({ type: 'init', backend })));
      for (const a of answers) {
        if (a.type !== 'ready' || a.backend !== backend)
          throw new Error(`gradient thread started on ${a.type === 'ready' ? a.backend : a.type}, not ${backend}`);
      }
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Threads including the main one. */
  get count(): number {
    return this.threads.length + 1;
  }

  /** Hands every thread a replica of `model` (all weights) and the rows it will index into. */
  async beginTrial(model: tf.LayersModel, inputs: tf.Tensor, labels: tf.Tensor): Promise<void> {
    const topology = model.toJSON(null, false);
    const weights = model.weights.map((w) => ({ values: w.read().dataSync() as Float32Array, shape: w.shape as number[] }));
    const message: ToGradientWorker = {
      type: 'trial',
      topology,
      weights,
      inputs: inputs.dataSync() as Float32Array,
      inputShape: inputs.shape,
      labels: labels.dataSync() as Float32Array,
      labelShape: labels.shape,
    };
    const answers = await Promise.all(this.threads.map((t) => t.call(message)));
    const trainable = model.trainableWeights.length;
    for (const a of answers) {
      if (a.type !== 'trial-ready' || a.trainable !== trainable)
        throw new Error(
          `gradient thread built a replica with ${a.type === 'trial-ready' ? a.trainable : '?'} trainable weights, expected ${trainable}`,
        );
    }
  }

  /**
   * Sends share i+1 of a batch of `batchSize` rows to thread i with the current trainable
   * weights; resolves to each thread's gradients (in trainable-weight order) and the sum of
   * their weighted losses.
   */
  gradients(shares: Int32Array[], batchSize: number, weights: Float32Array[]): Promise<{ grads: Float32Array[][]; loss: number }> {
    if (shares.length !== this.threads.length) throw new Error(`got ${shares.length} shares for ${this.threads.length} gradient threads`);
    const step = ++this.step;
    const pending = this.threads.map((t, i) => {
      const indices = shares[i] as Int32Array;
      return t.call({ type: 'step', step, indices: indices.slice(), weight: indices.length / batchSize, weights });
    });
    return Promise.all(pending).then((answers) => {
      const grads: Float32Array[][] = [];
      let loss = 0;
      for (const a of answers) {
        if (a.type !== 'grads' || a.step !== step) throw new Error(`gradient thread answered ${a.type} to step ${step}`);
        grads.push(a.grads);
        loss += a.loss;
      }
      return { grads, loss };
    });
  }

  /** Frees the replicas and data of the trial; resolves to each thread's remaining tensor count. */
  async endTrial(): Promise<number[]> {
    const answers = await Promise.all(this.threads.map((t) => t.call({ type: 'end-trial' })));
    return answers.map((a) => (a.type === 'trial-ended' ? a.numTensors : Number.NaN));
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
