/**
 * finetune.yaml through the real command runner: one trial of finetune.py with the spec's argv,
 * flags and cwd, on the CPU. It reports per-class AUC and layer statistics each epoch; a stop
 * after epoch 1 (as a stopping rule sends) ends it cleanly through should_stop(), without signals.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EpochRecord, parseSpecText, type TrialJob } from '@sweepd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandRunner } from '../../packages/trainer/src/command/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const spec = parseSpecText(readFileSync(path.join(here, 'finetune.yaml'), 'utf8'));
const root = mkdtempSync(path.join(tmpdir(), 'sweepd-finetune-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('examples/pytorch/finetune.yaml through the command runner', () => {
  it('a trial reports AUC and layer statistics, and stops cleanly when asked', { timeout: 400_000 }, async () => {
    const options = spec.trainer.options as Record<string, unknown>;
    const job: TrialJob = {
      studyId: 'st_example',
      trialId: 'tr_finetune',
      number: 1,
      params: { ...spec.fixed, learning_rate: 0.003, optimizer: 'rmsprop', frozen_layers: 2 },
      maxEpochs: 3,
      objective: spec.objective,
      // the spec's cwd is relative to the worker's working directory: the repository root
      trainer: { runner: 'command', options: { ...options, cwd: path.resolve(repo, options.cwd as string) } },
      pool: 'default',
    };
    const runner = new CommandRunner({ cacheDir: path.join(root, 'cache') });
    const epochs: EpochRecord[] = [];
    const logs: string[] = [];
    const controller = new AbortController();
    const outcome = await runner.run(job, {
      signal: controller.signal,
      report: async (e) => {
        epochs.push(e);
        if (epochs.length === 1) controller.abort(new Error('median: below the median at epoch 1'));
      },
      log: (m) => logs.push(m),
    });
    expect(outcome.state, `${JSON.stringify(outcome)}\n${logs.join('\n')}`).toBe('stopped');
    expect(outcome.notes?.signals_sent, `${JSON.stringify(outcome.notes)}\n${logs.join('\n')}`).toBeUndefined(); // finetune.py ended on its own
    expect(epochs.map((e) => e.epoch)).toEqual([1]);
    const [e] = epochs;
    expect(e!.metrics.val_auc_macro).toBeGreaterThan(0);
    expect(Object.keys(e!.metrics)).toEqual(
      expect.arrayContaining(['train_loss', 'val_loss', 'val_auc_micro', 'val_auc[obj_0]', 'learning_rate']),
    );
    expect(e!.notes).toMatchObject({
      device: 'cpu',
      frozen_blocks: 2,
      feature_cache: 'computed',
      optimizer: 'rmsprop_tf1',
      auc_undefined_classes: ['obj_4'],
    });
    const fc = e!.layers.find((l) => l.layer === 'fc');
    expect(fc?.trainable).toBe(true);
    expect(fc?.quantiles).toHaveLength(7);
    expect(e!.layers.some((l) => l.layer === 'features.block4.relu2' && l.deadFraction !== undefined)).toBe(true);
  });
});
