/**
 * Benchmark: sweepd's multilabelAuc against scikit-learn's roc_auc_score on 800,000 × 19 labels
 * drawn with the practitioner's validation prevalences (DESIGN.md), so classes with 0 % and 100 %
 * positives are omitted exactly as they are in real runs. Both sides read the same bytes: the data
 * is written to a temporary binary file that Debian's python loads with numpy.fromfile.
 *
 * Run: node --import tsx test/bench/auc.ts
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { multilabelAuc, Rng } from '@sweepd/core';

/** Validation column of the class table in DESIGN.md, in percent, obj_1 … obj_19. */
export const VALIDATION_PREVALENCE_PERCENT = [
  0.0, 33.3253, 98.5371, 81.4631, 71.4327, 100.0, 96.1605, 91.8368, 98.8323, 95.0989, 9.367, 24.8709, 0.0, 0.0, 94.1573, 98.1648, 97.5094,
  70.1059, 26.8762,
];

export interface AucBenchResult {
  nSamples: number;
  nClasses: number;
  omitted: number[];
  /** Wall time, best of the repeats. */
  sweepdSeconds: number;
  /** CPU time of this process (user + system) in the best repeat: steadier than wall time on a shared machine. */
  sweepdCpuSeconds: number;
  /** Wall time, best of the repeats; null when Debian's python with numpy and scikit-learn is not available. */
  sklearnSeconds: number | null;
  /** CPU time (time.process_time) in the best repeat. */
  sklearnCpuSeconds: number | null;
  /** sweepd wall time / scikit-learn wall time. */
  ratio: number | null;
  /** sweepd CPU time / scikit-learn CPU time. */
  cpuRatio: number | null;
  /** Largest |sweepd − scikit-learn| over the per-class AUCs. */
  maxAbsDifference: number | null;
  macro: number | null;
  micro: number | null;
  sklearnError?: string;
}

const PYTHON = '/usr/bin/python3';

// Times only the roc_auc_score calls (best of `repeats`), like the sweepd side.
const SKLEARN_SCRIPT = `
import json, sys, time
import numpy as np
from sklearn.metrics import roc_auc_score
labels_path, scores_path, n, k, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
y = np.fromfile(labels_path, dtype=np.uint8).reshape(n, k)
s = np.fromfile(scores_path, dtype=np.float32).reshape(n, k)
defined = [c for c in range(k) if 0 < y[:, c].sum() < n]
best, best_cpu = float('inf'), float('inf')
for _ in range(repeats):
    t, c = time.perf_counter(), time.process_time()
    per_class = roc_auc_score(y[:, defined], s[:, defined], average=None)
    best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, time.process_time() - c)
print(json.dumps({"seconds": best, "cpu": best_cpu, "defined": defined, "per_class": [float(v) for v in per_class]}))
`;

function makeData(nSamples: number, seed: number): { labels: Uint8Array; scores: Float32Array } {
  const nClasses = VALIDATION_PREVALENCE_PERCENT.length;
  const rng = new Rng(seed);
  const labels = new Uint8Array(nSamples * nClasses);
  const scores = new Float32Array(nSamples * nClasses);
  for (let i = 0; i < nSamples * nClasses; i++) {
    const prevalence = VALIDATION_PREVALENCE_PERCENT[i % nClasses]! / 100;
    const y = rng.next() < prevalence ? 1 : 0;
    labels[i] = y;
    // A classifier of middling quality: logit separated by label, plus noise, through a sigmoid.
    const logit = (y ? 1 : -1) * 0.8 + 1.5 * rng.normal();
    let score = 1 / (1 + Math.exp(-logit));
    // A quarter of the scores rounded to 3 decimals, so that many ties must count one half.
    if (i % 4 === 0) score = Math.round(score * 1000) / 1000;
    scores[i] = score;
  }
  return { labels, scores };
}

