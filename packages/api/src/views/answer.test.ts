import { describe, expect, it } from 'vitest';
import { parseSpec, type TrialRecord } from '@sweepd/core';
import { changeTexts, type ParamChange, studyAnswer } from './answer.ts';

const specFor = (direction: 'maximize' | 'minimize', metric = direction === 'maximize' ? 'val_auc_macro' : 'val_loss') =>
  parseSpec({
    name: 'answer',
    objective: { metric, direction },
    space: {
      optimizer: { type: 'categorical', choices: ['rmsprop', 'adam'] },
      learning_rate: { type: 'float', low: 1e-8, high: 0.1, log: true },
      momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: ['rmsprop'] } },
      frozen_layers: { type: 'int', low: 0, high: 8 },
    },
    baseline: { optimizer: 'rmsprop', learning_rate: 0.01, momentum: 0.9, frozen_layers: 0 },
    budget: { max_trials: 10, max_epochs: 5 },
  });

/** A finished trial whose objective took `curve` epoch by epoch; its value is the best of them. */
function trial(
  number: number,
  params: TrialRecord['params'],
  curve: number[],
  metric: string,
  maximize: boolean,
  baseline = false,
): TrialRecord {
  const finite = curve.filter(Number.isFinite);
  return {
    id: `tr_${number}`,
    studyId: 'st_x',
    number,
    params,
    state: 'completed',
    value: maximize ? Math.max(...finite) : Math.min(...finite),
    epochs: curve.map((v, i) => ({ epoch: i + 1, metrics: { [metric]: v }, layers: [] })),
    ...(baseline ? { tags: { baseline: true } } : {}),
    createdAt: new Date(0),
  };
}

const practitioner = { optimizer: 'rmsprop', learning_rate: 0.01, momentum: 0.9, frozen_layers: 0 };
const adam = { optimizer: 'adam', learning_rate: 3.1e-4, frozen_layers: 2 };

