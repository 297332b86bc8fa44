/**
 * Benchmark: sweepd's multilabelAuc against scikit-learn's roc_auc_score on 800,000 × 19 labels
 * drawn with the practitioner's validation prevalences (their class table, in seed19.ts), so classes with 0 % and 100 %
 * positives are omitted exactly as they are in real runs. Both sides read the same bytes: the data
 * is written to a temporary binary file that the reference's python loads with numpy.fromfile.
 * Targets: per-class AUCs within 1e-9 of scikit-learn's, and sweepd ≤ 0.25 × scikit-learn's wall
 * time. Without scikit-learn the benchmark fails (see references.ts for where it is looked for).
 *
 * Run: node --import tsx test/bench/auc.ts
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { multilabelAuc, Rng } from '@sweepd/core';
import { referencePython, referenceVersions } from './references.ts';
import { type Target, checkTargets } from './targets.ts';

/** Validation column of the practitioner's class table, in percent, obj_1 … obj_19. */
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
  /** Wall time, best of the repeats. */
  sklearnSeconds: number;
  /** CPU time (time.process_time) in the best repeat. */
  sklearnCpuSeconds: number;
  /** sweepd wall time / scikit-learn wall time. */
  ratio: number;
  /** sweepd CPU time / scikit-learn CPU time. */
  cpuRatio: number;
  /** Largest |sweepd − scikit-learn| over the per-class AUCs. */
  maxAbsDifference: number;
  macro: number | null;
  micro: number | null;
  /** The interpreter and versions scikit-learn ran with. */
  reference: string;
}

const SKLEARN = ['sklearn', 'numpy'] as const;
/** sweepd's AUC at most this fraction of scikit-learn's wall time. */
const SPEED_TARGET = 0.25;

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
  // Found before the work: a missing reference fails the benchmark at once.
  const python = referencePython(SKLEARN);
  const reference = referenceVersions(SKLEARN);
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
    const py = spawnSync(python, ['-c', SKLEARN_SCRIPT, labelsPath, scoresPath, String(nSamples), String(nClasses), String(repeats)], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    if (py.error || py.status !== 0) {
      const why = py.error ? py.error.message : py.stderr.trim().split('\n').slice(-1)[0];
      throw new Error(`the scikit-learn reference failed (${python}): ${why}`);
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
      reference,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints the figures beside scikit-learn's and judges the targets; throws when one is missed. */
export function printAucBench(r: AucBenchResult): void {
  console.log(`multilabelAuc on ${r.nSamples} × ${r.nClasses} (omitted classes: ${r.omitted.join(', ') || 'none'})`);
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  console.log(`sweepd:       ${ms(r.sweepdSeconds)} wall, ${ms(r.sweepdCpuSeconds)} CPU (best of 3; per-class + macro + micro AUC and AP)`);
  console.log(
    `scikit-learn: ${ms(r.sklearnSeconds)} wall, ${ms(r.sklearnCpuSeconds)} CPU (best of 3; roc_auc_score over the defined classes; ${r.reference})`,
  );
  console.log(`macro AUC ${r.macro}, micro AUC ${r.micro}`);
  const targets: Target[] = [
    {
      target: 'per-class AUC within 1e-9 of scikit-learn',
      pass: r.maxAbsDifference <= 1e-9,
      detail: `max |Δ AUC| ${r.maxAbsDifference.toExponential(2)}`,
    },
    {
      target: `sweepd ≤ ${SPEED_TARGET} × scikit-learn (wall time)`,
      pass: r.ratio <= SPEED_TARGET,
      detail: `ratio ${r.ratio.toFixed(3)} wall (${r.cpuRatio.toFixed(3)} CPU, for the record)`,
    },
  ];
  checkTargets(targets);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printAucBench(await runAucBench());
}