export async function runAucBench(options: { nSamples?: number; repeats?: number; seed?: number } = {}): Promise<AucBenchResult> {
  const nSamples = options.nSamples ?? 800_000;
  const repeats = options.repeats ?? 3;
  const nClasses = VALIDATION_PREVALENCE_PERCENT.length;
  const { labels, scores } = makeData(nSamples, options.seed ?? 19);

  let sweepdSeconds = Number.POSITIVE_INFINITY;
  let sweepdCpuSeconds = Number.POSITIVE_INFINITY;
  let result = multilabelAuc(labels, scores, nClasses); // warm-up: let V8 optimize first
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    const cpu = process.cpuUsage();
    result = multilabelAuc(labels, scores, nClasses);
    const used = process.cpuUsage(cpu);
    sweepdSeconds = Math.min(sweepdSeconds, (performance.now() - t) / 1000);
    sweepdCpuSeconds = Math.min(sweepdCpuSeconds, (used.user + used.system) / 1e6);
  }

  const base = {
    nSamples,
    nClasses,
    omitted: result.omitted,
    sweepdSeconds,
    sweepdCpuSeconds,
    macro: result.macro,
    micro: result.micro,
  };
  const dir = mkdtempSync(join(tmpdir(), 'sweepd-auc-bench-'));
  try {
    const labelsPath = join(dir, 'labels.u8');
    const scoresPath = join(dir, 'scores.f32');
    writeFileSync(labelsPath, labels);
    writeFileSync(scoresPath, new Uint8Array(scores.buffer, scores.byteOffset, scores.byteLength));
    const py = spawnSync(PYTHON, ['-c', SKLEARN_SCRIPT, labelsPath, scoresPath, String(nSamples), String(nClasses), String(repeats)], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    if (py.error || py.status !== 0) {
      const why = py.error ? py.error.message : py.stderr.trim().split('\n').slice(-1)[0];
      return {
        ...base,
        sklearnSeconds: null,
        sklearnCpuSeconds: null,
        ratio: null,
        cpuRatio: null,
        maxAbsDifference: null,
        sklearnError: `${PYTHON} with scikit-learn failed: ${why}`,
      };
    }
    const sk = JSON.parse(py.stdout) as { seconds: number; cpu: number; defined: number[]; per_class: number[] };
    const ours = result.perClass.filter((v): v is number => v !== null);
    const definedHere = result.perClass.flatMap((v, c) => (v === null ? [] : [c]));
    if (JSON.stringify(definedHere) !== JSON.stringify(sk.defined)) {
      throw new Error(`classes with an AUC differ: sweepd ${definedHere.join(',')} vs scikit-learn ${sk.defined.join(',')}`);
    }
    const maxAbsDifference = Math.max(...ours.map((v, j) => Math.abs(v - sk.per_class[j]!)));
    return {
      ...base,
      sklearnSeconds: sk.seconds,
      sklearnCpuSeconds: sk.cpu,
      ratio: sweepdSeconds / sk.seconds,
      cpuRatio: sweepdCpuSeconds / sk.cpu,
      maxAbsDifference,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints the figures beside scikit-learn's; false when the values disagree beyond 1e-9. */
export function printAucBench(r: AucBenchResult): boolean {
  console.log(`multilabelAuc on ${r.nSamples} × ${r.nClasses} (omitted classes: ${r.omitted.join(', ') || 'none'})`);
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  console.log(`sweepd:       ${ms(r.sweepdSeconds)} wall, ${ms(r.sweepdCpuSeconds)} CPU (best of 3; per-class + macro + micro AUC and AP)`);
  if (r.sklearnSeconds === null) {
    console.log(`scikit-learn: not measured: ${r.sklearnError}`);
  } else {
    console.log(
      `scikit-learn: ${ms(r.sklearnSeconds)} wall, ${ms(r.sklearnCpuSeconds!)} CPU (best of 3; roc_auc_score over the defined classes)`,
    );
    console.log(`ratio:        ${r.ratio!.toFixed(3)} wall, ${r.cpuRatio!.toFixed(3)} CPU (sweepd / scikit-learn; target ≤ 0.25)`);
    console.log(
      `max |Δ AUC|:  ${r.maxAbsDifference!.toExponential(2)} ${r.maxAbsDifference! <= 1e-9 ? '(ok, ≤ 1e-9)' : '(TOO LARGE, > 1e-9)'}`,
    );
  }
  console.log(`macro AUC ${r.macro}, micro AUC ${r.micro}`);
  return r.maxAbsDifference === null || r.maxAbsDifference <= 1e-9;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (!printAucBench(await runAucBench())) process.exitCode = 1;
}