describe('studyAnswer', () => {
  it('maximize: the margin is best − baseline, the verdict names the changes and the gain', () => {
    const trials = [
      trial(0, practitioner, [0.7, 0.8, 0.85, 0.874, 0.87], 'val_auc_macro', true, true),
      trial(1, adam, [0.75, 0.85, 0.9, 0.912, 0.91], 'val_auc_macro', true),
      trial(2, { ...adam, learning_rate: 1e-6 }, [0.5, 0.52, 0.55, 0.56, 0.57], 'val_auc_macro', true),
    ];
    const a = studyAnswer(specFor('maximize'), 'completed', trials);
    expect(a.best?.trial).toBe(1);
    expect(a.baseline).toMatchObject({ trial: 0, value: 0.874, state: 'completed', params: practitioner });
    expect(a.baseline?.diagnosis.summary.length).toBeGreaterThan(0);
    expect(a.margin).toBeCloseTo(0.038, 12);
    expect(a.near).toBe(false);
    expect(a.changes).toEqual([
      { param: 'optimizer', from: 'rmsprop', to: 'adam' },
      { param: 'learning_rate', from: 0.01, to: 3.1e-4 },
      { param: 'momentum', from: 0.9, to: null },
      { param: 'frozen_layers', from: 0, to: 2 },
    ]);
    expect(a.verdict).toBe(
      "Change to optimizer=adam, learning_rate=3.1e-4, frozen_layers=2 and drop momentum: val_auc_macro 0.912 against your config's 0.874 (+0.038).",
    );
    // While the study runs, the same answer is provisional.
    expect(studyAnswer(specFor('maximize'), 'running', trials).verdict).toMatch(/^So far: change to optimizer=adam/);
    // The diagnoses name parameters in that order too: the store's records carry theirs reordered.
    const stored = [
      trial(
        0,
        { frozen_layers: 0, momentum: 0.9, learning_rate: 0.01, optimizer: 'rmsprop' },
        [0.6, 0.65, 0.7],
        'val_auc_macro',
        true,
        true,
      ),
      trial(1, { frozen_layers: 2, learning_rate: 3.1e-4, optimizer: 'adam' }, [0.75, 0.85, 0.9], 'val_auc_macro', true),
    ];
    const advised = studyAnswer(specFor('maximize'), 'completed', stored, ['learning_rate', 'optimizer', 'frozen_layers', 'momentum']);
    expect(advised.baseline?.diagnosis.advice).toMatch(/with learning_rate=0\.00031, optimizer=adam, frozen_layers=2: try its settings/);
    // The changes follow the order given (the spec's as written: a stored spec's keys may be reordered).
    const ordered = studyAnswer(specFor('maximize'), 'completed', trials, ['learning_rate', 'frozen_layers', 'optimizer', 'momentum']);
    expect(ordered.changes.map((c) => c.param)).toEqual(['learning_rate', 'frozen_layers', 'optimizer', 'momentum']);
    expect(ordered.verdict).toMatch(/^Change to learning_rate=3\.1e-4, frozen_layers=2, optimizer=adam and drop momentum/);
  });

  it('minimize: a lower loss is a positive margin, and the verdict says lower', () => {
    const trials = [
      trial(0, practitioner, [0.9, 0.6, 0.5, 0.45, 0.46], 'val_loss', false, true),
      trial(1, adam, [0.8, 0.5, 0.35, 0.31, 0.32], 'val_loss', false),
    ];
    const a = studyAnswer(specFor('minimize'), 'completed', trials);
    expect(a.best?.trial).toBe(1);
    expect(a.margin).toBeCloseTo(0.14, 12);
    expect(a.verdict).toBe(
      "Change to optimizer=adam, learning_rate=3.1e-4, frozen_layers=2 and drop momentum: val_loss 0.31 against your config's 0.45 (0.14 lower).",
    );
  });

  it('near the best: within 2× the measured epoch-to-epoch noise, said with the figures', () => {
    // Both curves jitter by ±0.01 around a plateau: the noise is measured from their second differences.
    const jitter = (base: number) => Array.from({ length: 10 }, (_, i) => base + (i % 2 ? 0.01 : -0.01));
    const trials = [
      trial(0, practitioner, jitter(0.864), 'val_auc_macro', true, true),
      trial(1, adam, jitter(0.866), 'val_auc_macro', true),
    ];
    const a = studyAnswer(specFor('maximize'), 'completed', trials);
    expect(a.margin).toBeCloseTo(0.002, 12);
    // Second differences of ±0.01 alternation are 0.04: σ = 0.04 / (0.6745·√6) ≈ 0.0242.
    expect(a.noise).toBeCloseTo(0.04 / (0.6745 * Math.sqrt(6)), 6);
    expect(a.near).toBe(true);
    expect(a.verdict).toBe(
      'Your config is already near the best found (0.874 vs 0.876, a difference within 2× the measured epoch-to-epoch noise of 0.0242).',
    );
    // A larger margin on 3-epoch curves (too short to measure noise on) is not called near.
    const smooth = [
      trial(0, practitioner, [0.854, 0.864, 0.874], 'val_auc_macro', true, true),
      trial(1, adam, [0.864, 0.874, 0.884], 'val_auc_macro', true),
    ];
    const b = studyAnswer(specFor('maximize'), 'completed', smooth);
    expect(b.noise).toBeNull();
    // and says what it would take (the dashboard once said "curves under 5 epochs" of 6-epoch curves)
    expect(b.noise_min_epochs).toBe(9);
    expect(b.near).toBe(false);
    expect(b.verdict).toMatch(/^Change to .*: val_auc_macro 0\.884 against your config's 0\.874 \(\+0\.01\)\.$/);
  });

  it('an AUC gain under 0.005 is near whatever the noise (the seed-story testbed: 0.964 against 0.967)', () => {
    const plateau = (base: number) => [base - 0.03, base - 0.001, ...Array.from({ length: 8 }, (_, i) => base - (i % 2) * 0.0005)];
    const trials = [
      trial(0, practitioner, plateau(0.9643), 'val_auc_macro', true, true),
      trial(1, adam, plateau(0.9668), 'val_auc_macro', true),
    ];
    const a = studyAnswer(specFor('maximize'), 'completed', trials);
    expect(a.margin).toBeCloseTo(0.0025, 12);
    expect(a.noise as number).toBeLessThan(0.0025 / 2);
    expect(a.near).toBe(true);
    expect(a.verdict).toBe(
      'Your config is already near the best found (0.964 vs 0.967 with optimizer=adam, learning_rate=3.1e-4, frozen_layers=2: a difference under 0.005, too small to act on).',
    );
    // A loss has no such scale: the same small gain there is reported as a change.
    const loss = studyAnswer(specFor('minimize'), 'completed', [
      trial(
        0,
        practitioner,
        plateau(0.0357).map((v) => 0.1 - v),
        'val_loss',
        false,
        true,
      ),
      trial(
        1,
        adam,
        plateau(0.0382).map((v) => 0.1 - v),
        'val_loss',
        false,
      ),
    ]);
    expect(loss.near).toBe(false);
  });

  it("an accuracy gain of 0.00004 is near too, and the values it names are told apart from the baseline's", () => {
    const spec = parseSpec({
      name: 'tiny-gain',
      objective: { metric: 'accuracy', direction: 'maximize' },
      space: { const_value: { type: 'float', low: 0.5, high: 0.9 } },
      baseline: { const_value: 0.8 },
      budget: { max_trials: 2, max_epochs: 3 },
    });
    const a = studyAnswer(spec, 'completed', [
      trial(0, { const_value: 0.8 }, [0.8, 0.8, 0.8], 'accuracy', true, true),
      trial(1, { const_value: 0.80004 }, [0.8, 0.8, 0.80004], 'accuracy', true),
    ]);
    expect(a.near).toBe(true);
    expect(
      a.verdict.startsWith(
        'Your config is already near the best found (0.8 vs 0.8 with const_value=0.80004: a difference under 0.005, too small to act on).',
      ),
    ).toBe(true);
    expect(changeTexts(a.changes[0] as ParamChange)).toEqual({ from: '0.8', to: '0.80004' });
    expect(changeTexts({ param: 'lr', from: 3.1e-4, to: 3.14e-4 })).toEqual({ from: '3.1e-4', to: '3.14e-4' });
  });

  it('noise is not measured on curves too short to hold more than their bend, and the baseline counts once', () => {
    // The review's case: accuracy in percent, the baseline still rising by 0.76 an epoch, 5 epochs.
    const spec = parseSpec({
      name: 'short-curves',
      objective: { metric: 'val_acc', direction: 'maximize' },
      space: { learning_rate: { type: 'float', low: 1e-4, high: 0.1, log: true } },
      baseline: { learning_rate: 0.001 },
      budget: { max_trials: 3, max_epochs: 5 },
    });
    const a = studyAnswer(spec, 'completed', [
      trial(0, { learning_rate: 0.001 }, [77.5, 80.8, 82.81, 84.61, 85.37], 'val_acc', true, true),
      trial(1, { learning_rate: 0.01 }, [70, 80, 85, 85.5, 85.51], 'val_acc', true),
      trial(2, { learning_rate: 0.003 }, [80, 83, 85, 86, 86.2], 'val_acc', true),
    ]);
    expect(a.noise).toBeNull();
    expect(a.near).toBe(false);
    expect(a.verdict).toMatch(/^Change to learning_rate=0\.003: val_acc 86\.2 against your config's 85\.4/);
  });

  it('the baseline best, a baseline without a value, and no baseline at all', () => {
    const spec = specFor('maximize');
    const best = studyAnswer(spec, 'completed', [
      trial(0, practitioner, [0.8, 0.9], 'val_auc_macro', true, true),
      trial(1, adam, [0.6, 0.7], 'val_auc_macro', true),
    ]);
    expect(best.margin).toBe(0);
    expect(best.near).toBe(true);
    expect(best.changes).toEqual([]);
    expect(best.verdict).toBe('Your config is the best found: val_auc_macro 0.9 (trial 0); no other trial beat it.');

    const failed: TrialRecord = {
      ...trial(0, practitioner, [], 'val_auc_macro', true, true),
      state: 'failed',
      value: undefined,
      reason: 'CUDA out of memory',
    };
    const noValue = studyAnswer(spec, 'completed', [failed, trial(1, adam, [0.6, 0.7], 'val_auc_macro', true)]);
    expect(noValue.margin).toBeUndefined();
    expect(noValue.baseline).toMatchObject({ value: null, state: 'failed', reason: 'CUDA out of memory' });
    expect(noValue.verdict).toBe(
      'Change to optimizer=adam, learning_rate=3.1e-4, frozen_layers=2 and drop momentum: val_auc_macro 0.7; your config (trial 0) failed (CUDA out of memory).',
    );
    // A baseline that reported 0.9 before it crashed is neither measured against nor the best.
    const crashedHigh = studyAnswer(spec, 'completed', [
      { ...trial(0, practitioner, [0.9], 'val_auc_macro', true, true), state: 'failed', reason: 'CUDA out of memory' },
      trial(1, adam, [0.6, 0.7], 'val_auc_macro', true),
    ]);
    expect(crashedHigh.best?.trial).toBe(1);
    expect(crashedHigh.margin).toBeUndefined();
    expect(crashedHigh.verdict).toMatch(/val_auc_macro 0\.7; your config \(trial 0\) failed \(CUDA out of memory\)\.$/);
    // The failures beside the best are said apart from the verdict: how many, and why.
    expect(crashedHigh.failures).toBe('1 of 2 trials failed: CUDA out of memory. It is not ranked, whatever it reported before failing.');
    expect(best.failures).toBeUndefined();
    // Nothing but failed trials: no config to recommend, said as such once the study is over.
    const onlyFailed = studyAnswer(spec, 'failed', [
      { ...trial(0, adam, [0.9], 'val_auc_macro', true), state: 'failed', reason: 'CUDA out of memory' },
    ]);
    expect(onlyFailed.best).toBeNull();
    expect(onlyFailed.failures).toBe('Its one trial failed: CUDA out of memory. It is not ranked, whatever it reported before failing.');
    expect(onlyFailed.verdict).toBe(
      'No trial reported val_auc_macro without failing (1 failed after reporting it): there is no config to recommend.',
    );
    // Failed before reporting anything: nothing of theirs to leave unranked.
    const failedAtStart = studyAnswer(spec, 'failed', [
      { ...trial(0, adam, [], 'val_auc_macro', true), state: 'failed', reason: 'exit code 3' },
      { ...trial(1, adam, [], 'val_auc_macro', true), state: 'failed', reason: 'exit code 3' },
    ]);
    expect(failedAtStart.failures).toBe('All 2 trials failed: exit code 3.');
    // A reason that ends its own sentence gets no second full stop.
    const flagError = { ...trial(0, adam, [], 'val_auc_macro', true), state: 'failed' as const, reason: 'exit code 1: No such flag.' };
    expect(studyAnswer(spec, 'failed', [flagError]).failures).toBe('Its one trial failed: exit code 1: No such flag.');
    expect(failedAtStart.verdict).toBe('No trial reported val_auc_macro: there is no config to recommend.');

    // Reported, but never finite.
    const nan: TrialRecord = { ...trial(0, adam, [Number.NaN, Number.NaN], 'val_auc_macro', true), state: 'failed', value: undefined };
    expect(studyAnswer(spec, 'failed', [nan]).verdict).toBe(
      'No trial reported a finite val_auc_macro (only NaN or infinite values): there is no config to recommend.',
    );
    const none = studyAnswer(spec, 'completed', [trial(0, adam, [0.6, 0.7], 'val_auc_macro', true)]);
    expect(none.baseline).toBeUndefined();
    expect(none.best?.diagnosis.verdict).toBeDefined();
    expect(none.verdict).toBe('The best found is optimizer=adam, learning_rate=3.1e-4, frozen_layers=2 (trial 0): val_auc_macro 0.7.');
    expect(studyAnswer(spec, 'running', []).verdict).toBe('No trial has reported val_auc_macro yet.');
    // The best value came before a divergence: the verdict says so, not just the diagnosis under it.
    const diverged = studyAnswer(spec, 'completed', [trial(0, adam, [0.6, 0.78, Number.NaN], 'val_auc_macro', true)]);
    expect(diverged.best?.diagnosis.verdict).toBe('diverged');
    expect(diverged.verdict).toMatch(
      /^The best found is .*: val_auc_macro 0\.78\. But trial 0's own diagnosis: Diverged \(val_auc_macro is NaN at epoch 3\)/,
    );
  });

  it('a best that did not learn (nothing in the study did) is not recommended without its own diagnosis', () => {
    const spec = specFor('maximize');
    const flat = [0.5, 0.5, 0.5, 0.5];
    const trials = [
      trial(0, { ...practitioner, learning_rate: 1e-8 }, [0.34, 0.34, 0.34, 0.343], 'val_auc_macro', true, true),
      trial(1, { ...adam, learning_rate: 0.09 }, flat, 'val_auc_macro', true),
    ];
    const a = studyAnswer(spec, 'completed', trials);
    expect(a.best?.trial).toBe(1);
    expect(a.best?.diagnosis.verdict).not.toBe('healthy');
    expect(a.caveat).toBe(`But trial 1's own diagnosis: ${a.best?.diagnosis.summary}`);
    expect(a.verdict.endsWith(a.caveat as string)).toBe(true);
    // A best that learned carries none.
    const learned = studyAnswer(spec, 'completed', [
      trials[0] as TrialRecord,
      trial(2, adam, [0.7, 0.85, 0.9, 0.91], 'val_auc_macro', true),
    ]);
    expect(learned.best?.diagnosis.verdict).toBe('healthy');
    expect(learned.caveat).toBeUndefined();
  });

  it('a stopped study whose trials are still stopping answers "so far", naming how many', () => {
    const spec = specFor('maximize');
    const stopping = { ...trial(1, adam, [0.6, 0.7], 'val_auc_macro', true), state: 'running' as const };
    const answer = studyAnswer(spec, 'stopped', [trial(0, adam, [0.6, 0.72], 'val_auc_macro', true), stopping]);
    expect(answer.verdict).toBe(
      'So far (1 trial still stopping): the best found is optimizer=adam, learning_rate=3.1e-4, frozen_layers=2 (trial 0): val_auc_macro 0.72.',
    );
    const ended = studyAnswer(spec, 'stopped', [trial(0, adam, [0.6, 0.72], 'val_auc_macro', true), { ...stopping, state: 'stopped' }]);
    // Stopped after 2 trials of a max_trials of 10: the answer says its search was cut short.
    expect(ended.verdict).toBe(
      'Stopped after 2 trials (budget: 10); the best found is optimizer=adam, learning_rate=3.1e-4, frozen_layers=2 (trial 0): val_auc_macro 0.72.',
    );
    // A study stopped once every trial of its budget had run answers as a completed one.
    const full = studyAnswer({ ...spec, budget: { ...spec.budget, max_trials: 2 } }, 'stopped', [
      trial(0, adam, [0.6, 0.72], 'val_auc_macro', true),
      { ...stopping, state: 'stopped' },
    ]);
    expect(full.verdict).toMatch(/^The best found is/);
  });

  it('a study stopped before any trial reported does not say, while its trials are still stopping, that there is nothing to recommend', () => {
    const running = (number: number, baseline = false): TrialRecord => ({
      ...trial(number, practitioner, [], 'val_auc_macro', true, baseline),
      state: 'running',
      value: undefined,
      reason: 'stopped by user',
    });
    for (const spec of [specFor('maximize'), { ...specFor('maximize'), baseline: undefined }]) {
      const a = studyAnswer(spec, 'stopped', [running(0, spec.baseline !== undefined), running(1)]);
      expect(a.best).toBeNull();
      expect(a.verdict).toBe('No trial has reported val_auc_macro yet (2 trials still stopping).');
    }
  });
});
