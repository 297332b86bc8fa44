/**
 * The Keras example for real: spec.yaml passes the command runner's checks with no warning, and
 * the script, run as the spec runs it (sh -c … "$@" with the flags appended, cwd examples/keras),
 * trains 2 epochs on the CPU with the stock TensorBoard callback. The TensorBoard collector, with
 * the spec's tags, makes the epochs sweepd stores from its event files: each epoch as soon as it is
 * in the files (the last one too, without waiting for the script to end), its AUCs, per class and
 * macro, equal to scikit-learn's on the predictions it saved, and the frozen layer told by its
 * unchanged histogram.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpecText } from '@sweepd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArgv, checkCommandSpec, commandSpecWarnings, parseCommandOptions } from '../../packages/trainer/src/command/index.ts';
import { TensorBoardCollector } from '../../packages/trainer/src/tensorboard/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const spec = parseSpecText(readFileSync(path.join(here, 'spec.yaml'), 'utf8'));
const work = mkdtempSync(path.join(tmpdir(), 'sweepd-keras-'));
/** Per epoch, scikit-learn's ROC AUC of each class with both labels and their mean, from the saved predictions. */
const SKLEARN_AUCS = `
import glob, json, os, sys
import numpy as np
from sklearn.metrics import roc_auc_score
out = {}
for f in glob.glob(os.path.join(sys.argv[1], "predictions_*.npz")):
    d = np.load(f)
    aucs = {f"class_{k}": roc_auc_score(d["labels"][:, k], d["scores"][:, k])
            for k in range(d["labels"].shape[1]) if 0 < d["labels"][:, k].sum() < len(d["labels"])}
    out[os.path.basename(f)[len("predictions_"):-len(".npz")]] = {**aucs, "macro": float(np.mean(list(aucs.values())))}
print(json.dumps(out))
`;
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('examples/keras', () => {
  it('spec.yaml passes the command runner checks, with no warning', () => {
    expect(checkCommandSpec(spec, { baseDir: repo })).toEqual([]);
    expect(commandSpecWarnings(spec)).toEqual([]);
  });

  it('the script trains 2 epochs as the spec runs it, and the collector reads its event files', { timeout: 300_000 }, async () => {
    const parsed = parseCommandOptions(spec.trainer.options);
    if (!('options' in parsed)) throw new Error(JSON.stringify(parsed.problems));
    const { options } = parsed;
    const trialDir = path.join(work, 'trial');
    const params = { ...spec.fixed, learning_rate: 0.003, optimizer: 'adam', frozen_layers: 1, epochs: 2, save_predictions: true };
    const argv = buildArgv(options.command, params, options.args);
    const res = spawnSync(argv[0]!, argv.slice(1), {
      cwd: path.resolve(repo, options.cwd!),
      env: { ...process.env, SWEEPD_TRIAL_DIR: trialDir, PYTHONUNBUFFERED: '1' },
      encoding: 'utf8',
      timeout: 280_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(res.status, res.stderr.slice(-3000)).toBe(0);
    const dir = path.join(trialDir, options.tensorboard!.dir);
    const collector = new TensorBoardCollector({ dir, tags: options.tensorboard!.tags });
    // Both epochs from poll(): the last is complete in the files (its step holds everything the
    // first epoch's did), so it is not held back until the script has exited.
    const epochs = await collector.poll();
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(await collector.finish()).toEqual([]);

    const truth = spawnSync('python3', ['-c', SKLEARN_AUCS, dir], { encoding: 'utf8' });
    expect(truth.status, truth.stderr).toBe(0);
    const expected = JSON.parse(truth.stdout) as Record<string, Record<string, number>>;
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
