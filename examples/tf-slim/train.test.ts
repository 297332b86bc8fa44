/**
 * The TF-slim-style example for real: spec.yaml passes the command runner's checks, and the script,
 * run as the spec runs it (sh -c … "$@" with the flags appended, cwd examples/tf-slim), trains
 * 2 epochs on the CPU and writes event files from which the TensorBoard collector, with the
 * spec's tags and steps_per_epoch, makes the epochs sweepd stores: its AUCs, per class and macro,
 * checked against scikit-learn on the predictions it saved.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpecText } from '@sweepd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCommandSpec } from '../../packages/trainer/src/command/index.ts';
import { TensorBoardCollector } from '../../packages/trainer/src/tensorboard/index.ts';
import { commandOptionsOf, runAsTheSpecRunsIt, sklearnAucs } from '../../test/support/example-script.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const spec = parseSpecText(readFileSync(path.join(here, 'spec.yaml'), 'utf8'));
const work = mkdtempSync(path.join(tmpdir(), 'sweepd-tf-slim-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('examples/tf-slim', () => {
  it('spec.yaml passes the command runner checks', () => {
    expect(checkCommandSpec(spec)).toEqual([]);
  });

  it('the script trains 2 epochs as the spec runs it, and the collector reads its event files', { timeout: 300_000 }, async () => {
    const options = commandOptionsOf(spec);
    const trialDir = path.join(work, 'trial');
    const params = { ...spec.fixed, learning_rate: 0.02, optimizer: 'rmsprop', num_epochs: 2, save_eval_predictions: true };
    const res = runAsTheSpecRunsIt(spec, params, trialDir);
    expect(res.status, res.stderr.slice(-3000)).toBe(0);
    const dir = path.join(trialDir, options.tensorboard!.dir);
    const trainEvents = readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.'));
    expect(trainEvents.length).toBe(1);
    expect(
      existsSync(path.join(dir, 'eval')) && readdirSync(path.join(dir, 'eval')).some((f) => f.startsWith('events.out.tfevents.')),
    ).toBe(true);

    const collector = new TensorBoardCollector({
      dir,
      tags: options.tensorboard!.tags,
      stepsPerEpoch: options.tensorboard!.steps_per_epoch,
    });
    const epochs = [...(await collector.poll()), ...(await collector.finish())];
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    // The AUCs the script writes, per class and their mean, are scikit-learn's on its own predictions.
    const expected = sklearnAucs(path.join(dir, 'eval'), 'logits');
    for (const e of epochs) {
      const classes = ['class_0', 'class_1', 'class_2', 'class_3']; // class_4 is absent from validation: no AUC
      expect(Object.keys(e.metrics).sort()).toEqual(
        ['learning_rate', 'train_loss', ...classes.map((c) => `val_auc[${c}]`), 'val_auc_macro', 'val_loss'].sort(),
      );
      const sk = expected[String(e.epoch)] as Record<string, number>;
      expect(e.metrics.val_auc_macro).toBeCloseTo(sk.macro as number, 6);
      for (const c of classes) expect(e.metrics[`val_auc[${c}]`], c).toBeCloseTo(sk[c] as number, 6);
      const layers = new Map(e.layers.map((l) => [l.layer, l]));
      for (const name of ['Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_3a_3x3']) {
        const l = layers.get(`TinyNet/${name}`);
        expect(l?.sparsity, name).toBeGreaterThanOrEqual(0);
        expect(l?.quantiles).toHaveLength(7);
      }
      expect(layers.get('TinyNet/Logits')?.quantiles).toHaveLength(7);
    }
    // 512 images / 32 = 16 steps; the decay (0.94 every 2 epochs) has not started in 2 epochs
    expect(epochs[1]!.metrics.learning_rate).toBeCloseTo(0.02, 6);
  });
});
