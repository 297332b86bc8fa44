import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EpochRecord, Params, Runner, TrialJob, TrialOutcome } from '@sweepd/core';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearDatasetCache, generateSynthetic, writeDiskDataset } from '../data/index.ts';
import { selectBackend } from './backend.ts';
import { TFJS_METRICS } from './check-spec.ts';
import { tfjsRunnerPlugin } from './runner.ts';

const DATA = { classes: 4, train_size: 256, val_size: 128, image_size: 32, seed: 3 };

function job(params: Params, extra: Partial<TrialJob> = {}, options: Record<string, unknown> = {}): TrialJob {
  return {
    studyId: 'study',
    trialId: `trial-${Math.random().toString(36).slice(2)}`,
    number: 1,
    params,
    maxEpochs: 3,
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    trainer: { runner: 'tfjs', model: 'scratch', dataset: 'synthetic', options: { dataset_options: DATA, ...options } },
    pool: 'default',
    ...extra,
  };
}

async function run(
  j: TrialJob,
  hooks: { onReport?: (e: EpochRecord, abort: AbortController) => void } = {},
  shared?: Runner,
): Promise<{ outcome: TrialOutcome; epochs: EpochRecord[]; endedAt: number; logs: string[] }> {
  const runner = shared ?? (await tfjsRunnerPlugin.create(tfjsRunnerPlugin.parseOptions({ backend: 'wasm' }), { cacheDir, log: () => {} }));
  const controller = new AbortController();
  const epochs: EpochRecord[] = [];
  const logs: string[] = [];
  const outcome = await runner.run(j, {
    signal: controller.signal,
    log: (m) => logs.push(m),
    report: async (e) => {
      epochs.push(e);
      hooks.onReport?.(e, controller);
    },
  });
  // When the run itself ended: closing the runner (its worker threads) is no part of stopping the trial.
  const endedAt = performance.now();
  if (!shared) await runner.close?.();
  return { outcome, epochs, endedAt, logs };
}

let cacheDir: string;

