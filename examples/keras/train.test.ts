/**
 * The Keras example for real: spec.yaml passes the command runner's checks with no warning, and
 * the script, run as the spec runs it (sh -c … "$@" with the flags appended, cwd examples/keras),
 * trains 2 epochs on the CPU with the stock TensorBoard callback. The TensorBoard collector, with
 * the spec's tags, makes the epochs sweepd stores from its event files: every epoch, the last one
 * too, from poll() (complete as the files hold it, not held back for finish() at the script's
 * exit; the collector's tests follow files as they are written), its AUCs, per class and
 * macro, equal to scikit-learn's on the predictions it saved, and the frozen layer told by its
 * unchanged histogram.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpecText } from '@sweepd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCommandSpec, commandSpecWarnings } from '../../packages/trainer/src/command/index.ts';
import { TensorBoardCollector } from '../../packages/trainer/src/tensorboard/index.ts';
import { commandOptionsOf, runAsTheSpecRunsIt, sklearnAucs } from '../../test/support/example-script.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const spec = parseSpecText(readFileSync(path.join(here, 'spec.yaml'), 'utf8'));
const work = mkdtempSync(path.join(tmpdir(), 'sweepd-keras-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('examples/keras', () => {
  it('spec.yaml passes the command runner checks, with no warning', () => {
    expect(checkCommandSpec(spec, { baseDir: repo })).toEqual([]);
    expect(commandSpecWarnings(spec)).toEqual([]);
  });

  it('the script trains 2 epochs as the spec runs it, and the collector reads its event files', { timeout: 300_000 }, async () => {
    const options = commandOptionsOf(spec);
    const trialDir = path.join(work, 'trial');
    const params = { ...spec.fixed, learning_rate: 0.003, optimizer: 'adam', frozen_layers: 1, epochs: 2, save_predictions: true };
    const res = runAsTheSpecRunsIt(spec, params, trialDir);
    expect(res.status, res.stderr.slice(-3000)).toBe(0);
    const dir = path.join(trialDir, options.tensorboard!.dir);
    const collector = new TensorBoardCollector({ dir, tags: options.tensorboard!.tags });
    // Both epochs from poll(): the last is complete in the files (its step holds everything the
    // first epoch's did), so it is not held back until the script has exited.
    const epochs = await collector.poll();
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(await collector.finish()).toEqual([]);

    const expected = sklearnAucs(dir, 'scores');
    for (const e of epochs) {
      const sk = expected[String(e.epoch)] as Record<string, number>;
      const classes = Object.keys(sk).filter((k) => k !== 'macro');
      expect(classes.length).toBe(5);
      expect(Object.keys(e.metrics).sort()).toEqual(
        ['learning_rate', 'train_loss', ...classes.map((c) => `val_auc[${c}]`), 'val_auc_macro', 'val_loss'].sort(),
      );
      // Written as float32 summaries.
      expect(e.metrics.val_auc_macro).toBeCloseTo(sk.macro as number, 6);
      for (const c of classes) expect(e.metrics[`val_auc[${c}]`], c).toBeCloseTo(sk[c] as number, 6);
      expect(e.metrics.learning_rate).toBeCloseTo(0.003, 8);
      expect(e.layers.map((l) => l.layer).sort()).toEqual(['conv1', 'conv2', 'conv3', 'logits']);
      for (const l of e.layers) expect(l.quantiles, l.layer).toHaveLength(7);
    }
    // Read off the histograms: frozen conv1's did not change from epoch 1 to 2, the others' did.
    expect(Object.fromEntries(epochs[1]!.layers.map((l) => [l.layer, l.trainable]))).toEqual({
      conv1: false,
      conv2: true,
      conv3: true,
      logits: true,
    });
  });
});
