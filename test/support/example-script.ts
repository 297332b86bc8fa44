/**
 * For the tests of examples/*: run an example script as its spec's command runner would (the
 * argv with the trial's flags, the spec's cwd, SWEEPD_TRIAL_DIR set), and score the predictions
 * it saved with scikit-learn.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Params, SearchSpec } from '@sweepd/core';
import { buildArgv, type CommandOptions, parseCommandOptions } from '../../packages/trainer/src/command/index.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The spec's command options, or a thrown error listing their problems. */
export function commandOptionsOf(spec: SearchSpec): CommandOptions {
  const parsed = parseCommandOptions(spec.trainer.options);
  if (!('options' in parsed)) throw new Error(JSON.stringify(parsed.problems));
  return parsed.options;
}

/** Runs one trial of `spec`'s script with `params` in `trialDir`; its exit status and stderr. */
export function runAsTheSpecRunsIt(spec: SearchSpec, params: Params, trialDir: string): { status: number | null; stderr: string } {
  const options = commandOptionsOf(spec);
  const argv = buildArgv(options.command, params, options.args);
  const res = spawnSync(argv[0]!, argv.slice(1), {
    cwd: path.resolve(REPO, options.cwd!),
    env: { ...process.env, SWEEPD_TRIAL_DIR: trialDir, PYTHONUNBUFFERED: '1' },
    encoding: 'utf8',
    timeout: 280_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: res.status, stderr: res.stderr };
}

/**
 * Per epoch (from `predictions_<epoch>.npz` files in `dir`, holding `labels` and the scores under
 * `scoresKey`), scikit-learn's ROC AUC of each class with both labels (`class_<k>`) and their mean
 * (`macro`).
 */
export function sklearnAucs(dir: string, scoresKey: string): Record<string, Record<string, number>> {
  const script = `
import glob, json, os, sys
import numpy as np
from sklearn.metrics import roc_auc_score
out = {}
for f in glob.glob(os.path.join(sys.argv[1], "predictions_*.npz")):
    d = np.load(f)
    s = d[sys.argv[2]]
    aucs = {f"class_{k}": roc_auc_score(d["labels"][:, k], s[:, k])
            for k in range(d["labels"].shape[1]) if 0 < d["labels"][:, k].sum() < len(d["labels"])}
    out[os.path.basename(f)[len("predictions_"):-len(".npz")]] = {**aucs, "macro": float(np.mean(list(aucs.values())))}
print(json.dumps(out))
`;
  const res = spawnSync('python3', ['-c', script, dir, scoresKey], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`scikit-learn's AUCs of ${dir}: ${res.stderr}`);
  return JSON.parse(res.stdout) as Record<string, Record<string, number>>;
}