describe('tfjs runner', () => {
  beforeAll(async () => {
    cacheDir = await mkdtemp(path.join(tmpdir(), 'sweepd-runner-'));
    await selectBackend('wasm');
  });
  afterAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('learns the synthetic task and reports every metric and layer statistic', async () => {
    const { outcome, epochs } = await run(job({ optimizer: 'adam', learning_rate: 0.003, seed: 1 }));
    expect(outcome.state).toBe('completed');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    const last = epochs[2]!;
    expect(last.metrics.val_auc_macro).toBeGreaterThan(0.6);
    // Every metric the submit-time check accepts as an objective is reported, and nothing else.
    for (const m of TFJS_METRICS) expect(Number.isFinite(last.metrics[m]), m).toBe(true);
    expect(Object.keys(last.metrics).filter((m) => !(TFJS_METRICS as readonly string[]).includes(m) && !/^val_(auc|ap)\[/.test(m))).toEqual(
      [],
    );
    for (let k = 0; k < 4; k++) {
      expect(last.metrics[`val_auc[class_${k}]`]).toBeGreaterThanOrEqual(0);
      expect(last.metrics[`val_ap[class_${k}]`]).toBeGreaterThanOrEqual(0);
    }
    expect(epochs[0]!.metrics.train_loss).toBeGreaterThan(last.metrics.train_loss!);
    expect(last.notes).toMatchObject({ backend: 'wasm', frozen_layers: [], feature_cache: false, auc_undefined_classes: [] });
    expect(last.layers.map((l) => l.layer)).toEqual(['conv1', 'conv2', 'conv3', 'fc1', 'logits']);
    const conv2 = last.layers.find((l) => l.layer === 'conv2')!;
    expect(conv2.kernelMovement).toBeGreaterThan(0);
    expect(conv2.biasMovement).toBeGreaterThan(0);
    expect(conv2.updateRatio).toBeGreaterThan(0);
    expect(conv2.quantiles).toHaveLength(7);
    expect(conv2.sparsity).toBeGreaterThan(0);
    expect(conv2.sparsity).toBeLessThan(1);
    expect(conv2.deadFraction).toBeGreaterThanOrEqual(0);
    expect(last.layers.find((l) => l.layer === 'logits')!.sparsity).toBeUndefined();
    // Learning at 3e-3: kernels move, so no epoch is flagged stalled; the flags come with their evidence.
    for (const e of epochs) {
      const flags = e.notes?.diagnostics as { stalled: boolean; dying: boolean; detail: string };
      expect(flags).toMatchObject({ stalled: false, dying: expect.any(Boolean) });
      expect(flags.detail, flags.detail).toMatch(
        /kernels: largest update ratio .* \(\w+\) ≥ 0\.0001; (dying|dead units): largest dead fraction [\d.]+ \(\w+\)/,
      );
    }
  });

  it('keeps frozen layers bit-identical, and feature caching gives the same trial as no caching', async () => {
    const params = { optimizer: 'rmsprop', learning_rate: 0.001, frozen_layers: 2, seed: 2 };
    const runner = await tfjsRunnerPlugin.create(tfjsRunnerPlugin.parseOptions({ backend: 'wasm' }), { cacheDir, log: () => {} });
    const cached = await run(job(params, { maxEpochs: 2 }), {}, runner);
    const reused = await run(job(params, { maxEpochs: 2 }), {}, runner);
    const plain = await run(job(params, { maxEpochs: 2 }, { feature_cache: false }), {}, runner);
    // A spec's feature_cache_mb holds for its trials in a process that outlives them: 0 keeps nothing.
    const unkept = await run(job(params, { maxEpochs: 1 }, { feature_cache_mb: 0 }), {}, runner);
    expect(unkept.epochs[0]!.notes).toMatchObject({ feature_cache: true, feature_cache_reused: false });
    expect(cached.epochs[0]!.notes).toMatchObject({ feature_cache_reused: false });
    expect(reused.epochs[0]!.notes).toMatchObject({ feature_cache: true, feature_cache_reused: true });
    // Reused features are the same numbers: the whole trial repeats exactly (timings aside).
    const untimed = (r: { epochs: EpochRecord[] }) => r.epochs.map(({ metrics: { epoch_seconds: _t, ...m } }) => m);
    expect(untimed(reused)).toEqual(untimed(cached));
    expect(cached.outcome.state).toBe('completed');
    expect(cached.epochs[0]!.notes).toMatchObject({ feature_cache: true, frozen_layers: ['conv1', 'conv2'] });
    expect(plain.epochs[0]!.notes).toMatchObject({ feature_cache: false, frozen_layers: ['conv1', 'conv2'] });
    for (const run of [cached, plain]) {
      for (const e of run.epochs) {
        for (const name of ['conv1', 'conv2']) {
          const l = e.layers.find((s) => s.layer === name)!;
          expect(l.trainable).toBe(false);
          expect(l.kernelMovement).toBe(0);
          expect(l.biasMovement).toBe(0);
        }
        expect(e.layers.find((s) => s.layer === 'conv3')!.kernelMovement).toBeGreaterThan(0);
      }
    }
    for (let i = 0; i < 2; i++) {
      const a = cached.epochs[i]!.metrics;
      const b = plain.epochs[i]!.metrics;
      for (const m of ['train_loss', 'val_loss', 'val_auc_macro', 'val_auc_micro']) expect(a[m]).toBeCloseTo(b[m]!, 4);
      const ka = cached.epochs[i]!.layers.find((s) => s.layer === 'fc1')!;
      const kb = plain.epochs[i]!.layers.find((s) => s.layer === 'fc1')!;
      expect(ka.kernelMovement).toBeCloseTo(kb.kernelMovement!, 4);
    }
  });

  it('stops at the next batch when the signal is aborted', async () => {
    const big = job({ optimizer: 'sgd', learning_rate: 0.01 }, { maxEpochs: 50 }, { dataset_options: { ...DATA, train_size: 2048 } });
    // Aborted halfway through epoch 3, timed by epoch 2 on the same clock and load: it ends within a
    // quarter of an epoch (a few batches of 32), not the half epoch of 2048 left.
    let reportedAt = 0;
    let epochMs = 0;
    let abortedAt = 0;
    const mid = await run(big, {
      onReport: (e, controller) => {
        const now = performance.now();
        if (e.epoch === 2) {
          epochMs = now - reportedAt;
          setTimeout(() => {
            abortedAt = performance.now();
            controller.abort('stopped by test');
          }, epochMs / 2);
        }
        reportedAt = now;
      },
    });
    expect(mid.outcome).toMatchObject({ state: 'stopped', reason: 'stopped by test' });
    expect(mid.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(mid.endedAt - abortedAt).toBeLessThan(epochMs / 4);
    const between = await run(job({ optimizer: 'sgd', learning_rate: 0.01 }, { maxEpochs: 5 }), {
      onReport: (e, controller) => {
        if (e.epoch === 2) controller.abort('rule: median');
      },
    });
    expect(between.outcome).toMatchObject({ state: 'stopped', reason: 'rule: median' });
    expect(between.epochs.map((e) => e.epoch)).toEqual([1, 2]);
  });

  it('fails a diverging trial after reporting its epoch', async () => {
    // lr·weight_decay = 100 makes every kernel step multiply it by (1 − 100): |w| overflows to
    // Infinity within ~20 steps whatever the data, and Infinity − Infinity or 0·Infinity give NaN.
    const diverging = { optimizer: 'sgd', learning_rate: 1000, weight_decay: 0.1, learning_rate_decay_type: 'fixed', batch_size: 16 };
    const { outcome, epochs } = await run(job(diverging));
    expect(outcome.state).toBe('failed');
    expect(outcome.reason).toMatch(/^diverged: (train|val)_loss is (NaN|Infinity) at epoch \d$/);
    const n = Number(outcome.reason!.at(-1));
    expect(epochs).toHaveLength(n);
    expect(epochs.at(-1)!.notes).toMatchObject({ diverged: true });
  });

  it('leaves the tensor count flat over three trials in a row', async () => {
    const j = job({ optimizer: 'momentum', learning_rate: 0.01, frozen_layers: 1 }, { maxEpochs: 1 });
    await run(j); // first trial warms up lazily created tensors (backend, dataset cache is plain arrays)
    const before = tf.memory().numTensors;
    const optimizers = ['momentum', 'rmsprop', 'adam'];
    for (let i = 0; i < 3; i++) {
      const trial = await run({
        ...j,
        params: { ...j.params, optimizer: optimizers[i]!, frozen_layers: i, weight_decay: i === 1 ? 0 : 4e-5 },
      });
      expect(trial.outcome.state).toBe('completed');
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fails trials with bad setup and rejects bad options by name', async () => {
    const bad = await run(job({}, { trainer: { runner: 'tfjs', dataset: 'imagenet', model: 'scratch' } }));
    expect(bad.outcome).toMatchObject({ state: 'failed', reason: expect.stringMatching(/setup: unknown dataset "imagenet"/) });
    const builtin = await run(job({}, { trainer: { runner: 'tfjs', dataset: 'synthetic', model: 'builtin:resnet' } }));
    expect(builtin.outcome.reason).toMatch(
      /setup: unknown builtin model "builtin:resnet": expected one of builtin:small-cnn, builtin:fashion-cnn/,
    );
    const frozen = await run(job({ frozen_layers: 9 }));
    expect(frozen.outcome.reason).toMatch(/frozen_layers 9 would freeze every layer/);
    const params = await run(job({ optimizer: 'lbfgs' }));
    expect(params.outcome.reason).toMatch(/optimizer must be one of/);
    expect(() => tfjsRunnerPlugin.parseOptions({ backend: 'cuda' })).toThrow(/backend: must be one of/);
    expect(() => tfjsRunnerPlugin.parseOptions({ probe_size: 0 })).toThrow(/probe_size/);
    expect(() => tfjsRunnerPlugin.parseOptions({ typo: 1 })).toThrow(/typo/);
  });

  it('trains on a dataset directory (trainer.dataset: ./dir) and fails setup on a broken one', async () => {
    const dir = path.join(cacheDir, 'disk-dataset');
    writeDiskDataset(dir, generateSynthetic({ classes: 3, trainSize: 64, valSize: 32, imageSize: 16, seed: 5 }), { imageFormat: 'u8' });
    const trainer = { runner: 'tfjs', model: 'scratch', dataset: dir, options: {} };
    const ok = await run(job({ optimizer: 'adam', learning_rate: 0.003 }, { maxEpochs: 1, trainer }));
    expect(ok.outcome.state).toBe('completed');
    expect(ok.epochs[0]!.metrics.val_auc_macro).toBeGreaterThan(0);
    await writeFile(path.join(dir, 'val-labels.u8'), new Uint8Array(7));
    clearDatasetCache();
    const broken = await run(job({}, { maxEpochs: 1, trainer }));
    expect(broken.outcome).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/setup: dataset .*val-labels\.u8 has 7 bytes, not a positive multiple of the 3 classes/),
    });
  });

  it('fine-tunes the builtin pretrained backbone with a new head, pretraining it once', async () => {
    const j = job(
      { optimizer: 'adam', learning_rate: 0.001, frozen_layers: 3 },
      { maxEpochs: 2, trainer: { runner: 'tfjs', dataset: 'synthetic', options: { dataset_options: DATA } } },
    );
    const first = await run(j);
    expect(first.outcome.state).toBe('completed');
    expect(first.logs.some((m) => m.startsWith('pretrained small_cnn'))).toBe(true);
    expect(first.epochs[1]!.notes).toMatchObject({ feature_cache: true, frozen_layers: ['conv1', 'conv2', 'conv3'] });
    expect(first.epochs[1]!.metrics.val_auc_macro).toBeGreaterThan(0.6);
    const second = await run(j);
    expect(second.logs.some((m) => m.startsWith('pretrained'))).toBe(false);
  });
});
