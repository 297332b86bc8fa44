import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkTargets, diagnoseAll, readResults } from './gpu-results.ts';

// The seed story as an H200 ran it (inception_v4, 299 px, bf16; see h200-2026-11-30/README.md).
const H200_RUN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'h200-2026-11-30');

describe('the diagnosis on the H200 seed-story run', () => {
  const { runs, missing } = readResults(H200_RUN);
  const diagnoses = diagnoseAll(runs);
  const verdict = (key: string) => diagnoses.get(key)?.verdict;
  const summary = (key: string) => diagnoses.get(key)?.summary ?? '';

  it('reads every config, every line, and each trained on the GPU', () => {
    expect(missing).toEqual([]);
    expect(runs.flatMap((r) => r.refused)).toEqual([]);
    for (const r of runs) {
      expect(r.trial.epochs).toHaveLength(6);
      for (const e of r.trial.epochs) expect(e.notes).toMatchObject({ device: 'cuda', gpu_name: 'NVIDIA H200', model: 'inception_v4' });
    }
  });

  it('passes every check, the gating and the shown ones', () => {
    const checks = checkTargets(runs, diagnoses);
    expect(checks.length).toBe(6);
    for (const [what, ok] of checks) expect(ok, what).toBe(true);
  });

  it('tells the practitioner what happened: static kernels, learning through the head; the rest as the evidence says', () => {
    // Kernels moved a median 0.14 % while AUC rose 0.70 → 0.78: the practitioner's TensorBoard view.
    expect(verdict('practitioner')).toBe('static-kernels-but-learning');
    expect(summary('practitioner')).toMatch(/0\.14 %.*0\.701 → 0\.781/);
    // Nothing in its own evidence is wrong, but Adam did clearly better: the advice says so.
    expect(diagnoses.get('practitioner')?.advice).toBe(
      'Trial 1 did clearly better (0.841) with optimizer=adam, learning_rate=0.0001, opt_epsilon=1e-8: try its settings.',
    );
    expect(verdict('adam')).toBe('healthy');
    expect(summary('adam-frozen')).toMatch(/^Learning, but held back by its frozen layers: .*frozen_layers 22/);
    expect(verdict('rmsprop-low')).toBe('too-low');
    // Epsilon 1e-8 at 0.01 dipped to 0.45 mid-run with 80 % dead units: too high, although it ends
    // best of the rmsprop trials; the rmsprop trials at lower rates ran at epsilon 1.0.
    expect(verdict('eps-small')).toBe('dying-units');
    expect(diagnoses.get('eps-small')?.advice).toMatch(/below this trial's 0\.01.*raise opt_epsilon from 1e-8/);
    expect(verdict('eps-small-high')).toBe('dying-units');
  });
});
