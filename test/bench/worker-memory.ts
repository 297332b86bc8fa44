/**
 * A long-running worker stays healthy: 100 real trials in one process through one TfjsRunner
 * (alternating optimizers, frozen prefixes and the pretrained backbone, as a study would), with
 * the tensor count and resident memory printed as it goes. Target: tensors identical before and
 * after every trial, resident memory flat (no growth trend) after the first trials warm up.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Params, TrialJob } from '@sweepd/core';
import { tfjsRunnerPlugin } from '@sweepd/trainer/tfjs';
import * as tf from '@tensorflow/tfjs';

const OPTIMIZERS = ['sgd', 'momentum', 'rmsprop', 'adam'] as const;

export async function runWorkerMemoryBench(options: { trials?: number } = {}): Promise<{ rssMb: number[]; tensorDrift: number }> {
  const trials = options.trials ?? 100;
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'sweepd-memory-'));
  const runner = await tfjsRunnerPlugin.create(tfjsRunnerPlugin.parseOptions({}), { cacheDir, log: () => {} });
  const rssMb: number[] = [];
  let tensorDrift = 0;
  const started = performance.now();
  for (let i = 0; i < trials; i++) {
    const params: Params = {
      optimizer: OPTIMIZERS[i % 4] as string,
      learning_rate: 10 ** -(2 + (i % 3)),
      frozen_layers: i % 5,
      batch_size: 32,
    };
    const job: TrialJob = {
      studyId: 'memory',
      trialId: `t${i}`,
      number: i,
      params,
      maxEpochs: 2,
      objective: { metric: 'val_auc_macro', direction: 'maximize' },
      trainer: {
        runner: 'tfjs',
        model: 'builtin:small-cnn',
        dataset: 'synthetic',
        options: { dataset_options: { classes: 6, train_size: 128, val_size: 64 } },
      },
      pool: 'default',
    };
    const before = tf.memory().numTensors;
    const outcome = await runner.run(job, { signal: new AbortController().signal, report: async () => {}, log: () => {} });
    if (outcome.state !== 'completed') throw new Error(`trial ${i} ended ${outcome.state}: ${outcome.reason}`);
    tensorDrift = Math.max(tensorDrift, Math.abs(tf.memory().numTensors - before));
    if (global.gc) global.gc();
    rssMb.push(process.memoryUsage().rss / 2 ** 20);
    if ((i + 1) % 10 === 0) {
      console.log(
        `trial ${String(i + 1).padStart(3)}: rss ${rssMb.at(-1)?.toFixed(0)} MiB, tensors ${tf.memory().numTensors}, wasm/heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
      );
    }
  }
  await runner.close?.();
  const at = (n: number) => rssMb[Math.min(rssMb.length, n) - 1] ?? Number.NaN;
  const growth = at(trials) - at(Math.min(20, trials));
  console.log(`${trials} trials in ${((performance.now() - started) / 1000).toFixed(0)} s on backend ${tf.getBackend()}`);
  console.log(`tensor count change over any trial: ${tensorDrift} (target 0): ${tensorDrift === 0 ? 'PASS' : 'FAIL'}`);
  console.log(
    `resident memory: ${at(20).toFixed(0)} MiB after 20 trials, ${at(trials).toFixed(0)} MiB after ${trials} (${growth >= 0 ? '+' : ''}${growth.toFixed(0)} MiB): ${growth < 50 ? 'PASS (flat)' : 'FAIL (grows)'}`,
  );
  return { rssMb, tensorDrift };
}

if (import.meta.url === `file://${process.argv[1]}`) await runWorkerMemoryBench();
