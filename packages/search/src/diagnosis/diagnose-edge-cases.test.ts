import type { EpochRecord, TrialView } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { type DiagnosisObjective, diagnoseTrial } from './diagnose.ts';

// Cases a review of the diagnosis texts found false or misleading, on small studies of a real
// PyTorch MLP: each diagnosis must agree with the figures it cites and with the study's other trials.

const auc: DiagnosisObjective = { metric: 'val_auc_macro', direction: 'maximize' };

/** A trial whose objective took `curve`, with `layers` at every epoch. */
function trial(
  number: number,
  params: TrialView['params'],
  curve: number[],
  layers: EpochRecord['layers'] = [{ layer: 'fc1', trainable: true, kernelMovement: 0.18, updateRatio: 0.02, biasMovement: 0.05 }],
  metric = 'val_auc_macro',
): TrialView {
  const finite = curve.filter(Number.isFinite);
  return {
    id: `t${number}`,
    number,
    params,
    state: 'completed',
    ...(finite.length > 0 ? { value: Math.max(...finite) } : {}),
    epochs: curve.map((v, i) => ({ epoch: i + 1, metrics: { [metric]: v, train_loss: Number.isFinite(v) ? 0.6 : v }, layers })),
  };
}

describe('diagnoseTrial: the texts agree with the figures they cite', () => {
  it('an AUC in percent at 50 is at chance (chance 50, not 0.5): not "Healthy"', () => {
    const percent: DiagnosisObjective = { metric: 'val_auc_macro', direction: 'maximize' };
    const t0 = trial(0, { learning_rate: 0.001 }, [49.8, 50.2, 50.5]);
    const t1 = trial(1, { learning_rate: 0.01 }, [49.9, 50.1, 50.3]);
    const d = diagnoseTrial(t0, [t0, t1], percent);
    expect(d.verdict).not.toBe('healthy');
    expect(d.summary).not.toMatch(/Healthy/);
    expect(d.evidence[0]).toContain('(chance: 50)');
    // The same trial in [0, 1] reads the same.
    const unit = (t: TrialView) => ({
      ...t,
      value: (t.value as number) / 100,
      epochs: t.epochs.map((e) => ({ ...e, metrics: { val_auc_macro: (e.metrics.val_auc_macro as number) / 100 } })),
    });
    expect(diagnoseTrial(unit(t0), [unit(t0), unit(t1)], auc).verdict).toBe(d.verdict);
  });

  it('a head whose kernel started at zero: its update ratio is said as that, not as movement from the start; mixed lower rates are not "too high"', () => {
    // Only the new head trains and reports (no movement relative to a zero start): the inception example on the CPU.
    const head = [{ layer: 'logits', trainable: true, updateRatio: 0.103, biasMovement: 0.297 }];
    const trials = [
      trial(0, { optimizer: 'rmsprop', learning_rate: 0.01, frozen_layers: 0 }, [0.55, 0.58, 0.59, 0.601], head),
      trial(2, { optimizer: 'rmsprop', learning_rate: 0.0195, frozen_layers: 4 }, [0.54, 0.55, 0.552, 0.554], head),
      trial(4, { optimizer: 'rmsprop', learning_rate: 0.063, frozen_layers: 4 }, [0.5465, 0.5597, 0.5635, 0.571], head),
    ];
    const [, t2, t4] = trials as [TrialView, TrialView, TrialView];
    // 0.01 did better, and 0.0195, between it and 0.063, did worse: lower was not better all the way down.
    const mixed = diagnoseTrial(t4, trials, auc);
    expect(mixed.verdict).not.toBe('too-high');
    expect(mixed.summary).not.toMatch(/kernels moved|starting values/);
    // Below 0.0195 only a better rate: "too high", on the figure there is.
    const high = diagnoseTrial(t2, trials, auc);
    expect(high.verdict).toBe('too-high');
    expect(high.summary).toContain("the kernels' last updates were a median 0.103 of their size");
    expect(high.summary).not.toMatch(/starting values/);
  });

  it('a trial that crashed after epoch 1, level with its peers there, is not judged "not learning" against their full runs', () => {
    const failed = (t: TrialView): TrialView => ({ ...t, state: 'failed', reason: 'exit code 1: RuntimeError: boom at epoch 2' });
    const crashed = failed(trial(0, { optimizer: 'adam', learning_rate: 0.05 }, [0.55]));
    const learners = [
      trial(2, { optimizer: 'sgd', learning_rate: 0.0475 }, [0.55, 0.6, 0.65]),
      trial(3, { optimizer: 'sgd', learning_rate: 0.0955 }, [0.55, 0.6, 0.65]),
    ];
    const d = diagnoseTrial(crashed, [crashed, ...learners], auc);
    expect(d.verdict).toBe('no-evidence');
    expect(d.summary).toBe(
      "Failed after epoch 1 (exit code 1: RuntimeError: boom at epoch 2), too soon to judge its settings: val_auc_macro 0.55 by then; the other trials' best by epoch 1 was 0.55.",
    );
    expect(d.advice).toBe('Fix what ended it (its reason and stderr tail) and run it again.');
    // Every trial crashed there, this one behind: the crash still comes first in the advice.
    const alone = failed(trial(1, { optimizer: 'adam', learning_rate: 0.01 }, [0.501]));
    expect(diagnoseTrial(alone, [alone, crashed], auc).advice).toMatch(
      /^Fix what ended it \(its reason and stderr tail\) and run it again\. ./,
    );
    // Behind its peers at the same epoch: the verdict on its settings stands, after the failure.
    const behind = failed(trial(4, { optimizer: 'adam', learning_rate: 1e-6 }, [0.5, 0.5]));
    const ahead = [
      trial(5, { optimizer: 'adam', learning_rate: 1e-3 }, [0.8, 0.9, 0.95]),
      trial(6, { optimizer: 'adam', learning_rate: 3e-3 }, [0.82, 0.9, 0.95]),
    ];
    expect(diagnoseTrial(behind, [behind, ...ahead], auc).verdict).not.toBe('no-evidence');
    // A long run that failed late, flat beside peers as flat: not "too soon"; no one learned.
    const flat = Array.from({ length: 20 }, () => 0.5);
    const late = failed(trial(7, { optimizer: 'adam', learning_rate: 0.01 }, flat));
    const flatPeers = [
      trial(8, { optimizer: 'adam', learning_rate: 0.02 }, flat),
      trial(9, { optimizer: 'adam', learning_rate: 0.04 }, flat),
    ];
    expect(diagnoseTrial(late, [late, ...flatPeers], auc).verdict).not.toBe('no-evidence');
  });

  it('an AUC that leaves [0, 1] is said to be computed wrongly, first; it is not read as a percentage (chance 50)', () => {
    const broken = trial(2, { optimizer: 'sgd', learning_rate: 0.025 }, [0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2]);
    const peer = trial(1, { optimizer: 'sgd', learning_rate: 0.001 }, [0.51, 0.52, 0.53]);
    const d = diagnoseTrial(broken, [broken, peer], auc);
    expect(d.summary).toMatch(
      /^val_auc_macro is outside an AUC's range \[0, 1\] \(1\.1 at epoch 6 and 1 later epoch\(s\)\): check how it is computed\. /,
    );
    expect(d.evidence[0]).toBe(
      "val_auc_macro is outside an AUC's range [0, 1] (1.1 at epoch 6 and 1 later epoch(s)): check how it is computed.",
    );
    expect(d.evidence[1]).toContain('(chance: 0.5)');
    // An AUC in percent throughout is not flagged, nor a loss whose name holds the letters (cauchy).
    const percent = trial(3, { optimizer: 'sgd', learning_rate: 0.025 }, [60, 70, 80]);
    expect(diagnoseTrial(percent, [percent], auc).summary).not.toMatch(/outside/);
    const cauchy: DiagnosisObjective = { metric: 'val_cauchy_loss', direction: 'minimize' };
    const loss = trial(4, { optimizer: 'sgd', learning_rate: 0.025 }, [3, 2, 1.5], undefined, 'val_cauchy_loss');
    expect(diagnoseTrial(loss, [loss], cauchy).summary).not.toMatch(/outside/);
    // Just past 1, with the digits that show it outside (not "1").
    const barely = trial(5, { optimizer: 'sgd', learning_rate: 0.025 }, [0.994, 1.0044, 1.01]);
    const barelyRead = diagnoseTrial(barely, [barely, peer], auc);
    expect(barelyRead.evidence[0]).toBe(
      "val_auc_macro is outside an AUC's range [0, 1] (1.004 at epoch 2 and 1 later epoch(s)): check how it is computed.",
    );
    expect(barelyRead.evidence[1]).toMatch(/^val_auc_macro: 0\.994 → 1\.004 → 1\.01 over 3 epoch\(s\)/);
    // An infinite value is no AUC computed outside its range: it is said as non-finite, not as both.
    const infinite = trial(6, { optimizer: 'sgd', learning_rate: 0.025 }, [0.618, Number.POSITIVE_INFINITY, 0.69, 0.724]);
    expect(diagnoseTrial(infinite, [infinite, peer], auc).summary).not.toMatch(/outside/);
    // Failed: said first all the same, not lowercased behind "Failed after epoch …".
    const crashed: TrialView = { ...broken, state: 'failed', reason: 'exit code 1' };
    expect(diagnoseTrial(crashed, [crashed, peer], auc).summary).toMatch(
      /^val_auc_macro is outside an AUC's range \[0, 1\] .*Failed after epoch 7 \(exit code 1\)/,
    );
  });

  it('an optimizer under another name (opt) still groups the peers: the best adam rates are not "rates that did not learn"', () => {
    const big = [{ layer: 'fc1', trainable: true, kernelMovement: 3.5, updateRatio: 0.4, biasMovement: 2 }];
    const trials = [
      trial(0, { opt: 'adam', learning_rate: 0.003 }, [0.9, 0.96, 0.981]),
      trial(1, { opt: 'adam', learning_rate: 0.03 }, [0.88, 0.95, 0.972]),
      trial(2, { opt: 'sgd', learning_rate: 0.003 }, [0.5, 0.5, 0.5]),
      trial(3, { opt: 'sgd', learning_rate: 0.03 }, [0.5, 0.51, 0.5]),
      trial(4, { opt: 'adam', learning_rate: 3 }, [0.5, 0.49, 0.5], big),
    ];
    const d = diagnoseTrial(trials[4] as TrialView, trials, auc);
    expect(d.evidence.at(-1)).toMatch(/^Learning rate 3 \(adam\): ranks 3 of 3 adam trials/);
    expect(d.advice).not.toMatch(/did not learn either/);
    expect(d.suggestedLearningRate?.low).toBeLessThanOrEqual(0.003);
    expect(d.suggestedLearningRate?.high).toBeGreaterThanOrEqual(0.03);
  });

  it('a lower rate at which a trial that steps alike learned is not one that "did not learn", whatever else ran there', () => {
    const big = [{ layer: 'fc1', trainable: true, kernelMovement: 3.5, updateRatio: 0.4, biasMovement: 2 }];
    const trials = [
      trial(0, { optimizer: 'sgd', learning_rate: 0.03, frozen_layers: 3 }, [0.5, 0.5, 0.52]),
      trial(1, { optimizer: 'sgd', learning_rate: 0.031, frozen_layers: 0 }, [0.7, 0.8, 0.86]),
      trial(2, { optimizer: 'sgd', learning_rate: 3, frozen_layers: 0 }, [0.5, 0.49, 0.5], big),
    ];
    const d = diagnoseTrial(trials[2] as TrialView, trials, auc);
    expect(d.verdict).toBe('too-high');
    expect(d.advice).not.toMatch(/did not learn either/);
  });

  it('every trial NaN at its first epoch, at rates 57× apart: the lowest-rate trial is not "too high" either', () => {
    const nan = [Number.NaN, Number.NaN];
    const trials = [
      trial(0, { optimizer: 'adam', learning_rate: 0.0084 }, nan),
      trial(1, { optimizer: 'sgd', learning_rate: 0.0023 }, nan),
      trial(2, { optimizer: 'adam', learning_rate: 1.5e-4 }, nan),
    ];
    for (const t of trials) {
      const d = diagnoseTrial(t, trials, auc);
      expect(d.verdict).toBe('diverged');
      expect(d.summary).toMatch(
        /and so did every other trial of the study, at learning rates 1\.5e-4 … 0\.0084: the rate may not be the cause\.$/,
      );
      expect(d.advice).toMatch(/^Check the inputs and the loss for NaN/);
    }
  });

  it('weights that moved exactly 0: nothing is trained (the optimizer does not step), not "learning rate too low"', () => {
    const still = [{ layer: 'fc1', trainable: true, kernelMovement: 0, updateRatio: 0, biasMovement: 0 }];
    const trials = [
      trial(0, { optimizer: 'adam', learning_rate: 0.001 }, [0.7, 0.8, 0.815]),
      trial(2, { optimizer: 'adam', learning_rate: 0.001 }, [0.5, 0.5, 0.5], still),
      trial(3, { optimizer: 'adam', learning_rate: 3e-4 }, [0.5, 0.51, 0.5], still),
    ];
    const d = diagnoseTrial(trials[2] as TrialView, trials, auc);
    expect(d.verdict).toBe('no-learning');
    expect(d.summary).toMatch(/^Nothing is being trained: no trainable weight changed at all/);
    expect(d.advice).toMatch(/optimizer\.step\(\)/);
    expect(d.suggestedLearningRate).toBeUndefined();
  });

  it('a trial whose better peers ran at its own rate is not told they "used lower rates"', () => {
    const small = [{ layer: 'fc1', trainable: true, kernelMovement: 0.002, updateRatio: 0.0005, biasMovement: 0.0004 }];
    const trials = [
      trial(0, { optimizer: 'adam', learning_rate: 0.001 }, [0.7, 0.8, 0.815]),
      trial(1, { optimizer: 'adam', learning_rate: 3e-4 }, [0.7, 0.78, 0.8]),
      trial(2, { optimizer: 'adam', learning_rate: 0.001 }, [0.5, 0.5, 0.5], small),
    ];
    const d = diagnoseTrial(trials[2] as TrialView, trials, auc);
    expect(d.summary).not.toMatch(/used lower rates/);
    expect(d.summary).toMatch(/used its own rate or lower ones — the rate alone does not explain it/);
  });

  it('every reported layer frozen, and nothing learned: says so, not a rate', () => {
    const frozen = [
      { layer: 'fc1', trainable: false, kernelMovement: 0, biasMovement: 0 },
      { layer: 'fc2', trainable: false, kernelMovement: 0, biasMovement: 0 },
    ];
    const trials = [
      trial(0, { optimizer: 'sgd', learning_rate: 0.5 }, [0.5, 0.5, 0.5], frozen),
      trial(1, { optimizer: 'sgd', learning_rate: 0.05 }, [0.5, 0.5, 0.5], frozen),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.verdict).toBe('no-learning');
    expect(d.summary).toMatch(/^Nothing it reports is trained: every one of its 2 reported layer\(s\) with weights is frozen/);
  });

  it('every layer "frozen" only as read off unchanged histograms (event files), with higher-rate peers learning: the rate, not frozen', () => {
    // TensorBoard histograms at lr 1e-8: no weight crosses a bucket edge, so each reads as frozen.
    const unchanged = ['conv1', 'conv2', 'head'].map((layer) => ({ layer, trainable: false, mean: 0.01, std: 0.1 }));
    const moved = ['conv1', 'conv2', 'head'].map((layer) => ({ layer, trainable: true, mean: 0.01, std: 0.1 }));
    const fromEventFiles = (t: TrialView): TrialView => ({
      ...t,
      epochs: t.epochs.map((e) => ({ ...e, notes: { tensorboard: { steps: [e.epoch, e.epoch], trainableInferred: true } } })),
    });
    const trials = [
      fromEventFiles(trial(0, { optimizer: 'sgd', learning_rate: 1e-8, frozen_layers: 0 }, [0.5, 0.5, 0.5], unchanged)),
      fromEventFiles(trial(1, { optimizer: 'sgd', learning_rate: 1e-3, frozen_layers: 0 }, [0.62, 0.7, 0.74], moved)),
      fromEventFiles(trial(2, { optimizer: 'sgd', learning_rate: 1e-2, frozen_layers: 0 }, [0.7, 0.78, 0.81], moved)),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.summary).not.toMatch(/frozen/);
    expect(d.advice).not.toMatch(/frozen_layers/);
    expect(d.summary).toMatch(/too low/i);
    // The same layers reported frozen by the script itself are frozen: said so, without "fewer frozen_layers" at 0.
    const told = trial(0, { optimizer: 'sgd', learning_rate: 1e-8, frozen_layers: 0 }, [0.5, 0.5, 0.5], unchanged);
    const own = diagnoseTrial(told, [told, ...trials.slice(1)], auc);
    expect(own.summary).toMatch(/^Nothing it reports is trained: every one of its 3 reported layer\(s\) with weights is frozen/);
    expect(own.advice).not.toMatch(/fewer frozen_layers/);
  });

  it('weights read off event files that never moved, every trial alike: the rate is named, and the histograms are evidence', () => {
    // examples/tf-slim at rmsprop 2e-9 and 1e-7: the collector's first epoch reads trainable (no
    // earlier histogram), the later ones not, as no histogram changed; no trial of the study did better.
    const histograms = (epoch: number) =>
      ['TinyNet/Conv2d_1a_3x3', 'TinyNet/Conv2d_2a_3x3', 'TinyNet/Conv2d_3a_3x3', 'TinyNet/Logits'].map((layer) => ({
        layer,
        trainable: epoch === 1,
        mean: 0.01,
        std: 0.1,
      }));
    const fromEventFiles = (number: number, rate: number, curve: number[]): TrialView => {
      const t = trial(number, { optimizer: 'rmsprop', learning_rate: rate, opt_epsilon: 1e-7 }, curve);
      return {
        ...t,
        epochs: t.epochs.map((e) => ({ ...e, layers: histograms(e.epoch), notes: { tensorboard: { trainableInferred: true } } })),
      };
    };
    const trials = [fromEventFiles(0, 2.1e-9, [0.61, 0.61, 0.61]), fromEventFiles(1, 1e-7, [0.6, 0.605, 0.604])];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.verdict).toBe('too-low');
    expect(d.summary).toBe(
      'Learning rate likely too low: val_auc_macro reached 0.61, and not one of the weight histograms of its 4 reported layer(s) changed from epoch 1 to 3' +
        ' — the learning rate 2.1e-9 moves no weight past a histogram bucket edge. 1 rmsprop trial at a higher rate (1e-7) did no better.',
    );
    expect(d.evidence).toContain(
      "Weight histograms (from the event files): all 4 reported layers' are the same at epoch 3 as at epoch 1: no weight moved past a histogram bucket edge.",
    );
    expect(d.advice).toMatch(
      /^Rates up to 1e-7 with rmsprop did no better in this study .* Try learning rates 1e-6 … 1e-5 with rmsprop, above 1e-7\. If a higher rate leaves the histograms unchanged too, nothing is being trained/,
    );
    // At chance and a high rate, unchanged histograms may be a network killed in its first epoch: not "too low".
    const dead = fromEventFiles(2, 5, [0.5, 0.5, 0.5]);
    const deadSgd = { ...dead, params: { optimizer: 'sgd', learning_rate: 5 } };
    const verdict = diagnoseTrial(deadSgd, [deadSgd], auc);
    expect(verdict.summary).not.toMatch(/too low/);
    expect(verdict.advice).not.toMatch(/Try learning rates 50/);
    // One epoch of histograms is no evidence of movement either way: nothing said of them.
    const one = { ...(trials[0] as TrialView), epochs: (trials[0] as TrialView).epochs.slice(0, 1) };
    expect(diagnoseTrial(one, [one], auc).evidence.join(' ')).not.toMatch(/histogram/);
  });

  it('diverged at 31 beside a trial diverged at 21: too high, as that trial is, not "the rate may not be the cause"', () => {
    const trials = [
      trial(0, { optimizer: 'sgd', learning_rate: 21 }, [0.5, Number.NaN]),
      trial(1, { optimizer: 'sgd', learning_rate: 31 }, [0.5, Number.NaN]),
    ];
    const d = diagnoseTrial(trials[1] as TrialView, trials, auc);
    expect(d.summary).not.toMatch(/may not be the cause/);
    expect(d.advice).toMatch(/below this trial's 31/);
    // Ten times lower and diverged too: then the rate is not shown to be the cause.
    const far = [trial(0, { optimizer: 'sgd', learning_rate: 2 }, [0.5, Number.NaN]), trials[1] as TrialView];
    expect(diagnoseTrial(far[1] as TrialView, far, auc).summary).toMatch(/, at learning rates 2 … 31: the rate may not be the cause/);
  });

  it('too low at 1e-8 with epsilon 1: no advice to keep that rate and only lower epsilon', () => {
    const params = { optimizer: 'rmsprop', learning_rate: 1e-8, opt_epsilon: 1 };
    const still = [{ layer: 'fc1', trainable: true, kernelMovement: 1e-9, updateRatio: 1e-10, biasMovement: 1e-9 }];
    const t0 = trial(0, params, [0.61, 0.61, 0.6101], still);
    const d = diagnoseTrial(t0, [t0], auc);
    expect(d.verdict).toBe('too-low');
    expect(d.advice).not.toMatch(/keep the rate/);
    expect(d.advice).toMatch(
      /Lower opt_epsilon from 1 to 1e-8 … 1e-3 \(rmsprop's usual\) as well as raising the rate: at 1e-8, even steps of the rate's size are too small/,
    );
  });

  it('sgd and momentum trials are not grouped by an opt_epsilon they do not use', () => {
    const eps = { opt_epsilon: 1 };
    const trials = [
      trial(0, { optimizer: 'momentum', learning_rate: 0.001, ...eps }, [0.6, 0.65, 0.7]),
      trial(1, { optimizer: 'momentum', learning_rate: 0.01, ...eps }, [0.7, 0.75, 0.8]),
      trial(2, { optimizer: 'momentum', learning_rate: 0.1, ...eps }, [0.72, 0.76, 0.79]),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.evidence.join(' ')).toMatch(/ranks 3 of 3 momentum trials[;:]/);
    expect(d.evidence.join(' ')).not.toMatch(/epsilon/);
  });

  it('not learning while other optimizers learned on the same data: their settings are the lead, not the data', () => {
    // examples/tf-slim with TF-slim's opt_epsilon 1.0: every adam trial flat near 0.59, rmsprop and momentum learned.
    const eps = { opt_epsilon: 1.0 };
    const trials = [
      trial(0, { optimizer: 'adam', learning_rate: 0.001, ...eps }, [0.585, 0.59, 0.588]),
      trial(1, { optimizer: 'adam', learning_rate: 0.005, ...eps }, [0.59, 0.593, 0.591]),
      trial(2, { optimizer: 'rmsprop', learning_rate: 0.01, ...eps }, [0.65, 0.74, 0.78]),
      trial(3, { optimizer: 'momentum', learning_rate: 0.01, ...eps }, [0.62, 0.69, 0.72]),
    ];
    const d = diagnoseTrial(trials[1] as TrialView, trials, auc);
    expect(d.verdict).toBe('no-learning');
    expect(d.advice).not.toMatch(/the data/);
    expect(d.advice).toMatch(/^Trials with rmsprop, momentum learned on the same data: check this trial's adam settings \(opt_epsilon 1: /);
  });

  it('"no peer scored better" is not said while peers near chance did: they are named apart', () => {
    const trials = [
      trial(0, { optimizer: 'sgd', learning_rate: 0.01 }, [0.5, 0.51, 0.525]),
      trial(1, { optimizer: 'sgd', learning_rate: 0.045 }, [0.506, 0.52, 0.544]),
      trial(2, { optimizer: 'sgd', learning_rate: 0.005 }, [0.5, 0.51, 0.52]),
      trial(3, { optimizer: 'sgd', learning_rate: 1.1e-4 }, [0.49, 0.495, 0.499]),
    ];
    const d = diagnoseTrial(trials[3] as TrialView, trials, auc);
    expect(d.evidence.at(-1)).toBe(
      'Learning rate 1.1e-4 (sgd): ranks 4 of 4 sgd trials; no other sgd trial that learned scored better by more than 0.01; 3 scored better but did not learn, so their rates are left out.',
    );
  });

  it('a peer whose own page says it did not learn is no better rate to point to (0.605, flat: "learned" as the trial itself is judged)', () => {
    const trials = [
      trial(0, { optimizer: 'sgd', learning_rate: 0.1 }, [0.52, 0.53, 0.53]),
      trial(1, { optimizer: 'sgd', learning_rate: 0.001 }, [0.6, 0.603, 0.605]),
    ];
    const peer = diagnoseTrial(trials[1] as TrialView, trials, auc);
    expect(peer.summary).not.toMatch(/^Healthy|^Learning slowly/);
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.evidence.at(-1)).toBe(
      'Learning rate 0.1 (sgd): ranks 2 of 2 sgd trials; no other sgd trial that learned scored better by more than 0.01; 1 scored better but did not learn, so their rates are left out.',
    );
    expect([d.summary, d.advice].join(' ')).not.toMatch(/too high|lower the learning rate|0\.001/i);
  });

  it('a trial that failed leads with its failure and is not ranked; failed peers are not ranks either', () => {
    const crashed: TrialView = {
      ...trial(0, { optimizer: 'adam', learning_rate: 0.01 }, [0.7, 0.8, 0.85]),
      state: 'failed',
      reason: 'exit code 1',
    };
    const trials = [
      crashed,
      trial(1, { optimizer: 'adam', learning_rate: 0.001 }, [0.7, 0.85, 0.9]),
      trial(2, { optimizer: 'adam', learning_rate: 0.003 }, [0.7, 0.86, 0.91]),
    ];
    const d = diagnoseTrial(crashed, trials, auc);
    expect(d.summary).toMatch(/^Failed after epoch 3 \(exit code 1\); until then: /);
    expect(d.evidence.at(-1)).toMatch(/^Learning rate 0\.01 \(adam\): not ranked \(it failed\); against the 2 ranked adam trials; /);
    // A crash whose epochs were sound: fix the crash, not "nothing to change".
    const alone = { ...crashed, params: { optimizer: 'adam', learning_rate: 0.002 } };
    const sound = diagnoseTrial(alone, [alone], auc);
    expect(sound.summary).toMatch(/^Failed after epoch 3 \(exit code 1\); until then: (healthy|not stalled)/i);
    expect(sound.advice).toMatch(/^Fix what ended it \(its reason and stderr tail\) and run it again/);
    expect(sound.advice).not.toMatch(/Nothing to change/);
    // For the others, the crashed trial is no peer: 1 of 2, not 2 of 3.
    expect(diagnoseTrial(trials[2] as TrialView, trials, auc).evidence.at(-1)).toMatch(/ranks 1 of 2 adam trials;/);
  });

  it('a healthy macro AUC says which class stayed below chance and which had no AUC', () => {
    const t0: TrialView = {
      ...trial(0, { optimizer: 'adam', learning_rate: 0.001 }, [0.7, 0.78, 0.792]),
    };
    const best = t0.epochs[2] as EpochRecord;
    const withClasses: TrialView = {
      ...t0,
      epochs: [
        ...t0.epochs.slice(0, 2),
        {
          ...best,
          metrics: { ...best.metrics, 'val_auc[c0]': 0.95, 'val_auc[c1]': 0.97, 'val_auc[c3]': 0.455 },
          notes: { auc_undefined_classes: ['c2'] },
        },
      ],
    };
    const d = diagnoseTrial(withClasses, [withClasses], auc);
    expect(d.verdict).toBe('healthy');
    expect(d.summary).toMatch(/Not every class learned: c3 0\.455, near or below chance\.$/);
    expect(d.evidence[1]).toBe(
      'Per class at epoch 3: 1 of 3 with a value near or below chance (c3 0.455); no value for c2 (one label value in validation).',
    );
  });

  it("rate advice names the optimizer it is for: raising sgd's rate does not contradict an answer that moves to adam", () => {
    const still = [{ layer: 'fc1', trainable: true, kernelMovement: 0.002, updateRatio: 1e-4, biasMovement: 1e-4 }];
    const trials = [
      trial(0, { optimizer: 'sgd', learning_rate: 0.01 }, [0.5, 0.51, 0.525], still),
      trial(1, { optimizer: 'adam', learning_rate: 0.0047 }, [0.7, 0.8, 0.861]),
      trial(2, { optimizer: 'sgd', learning_rate: 0.001 }, [0.5, 0.5, 0.5], still),
      trial(3, { optimizer: 'sgd', learning_rate: 1e-4 }, [0.5, 0.5, 0.5], still),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.verdict).toBe('too-low');
    expect(d.advice).toMatch(/^Try learning rates 0\.1 … 1 with sgd, above this trial's 0\.01\./);
  });

  it('"held back by its frozen layers" is not said when a trial of its optimizer trained more layers and did no better', () => {
    const trials = [
      trial(4, { optimizer: 'adam', learning_rate: 0.019, frozen_layers: 1 }, [0.7, 0.75, 0.78]),
      trial(6, { optimizer: 'adam', learning_rate: 0.0047, frozen_layers: 0 }, [0.75, 0.82, 0.861]),
      trial(1, { optimizer: 'adam', learning_rate: 0.03, frozen_layers: 0 }, [0.7, 0.76, 0.787]),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.summary).not.toMatch(/held back by its frozen layers/);
    expect(d.summary).toMatch(/^Learning, but behind: trial 6 did clearly better \(0\.861\)/);
    expect(d.advice).toBe('Trial 6 did clearly better (0.861) with learning_rate=0.0047, frozen_layers=0: try its settings.');
  });

  it("an AUC falling far below chance is learning, inverted: check the labels and the scores' sign", () => {
    const trials = [
      trial(1, { optimizer: 'sgd', learning_rate: 0.5 }, [0.289, 0.176, 0.119, 0.085]),
      trial(0, { optimizer: 'sgd', learning_rate: 0.001 }, [0.5, 0.51, 0.517, 0.517]),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.summary).toBe(
      'Learning, but inverted: val_auc_macro fell 0.289 → 0.085, far below chance (0.5): the model ranks the classes backwards.',
    );
    expect(d.advice).toMatch(/flipped, this would read 0\.915\.$/);
  });

  it('too high: the lower rates it suggests stop two decades below the highest lower rate that did better', () => {
    const loss: DiagnosisObjective = { metric: 'val_loss', direction: 'minimize' };
    const big = [{ layer: 'fc1', trainable: true, kernelMovement: 3, updateRatio: 0.5, biasMovement: 1 }];
    const trials = [
      trial(2, { optimizer: 'adam', learning_rate: 0.3 }, [2.0, 2.4, 2.3], big, 'val_loss'),
      trial(1, { optimizer: 'adam', learning_rate: 1e-6 }, [0.69, 0.689, 0.688], undefined, 'val_loss'),
      trial(3, { optimizer: 'adam', learning_rate: 0.003 }, [0.6, 0.4, 0.3], undefined, 'val_loss'),
    ].map((t) => ({ ...t, value: Math.min(...t.epochs.map((e) => e.metrics.val_loss as number)) }));
    const d = diagnoseTrial(trials[0] as TrialView, trials, loss);
    expect(d.suggestedLearningRate).toEqual({ low: 3e-4, high: 0.03 });
  });

  it('learning slowly, with peers ahead at higher and lower rates: not told to raise its rate', () => {
    const trials = [
      trial(1, { optimizer: 'adam', learning_rate: 0.003 }, [0.5, 0.53, 0.56, 0.58]),
      trial(0, { optimizer: 'adam', learning_rate: 0.03 }, [0.8, 0.9, 0.95, 0.97]),
      trial(2, { optimizer: 'adam', learning_rate: 0.0003 }, [0.7, 0.8, 0.85, 0.9]),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.verdict).toBe('learning-slowly');
    expect(d.advice).toBe(
      'Give it more epochs. Trials at higher (0.03) and at lower rates (3e-4) did better: the rate alone does not explain it.',
    );
  });

  it('a flat metric with rewritten kernels is not "too high" when trials at higher rates scored the same', () => {
    const acc: DiagnosisObjective = { metric: 'accuracy', direction: 'maximize' };
    const big = [{ layer: 'fc1', trainable: true, kernelMovement: 1.81, updateRatio: 0.2, biasMovement: 0.5 }];
    const trials = [
      trial(0, { optimizer: 'adam', learning_rate: 0.01 }, [0.8, 0.8, 0.8], big, 'accuracy'),
      trial(1, { optimizer: 'adam', learning_rate: 0.024 }, [0.8, 0.8, 0.8], big, 'accuracy'),
      trial(2, { optimizer: 'adam', learning_rate: 0.0475 }, [0.8, 0.8, 0.8], big, 'accuracy'),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, acc);
    expect(d.verdict).not.toBe('too-high');
    expect(d.summary).not.toMatch(/too high/);
  });

  it('a rise under the learning threshold that came every epoch is learning slowly, not "not learning"', () => {
    const moved = [{ layer: 'fc1', trainable: true, kernelMovement: 0.092, updateRatio: 0.01, biasMovement: 0.02 }];
    const trials = [
      trial(7, { optimizer: 'sgd', learning_rate: 0.045 }, [0.506, 0.512, 0.52, 0.528, 0.536, 0.544], moved),
      trial(0, { optimizer: 'sgd', learning_rate: 0.01 }, [0.503, 0.508, 0.512, 0.516, 0.521, 0.525], moved),
      trial(3, { optimizer: 'sgd', learning_rate: 1.1e-4 }, [0.49, 0.495, 0.499, 0.499, 0.499, 0.499], moved),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.verdict).toBe('learning-slowly');
    expect(d.advice).toMatch(
      /^Give it more epochs, or try learning rates 0\.45 … 4\.5 with sgd, above this trial's 0\.045, to learn faster\.$/,
    );
    // A curve that went up and down by as much is still not a trend.
    const noisy = trial(8, { optimizer: 'sgd', learning_rate: 0.02 }, [0.506, 0.52, 0.51, 0.53, 0.52, 0.544], moved);
    expect(diagnoseTrial(noisy, [...trials, noisy], auc).verdict).not.toBe('learning-slowly');
  });

  it('a trial that diverged after its best epoch is never the one whose settings to try', () => {
    const trials = [
      trial(0, { x: 0.5, kind: 'ok' }, [0.6, 0.68, 0.7]),
      trial(2, { x: 0, kind: 'nan' }, [0.97, Number.NaN, Number.NaN]),
      trial(3, { x: 0.2, kind: 'ok' }, [0.7, 0.75, 0.78]),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.advice).toBe('Trial 3 did clearly better (0.78) with x=0.2: try its settings.');
  });

  it("a frozen layer's dead units are not the rate's doing: no 'dying units', and not cited", () => {
    // A frozen Conv with its ReLU in its own entry (as Keras and tfjs report it) below the trained
    // layers sees the same inputs every epoch: its dead units are what the pretrained weights do
    // on this data, whatever the rate.
    const layers: EpochRecord['layers'] = [
      { layer: 'Mixed_5a', trainable: false, kernelMovement: 0, updateRatio: 0, deadFraction: 0.72 },
      { layer: 'fc1', trainable: true, kernelMovement: 0.004, updateRatio: 1e-4, biasMovement: 0.001, deadFraction: 0.05 },
    ];
    const t0 = trial(0, { optimizer: 'rmsprop', learning_rate: 1e-5 }, [0.5, 0.51, 0.51], layers);
    const t1 = trial(1, { optimizer: 'rmsprop', learning_rate: 1e-3 }, [0.6, 0.7, 0.75]);
    const d = diagnoseTrial(t0, [t0, t1], auc);
    expect(d.verdict).not.toBe('dying-units');
    expect([d.summary, ...d.evidence, d.advice].join(' ')).not.toContain('Mixed_5a');
    expect(d.advice).not.toMatch(/below this trial/);
  });

  it('units dead from the first epoch, with kernels that barely moved: not "dying" nor a lower rate; the start is checked', () => {
    const layers = (dead: number): EpochRecord['layers'] => [
      { layer: 'fc1', trainable: true, kernelMovement: 0.01, updateRatio: 1e-3, biasMovement: 0.002, deadFraction: dead },
    ];
    const withDead = (dead: number[]): TrialView => {
      const t = trial(0, { learning_rate: 1e-4 }, [0.5, 0.51, 0.5]);
      return { ...t, epochs: t.epochs.map((e, i) => ({ ...e, layers: layers(dead[i] as number) })) };
    };
    const fromStart = withDead([0.81, 0.82, 0.83]);
    const d = diagnoseTrial(fromStart, [fromStart], auc);
    expect(d.verdict).toBe('no-learning');
    expect(d.summary).toMatch(/^Not learning, with dead units from the first epoch: 83 % of fc1's units are dead \(81 % after epoch 1\)/);
    // Measured after epoch 1 only: not "training did not kill these units", which only a measurement before training shows.
    expect(d.advice).toMatch(
      /^These units were at least as dead after the first epoch as at the end, so a lower rate is not shown to help \(a measurement before training, activations_at_start, would tell whether training killed them in epoch 1\)\. Check the weight initialisation/,
    );
    expect(d.suggestedLearningRate).toBeUndefined();
    // Measured before training too, as dead then: now it is known that training did not kill them.
    const measured: TrialView = {
      ...fromStart,
      epochs: fromStart.epochs.map((e) => (e.epoch === 1 ? { ...e, notes: { activations_at_start: { fc1: { deadFraction: 0.8 } } } } : e)),
    };
    expect(diagnoseTrial(measured, [measured], auc).advice).toMatch(
      /^Training did not kill these units, so a lower rate is not shown to help\. Check the weight initialisation/,
    );
    // A trial that learned steadily, its kernels rewritten, with units as dead after epoch 1 as at
    // the end: not "dying units, learning rate too high" (a review ran the lower rate that advice
    // named: 0.79 instead of 0.987).
    const rising = withDead([0.563, 0.563, 0.563]);
    const learnedWell: TrialView = {
      ...rising,
      value: 0.987,
      epochs: rising.epochs.map((e, i) => ({
        ...e,
        metrics: { val_auc_macro: [0.905, 0.947, 0.987][i] as number },
        layers: (e.layers ?? []).map((l) => ({ ...l, kernelMovement: 10.3, updateRatio: 0.2 })),
      })),
    };
    const healthy = diagnoseTrial(learnedWell, [learnedWell], auc);
    expect(healthy.verdict).toBe('healthy');
    expect(healthy.summary).not.toMatch(/Dying|too high/);
    // Units that died as training went on are dying, as before.
    const dying = withDead([0.1, 0.5, 0.83]);
    expect(diagnoseTrial(dying, [dying], auc).summary).toMatch(/^Dying units: 83 % of fc1/);
  });

  it('a trial with one peer of its optimizer is not ranked among the others: their lower rates are no advice for sgd', () => {
    // A review's study: sgd at 0.0148 stuck at 0.449 with 3 of 4 layers frozen; the other sgd trial
    // at 0.0029 did not learn either; adam and rmsprop trials at lower rates did. By hand, sgd did
    // better the higher its rate (0.5: 0.505), and the advised 2.9e-4 learned nothing.
    const moved = (k: number): EpochRecord['layers'] => [
      { layer: 'fc', trainable: true, kernelMovement: k, updateRatio: k / 10, biasMovement: 0.01 },
    ];
    const trials = [
      trial(3, { optimizer: 'sgd', learning_rate: 0.0148, frozen_layers: 3 }, [0.4479, 0.4485, 0.449, 0.4494], moved(0.022)),
      trial(7, { optimizer: 'sgd', learning_rate: 0.0029, frozen_layers: 1 }, [0.45, 0.45, 0.451, 0.451], moved(0.004)),
      trial(1, { optimizer: 'adam', learning_rate: 0.001, frozen_layers: 0 }, [0.8, 0.9, 0.95, 0.97]),
      trial(2, { optimizer: 'rmsprop', learning_rate: 1.2e-4, frozen_layers: 0 }, [0.7, 0.8, 0.85, 0.9]),
      trial(4, { optimizer: 'adam', learning_rate: 3e-4, frozen_layers: 1 }, [0.75, 0.85, 0.9, 0.93]),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.summary).not.toMatch(/too high/);
    expect(d.evidence.at(-1)).toMatch(/ranks \d of 2 sgd trials/);
    expect(d.advice).not.toMatch(/below this trial/);
  });

  it('a head whose kernel started at zero is named beside the kernel movement, not silently left out of its count', () => {
    // The quickstart's logits layer: an update ratio of 0.47 but no movement relative to a zero start.
    const layers: EpochRecord['layers'] = [
      { layer: 'fc1', trainable: true, kernelMovement: 0.0056, updateRatio: 0.002, biasMovement: 0.01 },
      { layer: 'logits', trainable: true, updateRatio: 0.468, biasMovement: 0.2 },
    ];
    const t = trial(6, { learning_rate: 0.01 }, [0.7, 0.75, 0.78], layers);
    const d = diagnoseTrial(t, [t], auc);
    expect(d.evidence).toContain(
      'Kernels moved a median 0.56 % from their starting values (largest 0.56 % in fc1; 1 trainable layer(s); not logits, whose kernel started at zero, so it has no movement relative to its start).',
    );
    // The head alone trained (the quickstart's frozen_layers 4): said, not a missing sentence.
    const headOnly = trial(1, { learning_rate: 0.017 }, [0.78, 0.82], [layers[1] as EpochRecord['layers'][number]]);
    expect(diagnoseTrial(headOnly, [headOnly], auc).evidence).toContain(
      'Kernel movement: none to show, since logits started at zero (no movement relative to a zero start); its update ratio is below.',
    );
  });

  it('a layer whose weights went NaN is not said to have "started at zero"', () => {
    // conv1's kernel went NaN at epoch 1 (stored without a movement), its update ratio still finite;
    // the worker named it in non_finite_layers. It is a diverged layer, not a new head.
    const layers: EpochRecord['layers'] = [
      { layer: 'conv1', trainable: true, updateRatio: 5e-4, biasMovement: 0.01 },
      { layer: 'head', trainable: true, updateRatio: 0.3, biasMovement: 0.2 },
    ];
    const t = trial(0, { learning_rate: 0.5 }, [0.5, 0.5], layers);
    const flagged: TrialView = {
      ...t,
      epochs: t.epochs.map((e) => ({ ...e, notes: { diverged: true, non_finite_layers: ['conv1'] } })),
    };
    const text = diagnoseTrial(flagged, [flagged], auc).evidence.join('\n');
    expect(text).not.toMatch(/conv1[^.]*started at zero/);
    expect(text).toContain('Kernel movement: none to show, since head started at zero');
  });

  it('the kernels a movement counts leave out a layer whose weights went NaN, and say so', () => {
    // A review's frozen_layers 2 trial: conv3 went NaN, the head's kernel moved 87.1 %.
    const layers: EpochRecord['layers'] = [
      { layer: 'conv3', trainable: true, updateRatio: 5e-4 },
      { layer: 'fc', trainable: true, kernelMovement: 0.871, updateRatio: 0.05 },
    ];
    const t = trial(1, { learning_rate: 0.05 }, [0.6, 0.62], layers);
    const flagged: TrialView = { ...t, epochs: t.epochs.map((e) => ({ ...e, notes: { non_finite_layers: ['conv3'] } })) };
    expect(diagnoseTrial(flagged, [flagged], auc).evidence.join('\n')).toContain(
      'Kernels moved a median 87.1 % from their starting values (largest 87.1 % in fc; 1 trainable layer(s); not conv3, whose weights went NaN or infinite).',
    );
  });

  it("an nn.Sequential layer named by its index is said as 'layer 7', not a bare number", () => {
    const layers: EpochRecord['layers'] = [
      { layer: '0', trainable: true, kernelMovement: 0.05, updateRatio: 0.01, biasMovement: 0.01 },
      { layer: '7', trainable: true, kernelMovement: 10.3, updateRatio: 0.2, biasMovement: 0.3, deadFraction: 0.125 },
    ];
    const t = trial(1, { learning_rate: 0.01 }, [0.6, 0.7, 0.8], layers);
    const text = diagnoseTrial(t, [t], auc).evidence.join('\n');
    expect(text).toContain('largest 1030 % in layer 7;');
    expect(text).toContain("12.5 % of layer 7's units are zero");
  });

  it('peers at the same rate did better: a trial that scored at chance or went NaN is not told its rate is too high', () => {
    const moved = [{ layer: 'fc1', trainable: true, kernelMovement: 2.44, updateRatio: 0.3, biasMovement: 0.5 }];
    const params = (mode: string) => ({ learning_rate: 0.02, optimizer: 'adam', score_mode: mode });
    const trials = [
      trial(0, params('logits'), [0.8, 0.85, 0.862], moved),
      trial(1, params('probs'), [0.8, 0.85, 0.862], moved),
      trial(2, params('const'), [0.5, 0.5, 0.5], moved),
      trial(3, params('nan'), [0.8, Number.NaN, Number.NaN], moved),
    ];
    const constant = diagnoseTrial(trials[2] as TrialView, trials, auc);
    expect(constant.verdict).toBe('no-learning');
    expect(constant.summary).toBe(
      "Held back by score_mode, not the learning rate: val_auc_macro reached 0.5; every adam trial that did clearly better (3, up to 0.862) had score_mode logits, probs, nan, against this trial's const, and trial 0 (0.862) did so at about this learning rate (0.02).",
    );
    expect(constant.suggestedLearningRate).toBeUndefined();
    const nan = diagnoseTrial(trials[3] as TrialView, trials, auc);
    expect(nan.verdict).toBe('diverged');
    expect(nan.summary).toMatch(/while 2 adam trials at the same learning rate 0\.02 did better: the rate alone does not explain it\.$/);
    expect(nan.suggestedLearningRate).toBeUndefined();
    for (const d of [constant, nan])
      expect([d.summary, d.advice].join(' ')).not.toMatch(/too high|lower the learning rate|below this trial/i);
    // The same study with the rate and optimizer fixed, not searched: the trials' params leave them out.
    const fixed = trials.map((t) => ({ ...t, params: { score_mode: t.params.score_mode as string } }));
    const withFixed: DiagnosisObjective = { ...auc, fixed: { learning_rate: 0.02, optimizer: 'adam' } };
    expect(diagnoseTrial(fixed[2] as TrialView, fixed, withFixed).summary).toBe(constant.summary);
    expect(diagnoseTrial(fixed[3] as TrialView, fixed, withFixed).summary).toBe(nan.summary);
  });

  it("the rate is not blamed when every clearly better trial also trained other scopes (TF-slim's trainable_scopes, event files only)", () => {
    // What a TensorBoard-read trial reports: trainable flags, no movement.
    const layers = (trainable: boolean) => [
      { layer: 'TinyNet/Conv2d_1a_3x3', trainable },
      { layer: 'TinyNet/Logits', trainable: true },
    ];
    const all = 'Conv2d_1a_3x3,Conv2d_2a_3x3,Conv2d_3a_3x3,Logits';
    const p = (optimizer: string, learning_rate: number, trainable_scopes: string, weight_decay = 4e-5) => ({
      learning_rate,
      optimizer,
      trainable_scopes,
      opt_epsilon: 1,
      weight_decay,
    });
    const trials = [
      trial(0, p('rmsprop', 0.01, 'Logits'), [0.55, 0.58, 0.587], layers(false)), // the user's config
      trial(2, p('rmsprop', 0.0012, all), [0.7, 0.76, 0.785], layers(true)),
      trial(3, p('rmsprop', 7.3e-4, all), [0.6, 0.63, 0.642], layers(true)),
      trial(4, p('rmsprop', 0.0021, all), [0.71, 0.77, 0.791], layers(true)),
      trial(6, p('sgd', 0.05, 'Conv2d_3a_3x3,Logits'), [0.6, 0.66, 0.7], layers(true)),
    ];
    const diagnosis = (t: TrialView, others: TrialView[]) => diagnoseTrial(t, [t, ...others], auc);
    // Alone in its choice, at another rate than the better trials: the study cannot tell the two apart, and says so.
    const alone = diagnosis(trials[0] as TrialView, trials.slice(1));
    // Trial 3 (0.6 → 0.642) did better but by its own page learned too little to count: not among the better.
    const third = diagnosis(trials[2] as TrialView, [trials[0], trials[1], trials[3], trials[4]] as TrialView[]);
    expect(third.summary).toMatch(/^Learning rate likely too low: val_auc_macro reached 0\.642 only/);
    expect(alone.summary).toBe(
      "Not learning, and this study cannot tell why: val_auc_macro reached 0.587; every rmsprop trial that did clearly better (2, up to 0.791) had trainable_scopes Conv2d_1a_3x3,Conv2d_2a_3x3,Conv2d_3a_3x3,Logits, against this trial's Logits, and no other rmsprop trial with trainable_scopes=Logits ran at rates like theirs, so neither the rate nor trainable_scopes is shown to be the cause.",
    );
    expect(alone.advice).toBe(
      `Try trainable_scopes=${all} (trial 4's) at this trial's learning rate 0.01: then trainable_scopes is the only difference.`,
    );
    expect(alone.suggestedLearningRate).toBeUndefined();
    // A look-alike with its scopes at the better trials' rates, completed and no better: the scopes, not the rate.
    const lookAlike = trial(5, p('rmsprop', 0.0016, 'Logits'), [0.55, 0.59, 0.5956], layers(false));
    const held = diagnosis(trials[0] as TrialView, [...trials.slice(1), lookAlike]);
    expect(held.summary).toMatch(
      /^Held back by trainable_scopes, not the learning rate: .*, and the one rmsprop trial with trainable_scopes=Logits at rates like theirs \(learning rate 0\.0016\) did not do clearly better either\.$/,
    );
    expect(held.advice).toBe(`Try trainable_scopes=${all}, as trial 4 (0.791) did.`);
    // The look-alike itself: a better trial at about its rate (0.0021) changed the scopes alone; not "check rmsprop's epsilon".
    const twin = diagnosis(lookAlike, trials);
    expect(twin.summary).toMatch(
      /^Held back by trainable_scopes, not the learning rate: .*, and trial 4 \(0\.791\) did so at about this learning rate \(0\.0021\)\.$/,
    );
    expect(twin.advice).toBe(`Try trainable_scopes=${all}, as trial 4 did at this rate.`);
    // A twin that changed more than the scopes: it says so, and names no single cause.
    const heavier = trial(4, p('rmsprop', 0.0021, all, 0.1), [0.71, 0.77, 0.791], layers(true));
    const both = diagnosis(lookAlike, [...trials.slice(0, 3), heavier]);
    expect(both.summary).toMatch(
      /^Not the learning rate: .*, and trial 4 \(0\.791\) did so at about this learning rate \(0\.0021\), changing trainable_scopes, weight_decay too\.$/,
    );
    expect(both.advice).toBe(
      `Try trial 4's settings (trainable_scopes=${all}, weight_decay=0.1); to tell which of them matters, change one at a time.`,
    );
    // Look-alikes that say nothing of the rate: one stopped after an epoch, one far above the better trials' rates.
    const stopped = { ...lookAlike, state: 'stopped' as const, epochs: lookAlike.epochs.slice(0, 1) };
    const far = { ...lookAlike, params: { ...lookAlike.params, learning_rate: 0.05 } };
    for (const other of [stopped, far])
      expect(diagnosis(trials[0] as TrialView, [...trials.slice(1), other]).summary).toMatch(
        /^Not learning, and this study cannot tell why: /,
      );
    // A look-alike ahead of it by the margin, though short of learning (0.54 against 0.46): not one that "did not do clearly better".
    const low = trial(9, p('rmsprop', 0.01, 'Logits'), [0.45, 0.46, 0.46], layers(false));
    const aheadButNearChance = trial(10, p('rmsprop', 0.0016, 'Logits'), [0.5, 0.53, 0.54], layers(false));
    const near = diagnosis(low, [...trials.slice(1), aheadButNearChance]);
    expect(near.summary).toMatch(/^Not learning, and this study cannot tell why: /);
    expect(near.summary).not.toMatch(/did not do clearly better/);
    // Another optimizer is a difference of its own: an sgd trial is compared with sgd trials only.
    const sgdLow = trial(8, p('sgd', 1e-4, 'Logits'), [0.61, 0.61, 0.61], layers(false));
    expect(diagnosis(sgdLow, trials).summary).toMatch(
      /^Not learning, and this study cannot tell why: .*every sgd trial that did clearly better \(one, /,
    );
  });

  it("no-learning advice does not blame the optimizer's settings when trials of that optimizer learned", () => {
    const p = (optimizer: string, learning_rate: number, frozen_layers: number) => ({
      learning_rate,
      optimizer,
      frozen_layers,
      opt_epsilon: 1,
    });
    const still = [{ layer: 'fc1', trainable: true, kernelMovement: 0.03, updateRatio: 0.002, biasMovement: 0.01 }];
    const trials = [
      trial(0, p('rmsprop', 0.003, 9), [0.55, 0.56, 0.565], still),
      // As many frozen layers as trial 0: froze fewer, they would be a difference of their own (below).
      trial(1, p('rmsprop', 0.001, 9), [0.7, 0.75, 0.79]),
      trial(2, p('sgd', 0.1, 3), [0.7, 0.74, 0.78]),
      trial(3, p('rmsprop', 0.01, 9), [0.7, 0.74, 0.77]),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.verdict).toBe('no-learning');
    expect(d.advice).not.toMatch(/epsilon/);
    expect(d.advice).toMatch(
      /^Trials with rmsprop learned on the same data, so its optimizer is not the cause on its own: trial 1 \(0\.79\) differs in /,
    );
  });

  it('no-learning advice does not call "learned" a peer whose own page says it did not learn', () => {
    const p = (optimizer: string, learning_rate: number) => ({ learning_rate, optimizer, frozen_layers: 2, opt_epsilon: 1e-7 });
    const still = [{ layer: 'fc1', trainable: true, kernelMovement: 0.03, updateRatio: 0.002, biasMovement: 0.01 }];
    // The Keras review: the best trial, flat at 0.616, read "Not learning"; the others' advice said rmsprop trials learned.
    const trials = [
      trial(0, p('rmsprop', 0.003), [0.5, 0.505, 0.51], still),
      trial(1, p('rmsprop', 0.003), [0.61, 0.612, 0.616], still),
      trial(2, p('sgd', 0.1), [0.5, 0.5, 0.505], still),
    ];
    expect(diagnoseTrial(trials[1] as TrialView, trials, auc).verdict).toBe('no-learning');
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.verdict).toBe('no-learning');
    expect(d.advice).not.toMatch(/learned on the same data/);
  });

  it('a head-only trial whose better peers all ran lower and trained more layers is not "too high": the study cannot tell which', () => {
    // The review's PyTorch study: rmsprop at 0.05 with the backbone frozen (only fc trains, a new
    // head whose kernel moves a fifth from its random start at any rate) against three better
    // rmsprop trials at lower rates that trained every layer. By hand, lower rates did worse.
    const head = (moved: number) => [{ layer: 'fc', trainable: true, kernelMovement: moved, updateRatio: 0.01, biasMovement: 0.1 }];
    const p = (learning_rate: number, frozen_layers: number) => ({ learning_rate, optimizer: 'rmsprop', frozen_layers, opt_epsilon: 1 });
    const trials = [
      trial(0, p(0.0496, 5), [0.51, 0.52, 0.527], head(0.224)),
      trial(1, p(0.0122, 0), [0.7, 0.76, 0.792], head(0.261)),
      trial(2, p(0.004, 0), [0.66, 0.71, 0.75], head(0.2)),
      trial(3, p(0.0011, 0), [0.62, 0.66, 0.7], head(0.15)),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.verdict).toBe('no-learning');
    expect(d.summary).toMatch(
      /^Not learning, and this study cannot tell why: .*; every rmsprop trial that did clearly better \(3, up to 0\.792\) froze fewer layers \(frozen_layers 0\) than this trial's 5, and no other rmsprop trial with frozen_layers=5 ran at rates like theirs/,
    );
    expect(d.advice).toBe("Try frozen_layers=0 (trial 1's) at this trial's learning rate 0.05: then frozen_layers is the only difference.");
    // A peer frozen as much that did no better at the better trials' rates: the frozen layers, not the rate.
    const withLookAlike = [...trials, trial(4, p(0.004, 5), [0.5, 0.51, 0.52], head(0.1))];
    expect(diagnoseTrial(trials[0] as TrialView, withLookAlike, auc).summary).toMatch(
      /^Held back by frozen_layers, not the learning rate: /,
    );
    // The review's counter-example: a trial at this rate that trained every layer did no better. The
    // frozen layers are then not shown to hold it back, and the rate verdict stands.
    const fewerAtThisRate = [...withLookAlike, trial(5, p(0.05, 0), [0.5, 0.51, 0.515], head(0.3))];
    const rate = diagnoseTrial(trials[0] as TrialView, fewerAtThisRate, auc);
    expect(rate.summary).toMatch(/^Learning rate too high: /);
    expect(`${rate.summary} ${rate.advice}`).not.toMatch(/frozen_layers=/);
  });

  it('a too-low adam or rmsprop trial with a large epsilon is told that epsilon shrinks its steps, and how to keep the rate', () => {
    const still = [{ layer: 'fc1', trainable: true, kernelMovement: 0.001, updateRatio: 1e-5, biasMovement: 0.001 }];
    const p = (opt_epsilon: number) => ({ learning_rate: 0.001, optimizer: 'adam', frozen_layers: 2, opt_epsilon });
    const big = diagnoseTrial(trial(0, p(1), [0.5, 0.51, 0.512], still) as TrialView, [], auc);
    expect(big.verdict).toBe('too-low');
    expect(big.summary).toMatch(
      /With opt_epsilon 1, which outweighs √v in adam's denominator, its steps are about rate × gradient, as plain SGD's: far smaller than the rate\.$/,
    );
    expect(big.advice).toMatch(
      /^Try learning rates .* Or keep the rate and lower opt_epsilon from 1 to 1e-8 … 1e-3 \(adam's usual\), where its steps are about the rate's size\.$/,
    );
    // At a rate far above adam's usual, keeping it with a usual epsilon would step each weight by 0.5.
    const highRate = diagnoseTrial(trial(0, { ...p(1), learning_rate: 0.5 }, [0.5, 0.51, 0.512], still) as TrialView, [], auc);
    expect(highRate.advice).toMatch(
      /Or lower opt_epsilon from 1 to 1e-8 … 1e-3 \(adam's usual\) together with the rate, to about 1e-4 … 1e-3/,
    );
    expect(highRate.advice).not.toMatch(/keep the rate/);
    // The optimizer's name as the script spells it.
    expect(diagnoseTrial(trial(0, { ...p(1), optimizer: 'AdamW' }, [0.5, 0.51, 0.512], still) as TrialView, [], auc).summary).toMatch(
      /With opt_epsilon 1, which outweighs √v in AdamW's denominator/,
    );
    const usual = diagnoseTrial(trial(0, p(1e-8), [0.5, 0.51, 0.512], still) as TrialView, [], auc);
    expect(usual.verdict).toBe('too-low');
    expect(`${usual.summary} ${usual.advice}`).not.toMatch(/epsilon/);
  });

  it('a NaN in the evaluation only (train_loss and weights finite) is not put on the rate; a NaN train_loss still is', () => {
    const layers = [{ layer: 'fc1', trainable: true, kernelMovement: 0.3, updateRatio: 0.01, mean: 0.01, std: 0.1 }];
    const run = (trainLoss: number): TrialView => ({
      id: 't0',
      number: 0,
      params: { learning_rate: 3.1e-4, optimizer: 'adam' },
      state: 'completed',
      value: 0.8,
      epochs: [
        { epoch: 1, metrics: { val_auc_macro: 0.8, train_loss: 0.5 }, layers },
        { epoch: 2, metrics: { val_auc_macro: Number.NaN, train_loss: trainLoss }, layers },
      ],
    });
    const evalOnly = diagnoseTrial(run(0.4), [], auc);
    expect(evalOnly.verdict).toBe('diverged');
    expect(evalOnly.summary).toBe(
      'Non-finite in its evaluation only (val_auc_macro is NaN at epoch 2): train_loss and the weights stayed finite, so the rate is not shown to be the cause.',
    );
    expect(evalOnly.advice).toMatch(/^Check the evaluation for NaN or Inf/);
    // The epoch with no finite value ran: counted beside the course, not left out of it.
    expect(evalOnly.evidence[0]).toBe(
      'val_auc_macro: 0.8 over 1 epoch(s) (1 more without a finite value); best 0.8 at epoch 1 (chance: 0.5).',
    );
    expect(evalOnly.suggestedLearningRate).toBeUndefined();
    // The Python client's note for NaN scores, with the weights finite: the evaluation still.
    const client = run(0.4);
    const noted = {
      ...client,
      epochs: client.epochs.map((e) => (e.epoch === 2 ? { ...e, notes: { diverged: true, nan_scores: 'scores[3][1] is NaN' } } : e)),
    };
    expect(diagnoseTrial(noted, [], auc).summary).toMatch(/^Non-finite in its evaluation only/);
    const training = diagnoseTrial(run(Number.NaN), [], auc);
    expect(training.summary).toMatch(/is too high\.$/);
  });
});

// A real PyTorch multi-label study: SGD at 1e-7 for 5 epochs scored exactly what the untrained
// model scores (pretrained features, random head) at every epoch; sgd at 8.5e-4 and 4.6e-3 stayed
// flat too; adam and rmsprop learned (sgd at 0.1, run apart, reached 0.816).
describe('diagnoseTrial: a flat sgd baseline whose faster sgd peers were flat too', () => {
  const untrained = 0.7251421729064771;
  const still = (k: number) => [{ layer: 'fc', trainable: true, kernelMovement: k, updateRatio: k / 5, biasMovement: k }];
  const baseline = trial(0, { optimizer: 'sgd', learning_rate: 1e-7 }, Array(5).fill(untrained), still(1e-6));
  const study = [
    baseline,
    trial(1, { optimizer: 'sgd', learning_rate: 8.5e-4 }, [untrained, 0.7252, 0.7253, 0.7253, 0.7254], still(0.004)),
    trial(2, { optimizer: 'sgd', learning_rate: 4.6e-3 }, [0.7255, 0.726, 0.7262, 0.7263, 0.7265], still(0.008)),
    trial(3, { optimizer: 'adam', learning_rate: 1e-4 }, [0.78, 0.8, 0.81, 0.82, 0.83]),
    trial(4, { optimizer: 'rmsprop', learning_rate: 1e-4 }, [0.77, 0.79, 0.8, 0.81, 0.812]),
  ];

  it('a metric that never moved from epoch 1 is not said to be "what the head learns": epoch 1 may be the untrained score', () => {
    for (const peers of [study, [baseline]]) {
      const d = diagnoseTrial(baseline, peers, auc);
      expect(d.summary).not.toMatch(/head learns|first steps/);
      expect(d.summary).toMatch(
        /val_auc_macro stayed at 0\.725 from epoch 1 on \(the same to every digit in all 5 evaluations\) — it did not improve after epoch 1, and with no val_auc_macro measured before training, epoch 1's 0\.725 may be what the model scores before any training\./,
      );
    }
    // Measured before training (an epoch 0) and no higher since: said as measured, not "may be".
    const measured: TrialView = {
      ...baseline,
      epochs: [{ epoch: 0, metrics: { val_auc_macro: untrained }, layers: [] }, ...baseline.epochs],
    };
    const d = diagnoseTrial(measured, [measured], auc);
    expect(d.summary).toMatch(
      /stayed at 0\.725 from before training \(epoch 0\) on \(the same to every digit in all 6 evaluations\): training did not improve on what the model scored before it\.$/,
    );
    expect(d.summary).not.toMatch(/may be|head learns/);
    // A rise under the margin since epoch 0 is said as one, not as no improvement at all.
    const barely: TrialView = {
      ...measured,
      epochs: measured.epochs.map((e) => (e.epoch === 5 ? { ...e, metrics: { val_auc_macro: untrained + 0.004 } } : e)),
    };
    expect(diagnoseTrial(barely, [barely], auc).summary).toMatch(
      /training did not improve on what the model scored before it by more than 0\.01\.$/,
    );
  });

  it('sgd at higher rates up to 4.6e-3 did no better: no sgd rate up to it is advised, and the trial that learned is named', () => {
    const d = diagnoseTrial(baseline, study, auc);
    expect(d.verdict).toBe('too-low');
    expect(d.summary).toMatch(/ 2 sgd trials at higher rates \(8\.5e-4 … 0\.0046\) did no better\.$/);
    expect(d.advice).not.toMatch(/1e-6 … 1e-5/);
    expect(d.advice).toBe(
      "Rates up to 0.0046 with sgd did no better in this study (2 sgd trials at 8.5e-4 … 0.0046, within 0.01 of this trial's 0.725). " +
        'Try learning rates 0.046 … 0.46 with sgd, above 0.0046, or the settings of trial 3, which did clearly better (0.83): optimizer=adam, learning_rate=0.0001.',
    );
    const { low, high } = d.suggestedLearningRate as { low: number; high: number };
    expect(low).toBeGreaterThan(4.6e-3);
    // sgd at 0.1 learned (0.816) when run apart: inside the range.
    expect(low).toBeLessThanOrEqual(0.1);
    expect(high).toBeGreaterThanOrEqual(0.1);
    // Its top sgd peer has no higher sgd rate against it: the usual advice, above its own rate.
    const top = diagnoseTrial(study[2] as TrialView, study, auc);
    expect(top.advice).toMatch(/^Try learning rates 0\.046 … 0\.46 with sgd, above this trial's 0\.0046\./);
    // One in between: the usual range already lies above 4.6e-3.
    expect(diagnoseTrial(study[1] as TrialView, study, auc).advice).toMatch(
      /^Try learning rates 0\.0085 … 0\.085 with sgd, above this trial's 8\.5e-4\./,
    );
  });

  it('near chance with static kernels, and an sgd trial at a higher rate at chance too: advised above that rate', () => {
    const trials = [
      trial(0, { optimizer: 'sgd', learning_rate: 1e-6 }, [0.5, 0.5, 0.5], still(1e-5)),
      trial(1, { optimizer: 'sgd', learning_rate: 1e-4 }, [0.5, 0.501, 0.5], still(0.002)),
      trial(2, { optimizer: 'adam', learning_rate: 1e-3 }, [0.7, 0.8, 0.86]),
    ];
    const d = diagnoseTrial(trials[0] as TrialView, trials, auc);
    expect(d.verdict).toBe('too-low');
    expect(d.summary).toMatch(/ 1 sgd trial at a higher rate \(1e-4\) did no better\.$/);
    expect(d.advice).toMatch(
      /^Rates up to 1e-4 with sgd did no better in this study \(1 sgd trial at 1e-4, within 0\.01 of this trial's 0\.5\)\. Try learning rates 0\.001 … 0\.01 with sgd, above 1e-4, or the settings of trial 2, which did clearly better \(0\.86\): optimizer=adam, learning_rate=0\.001\.$/,
    );
    expect(d.suggestedLearningRate?.low).toBeGreaterThan(1e-4);
  });
});
