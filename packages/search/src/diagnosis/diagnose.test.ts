import type { EpochRecord, TrialView } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { createWeightStallRule, weightStallRulePlugin } from '../stopping/weight-stall.ts';
import { type Diagnosis, diagnoseTrial } from './diagnose.ts';
import {
  adamAllLayers,
  adamHeadOnly,
  adamScratch,
  inceptionStudy,
  practitioner,
  RECORDED_METRIC,
  rmspropLow,
  rmspropSmallEpsilon,
  sgdTiny,
} from './recorded-cases.ts';

const objective = { metric: RECORDED_METRIC, direction: 'maximize' as const };
const diagnose = (t: TrialView, peers: readonly TrialView[] = inceptionStudy) => diagnoseTrial(t, peers, objective);
const text = (d: Diagnosis) => [d.summary, ...d.evidence, d.advice].join('\n');

/** Advice never contradicts the trial's own rate: every rate it suggests lies on the side the verdict names. */
function expectAdviceSide(d: Diagnosis, rate: number, side: 'above' | 'below') {
  expect(d.suggestedLearningRate, d.summary).toBeDefined();
  const { low, high } = d.suggestedLearningRate as { low: number; high: number };
  expect(low).toBeLessThan(high);
  if (side === 'above') expect(low).toBeGreaterThan(rate);
  else expect(high).toBeLessThan(rate);
  // The rates the advice names are on that side too.
  const rates = /learning rates ([^,]*)/.exec(d.advice)?.[1] ?? '';
  expect(rates).not.toBe('');
  for (const n of rates.match(/\d+(\.\d+)?(e-?\d+)?/g) ?? []) {
    const x = Number(n);
    if (x === rate) continue;
    if (side === 'above') expect(x, d.advice).toBeGreaterThan(rate);
    else expect(x, d.advice).toBeLessThan(rate);
  }
}

/** Trial `n`: adam at learning rate `lr`, `auc` at each of 3 epochs, no layer statistics. */
function adamRun(n: number, lr: number, auc: number): TrialView {
  return {
    ...adamAllLayers,
    id: `r${n}`,
    number: n,
    params: { optimizer: 'adam', learning_rate: lr },
    value: auc,
    epochs: [1, 2, 3].map((epoch) => ({ epoch, metrics: { [RECORDED_METRIC]: auc }, layers: [] })),
  };
}

/** A completed trial with `auc` at each epoch and the layers `layersAt(epoch index)` gives. */
function curveTrial(id: string, params: TrialView['params'], auc: number[], layersAt: (i: number) => EpochRecord['layers']): TrialView {
  return {
    id,
    number: Number(id.slice(1)),
    params,
    state: 'completed',
    value: Math.max(...auc),
    epochs: auc.map((v, i) => ({ epoch: i + 1, metrics: { [RECORDED_METRIC]: v }, layers: layersAt(i) })),
  };
}

describe('diagnoseTrial on recorded cases', () => {
  it('(a) TF1 RMSProp 1e-4, epsilon 1.0: kernels 0.3 %, AUC 0.58 → too low, try higher rates', () => {
    const d = diagnose(rmspropLow);
    expect(d.verdict).toBe('too-low');
    expect(d.summary).toContain('0.3 %');
    expect(d.summary).toContain('0.58');
    expectAdviceSide(d, 1e-4, 'above');
    // Its rmsprop peers that did better ran at 0.01.
    expect(text(d)).toMatch(/2 used a higher rate \(0\.01\), 0 a lower one/);
    expect(text(d)).not.toMatch(/too high|stalled/i);
  });

  it('(b) lr 0.01, epsilon 1e-8: kernels 104 %, 99.7 % zeros in a late block → dying units, too high', () => {
    const d = diagnose(rmspropSmallEpsilon);
    expect(d.verdict).toBe('dying-units');
    expect(d.summary).toMatch(/^Dying units, learning rate too high/);
    expect(d.summary).toContain('97 %');
    expect(d.summary).toContain('104 %');
    expect(text(d)).toContain('99.7 %');
    expectAdviceSide(d, 0.01, 'below');
    expect(d.advice).toMatch(/raise opt_epsilon from 1e-8/);
  });

  it('dead units and rewritten kernels on the best trial, whose lower-rate peers did worse → not "too high"', () => {
    // examples/inception-finetune.yaml on the simulate runner: the study's best trial (adam 0.0039,
    // AUC 0.681) with 62.5 % dead units in fc1, where an adam trial at 3.4e-5 reached 0.538.
    const adamTrial = (id: string, lr: number, auc: number[], dead: number): TrialView =>
      curveTrial(id, { optimizer: 'adam', learning_rate: lr }, auc, (i) => [
        { layer: 'conv1', trainable: true, kernelMovement: 0.8, biasMovement: 0.01 },
        // Alive after the first epoch: the units died in training.
        { layer: 'fc1', trainable: true, kernelMovement: 0.9, biasMovement: 0.02, deadFraction: i === 0 ? 0.05 : dead },
      ]);
    const best = adamTrial('t4', 0.0039, [0.6, 0.65, 0.681], 0.625);
    const slower = adamTrial('t9', 3.4e-5, [0.51, 0.53, 0.538], 0.6);
    const d = diagnose(best, [best, slower]);
    expect(d.verdict).toBe('healthy');
    expect(d.summary).toContain('62.5 % of fc1');
    expect(d.summary).toMatch(/ranks 1 of 2 adam trials and the lower rates tried did worse/);
    expect(text(d)).not.toMatch(/too high/i);
    expect(d.advice).toBe('');
    // Without the slower peer nothing speaks against the rate: dying units, too high.
    expect(diagnose(best, [best]).verdict).toBe('dying-units');
    // A lower-rate peer about as good (within the margin) is not one that "did worse".
    const close = adamTrial('t7', 0.002, [0.6, 0.66, 0.686], 0.1);
    const withClose = diagnose(best, [best, slower, close]);
    expect(withClose.summary).not.toMatch(/the lower rates tried did worse/);
    expect(withClose.summary).toMatch(/no lower rate tried did clearly better \(1 at 0\.002 within 0\.01 of it, the others worse\)/);
  });

  it("the user's RMSProp 0.01, killing most units within epoch 1: too high when the script measured them before training", () => {
    // A Keras fine-tune (the TF/Keras review): conv2 6.25 % dead at the pretrained weights, 81.3 %
    // after epoch 1 and at the end; kernels moved a median 220 %; AUC 0.678, adam 0.024 reached 0.846.
    const layers = (): EpochRecord['layers'] => [
      { layer: 'conv1', trainable: true, kernelMovement: 1.9, biasMovement: 0.05 },
      { layer: 'conv2', trainable: true, kernelMovement: 2.7, biasMovement: 0.05, deadFraction: 0.813 },
      { layer: 'head', trainable: true, kernelMovement: 2.2, biasMovement: 0.05 },
    ];
    const baseline = curveTrial('t0', { optimizer: 'rmsprop', learning_rate: 0.01, frozen_layers: 0 }, [0.61, 0.66, 0.678], layers);
    const best = curveTrial('t1', { optimizer: 'adam', learning_rate: 0.024, frozen_layers: 2 }, [0.75, 0.82, 0.846], () => [
      { layer: 'conv1', trainable: true, kernelMovement: 0.3, biasMovement: 0.01 },
    ]);
    // Without a measurement before training, 81 % dead after epoch 1 and at the end reads as dead from the start.
    expect(diagnose(baseline, [baseline, best]).summary).not.toMatch(/too high/);
    const measured: TrialView = {
      ...baseline,
      epochs: baseline.epochs.map((e) =>
        e.epoch === 1 ? { ...e, notes: { activations_at_start: { conv2: { deadFraction: 0.0625, sparsity: 0.4 } } } } : e,
      ),
    };
    const d = diagnose(measured, [measured, best]);
    expect(d.verdict).toBe('dying-units');
    expect(d.summary).toMatch(/^Dying units, learning rate too high: 81\.3 % of conv2's units are dead/);
    expect(d.evidence).toContain(
      "Dead units: 81.3 % of conv2's units are zero on the whole probe batch (6.3 % before training, 81.3 % at the first epoch).",
    );
    expectAdviceSide(d, 0.01, 'below');
  });

  it('dead units on the best RMSProp trial at epsilon 1e-8, whose lower-rate peers ran at epsilon 1.0 → still dying', () => {
    // The seed story on an H200 (inception_v4, 299 px, bf16): TF1 RMSProp 0.01 at epsilon 1e-8
    // dipped 0.72 → 0.45 and ended at 0.80 with 80 % of a late block's units dead and its kernels
    // moved 87 %. The rmsprop trial at 1e-4 that did worse ran at epsilon 1.0, whose steps are far
    // smaller than its rate says: it is no evidence that a lower rate at epsilon 1e-8 does worse.
    const rmsprop = (id: string, lr: number, eps: number, auc: number[], kernels: number, dead: number): TrialView =>
      curveTrial(id, { optimizer: 'rmsprop', learning_rate: lr, opt_epsilon: eps, frozen_layers: 0 }, auc, (i) => [
        { layer: 'features.3', trainable: true, kernelMovement: kernels, biasMovement: 0.02 },
        // As on the GPU: no layer near 50 % dead after the first epoch; the units died in training.
        { layer: 'features.21', trainable: true, kernelMovement: kernels, biasMovement: 0.02, deadFraction: i === 0 ? 0 : dead },
      ]);
    const epsSmall = rmsprop('t4', 0.01, 1e-8, [0.72, 0.7, 0.51, 0.45, 0.73, 0.804], 0.87, 0.8);
    const practitionerRun = rmsprop('t0', 0.01, 1.0, [0.7, 0.74, 0.76, 0.77, 0.78, 0.781], 0.0014, 0);
    const low = rmsprop('t3', 1e-4, 1.0, [0.52, 0.55, 0.57, 0.583], 1e-5, 0);
    const high = rmsprop('t5', 0.1, 1e-8, [0.61, 0.5, 0.49, 0.46], 10.7, 0.96);
    const d = diagnose(epsSmall, [practitionerRun, low, high]);
    expect(d.verdict).toBe('dying-units');
    expect(d.summary).toMatch(/^Dying units, learning rate too high: 80 % of features\.21/);
    expectAdviceSide(d, 0.01, 'below');
    expect(d.advice).toMatch(/raise opt_epsilon from 1e-8/);
    // A worse peer at a lower rate and the same epsilon does speak against "too high".
    const lowSmallEps = rmsprop('t6', 1e-3, 1e-8, [0.6, 0.65, 0.7], 0.3, 0);
    expect(diagnose(epsSmall, [practitionerRun, low, high, lowSmallEps]).verdict).toBe('healthy');
  });

  it('(c) Adam 1e-4: kernels 10–12 %, AUC 0.84–0.92 → healthy', () => {
    const d = diagnose(adamAllLayers);
    expect(d.verdict).toBe('healthy');
    expect(d.summary).toContain('0.92');
    expect(d.summary).toContain('fell back to 0.83');
    expect(d.advice).toBe('');
    expect(diagnose(adamScratch).verdict).toBe('healthy');
  });

  it('(d) the practitioner: kernels 0.47 %, AUC 0.86 → 0.92, best of six → static kernels but learning, never stalled', () => {
    const d = diagnose(practitioner);
    expect(d.verdict).toBe('static-kernels-but-learning');
    expect(d.summary).toContain('0.47 %');
    expect(d.summary).toContain('0.86 → 0.92');
    expect(d.summary).toContain('best of 3 rmsprop trials');
    expect(text(d)).not.toMatch(/(?<!not )stalled|too high|too low|try learning rates/i);
    expect(d.suggestedLearningRate).toBeUndefined();
  });

  it('(d) weight-stall never stops the practitioner, even with kernels under its threshold from the first epoch', () => {
    // Per-epoch update ratios of 5e-5, below the default threshold 1e-4, and a plateau at the end.
    const still = {
      ...practitioner,
      epochs: [0.86, 0.9, 0.92, 0.9, 0.91, 0.915].map((auc, i) => ({
        epoch: i + 1,
        metrics: { [RECORDED_METRIC]: auc },
        layers: [
          { layer: 'mixed_7', trainable: true, updateRatio: 5e-5 },
          { layer: 'logits', trainable: true, updateRatio: 5e-5 },
        ],
      })),
    };
    const rule = createWeightStallRule(weightStallRulePlugin.parseOptions({}), { ...objective, maxEpochs: 10 });
    for (let k = 1; k <= still.epochs.length; k++) {
      expect(rule.decide({ ...still, state: 'running', epochs: still.epochs.slice(0, k) }, []).stop, `epoch ${k}`).toBe(false);
    }
    // The same kernels with a metric flat from the start are stalled.
    const flat = { ...still, epochs: still.epochs.map((e) => ({ ...e, metrics: { [RECORDED_METRIC]: 0.5 } })) };
    expect(rule.decide(flat, [])).toMatchObject({ stop: true, reason: expect.stringContaining('since epoch 1') });
  });

  it('SGD at 5.5e-6, biases moved about 5e-5 → too low, never "too high, try 1e-5 … 1e-3"', () => {
    for (const peers of [[], inceptionStudy]) {
      const d = diagnose(sgdTiny, peers);
      expect(d.verdict).toBe('too-low');
      expect(d.summary).toContain('5.5e-6');
      expect(d.summary).toMatch(/biases barely moved either \(median 5\.0e-5\)/);
      expectAdviceSide(d, 5.5e-6, 'above');
      expect(text(d)).not.toMatch(/too high/i);
    }
  });

  it('static kernels at a level reached in the first epoch, below peers that ran faster → too low', () => {
    // The quickstart's SGD at 1e-5: a zero head learns its direction in the first steps (AUC 0.72),
    // then nothing moves; the trials that did better ran at higher rates.
    const slow = {
      ...sgdTiny,
      id: 'slow',
      value: 0.72,
      epochs: sgdTiny.epochs.map((e) => ({ ...e, metrics: { ...e.metrics, [RECORDED_METRIC]: 0.72 } })),
    };
    const fast = (n: number, lr: number, auc: number): TrialView => ({
      ...adamAllLayers,
      id: `f${n}`,
      number: 10 + n,
      params: { optimizer: 'sgd', learning_rate: lr },
      value: auc,
    });
    const d = diagnose(slow, [fast(1, 0.01, 0.83), fast(2, 0.003, 0.82)]);
    expect(d.verdict).toBe('too-low');
    expect(d.summary).toContain('stayed at 0.72 from epoch 1 on');
    expectAdviceSide(d, 5.5e-6, 'above');
    // Alone, the same flat curve still says the rate is likely too low: "not stalled" and "a rising
    // metric" would contradict the curve it cites (0.72 at every epoch).
    const alone = diagnose(slow, []);
    expect(alone.verdict).toBe('too-low');
    expect(alone.summary).toContain('stayed at 0.72 from epoch 1 on');
    expect(text(alone)).not.toMatch(/rising|not stalled/i);
    expectAdviceSide(alone, 5.5e-6, 'above');
    // A small rise below faster peers: too low, and the summary says it rose, not that it stayed.
    const crept = {
      ...slow,
      value: 0.745,
      epochs: slow.epochs.map((e, i) => ({ ...e, metrics: { ...e.metrics, [RECORDED_METRIC]: 0.72 + 0.0125 * i } })),
    };
    const creptBehind = diagnose(crept, [fast(1, 0.01, 0.83), fast(2, 0.003, 0.82)]);
    expect(creptBehind.verdict).toBe('too-low');
    expect(creptBehind.summary).toContain('rose only 0.72 → 0.745');
    // Risen since its first epoch, static kernels and all: not stalled.
    const rose = {
      ...slow,
      value: 0.8,
      epochs: slow.epochs.map((e, i) => ({ ...e, metrics: { ...e.metrics, [RECORDED_METRIC]: 0.72 + 0.04 * i } })),
    };
    expect(diagnose(rose, []).verdict).toBe('static-kernels-but-learning');
  });

  it('diverged trials: too high, lower rates suggested; no epochs: no evidence', () => {
    const nan: TrialView = {
      ...adamAllLayers,
      id: 'nan',
      params: { optimizer: 'adam', learning_rate: 0.3 },
      value: undefined as unknown as number,
      epochs: [{ epoch: 1, metrics: { train_loss: Number.NaN }, layers: [] }],
      reason: 'diverged: train_loss is NaN at epoch 1',
    };
    const d = diagnose(nan);
    expect(d.verdict).toBe('diverged');
    expect(d.summary).toContain('train_loss is NaN at epoch 1');
    expectAdviceSide(d, 0.3, 'below');
    // No learning rate in the trial at all: the rate is not called too high on no evidence.
    const noRate = diagnoseTrial({ ...nan, params: { x: 1 } }, [], objective);
    expect(noRate.verdict).toBe('diverged');
    expect(noRate.summary).toBe(
      'Diverged (train_loss is NaN at epoch 1). No learning rate is among its parameters, searched or fixed, so the rate, the usual cause, is not shown to be it.',
    );
    expect(noRate.advice).toMatch(/^Lower the learning rate your script uses, or search it on a log scale/);
    // Every lower rate diverged as well (NaN in the data, say): the rate is not blamed alone.
    const atRate = (id: string, lr: number, loss: number): TrialView => ({
      ...nan,
      ...(Number.isNaN(loss) ? {} : { reason: undefined }),
      id,
      params: { optimizer: 'adam', learning_rate: lr },
      epochs: [{ epoch: 1, metrics: { train_loss: loss }, layers: [] }],
    });
    const allNan = [nan, atRate('n1', 1e-3, Number.NaN), atRate('n2', 1e-5, Number.NaN)];
    const data = diagnoseTrial(nan, allNan, objective);
    expect(data.verdict).toBe('diverged');
    expect(data.summary).toContain('so did every other trial of the study, at learning rates 1e-5 … 0.3');
    expect(data.advice).toMatch(/^Check the inputs and the loss for NaN or Inf first/);
    expect(data.suggestedLearningRate?.high).toBeLessThan(1e-5);
    // A higher rate that trained finitely: still, every lower one diverged.
    const lowerOnly = diagnoseTrial(nan, [...allNan, atRate('n4', 1, 0.4)], objective);
    expect(lowerOnly.summary).toContain('so did every trial at a lower learning rate, down to 1e-5');
    // One lower rate that trained finitely: the rate is the cause after all.
    const oneFine = diagnoseTrial(nan, [...allNan, atRate('n3', 1e-4, 0.4)], objective);
    expect(oneFine.summary).toContain('is too high');
    expectAdviceSide(oneFine, 0.3, 'below');
    // Weights NaN from the first epoch: the activations are NaN, and their "0 % zeros" is not listed as evidence.
    const nanLayers: TrialView = {
      ...nan,
      epochs: [
        {
          epoch: 1,
          metrics: { train_loss: Number.NaN },
          layers: [{ layer: 'conv1', trainable: true, kernelMovement: Number.NaN, deadFraction: 0, sparsity: 0 }],
        },
      ],
    };
    expect(text(diagnose(nanLayers))).not.toMatch(/Dead units|Sparsity/);
    const none = diagnose({ ...nan, epochs: [], reason: 'setup: unknown dataset "imagenet"' });
    // Nothing listed beside it: the trial's rate says nothing of a trial that never trained.
    expect(none).toEqual({
      verdict: 'no-evidence',
      summary: 'No epoch to judge: setup: unknown dataset "imagenet".',
      evidence: [],
      advice: '',
    });
    expect(diagnose({ ...nan, epochs: [], state: 'stopped', reason: 'stopped by user' }).summary).toBe(
      'No epoch to judge: stopped before its first epoch (stopped by user).',
    );
  });

  it('too high: lower rates whose own trials (same optimizer) did not learn either are not suggested', () => {
    // A Keras study: SGD at 1e5 went NaN; SGD at 1682 and 3987 sat dead at AUC 0.5. "Try 1e2 … 1e4" named them.
    const nan: TrialView = {
      ...adamAllLayers,
      id: 'b',
      number: 0,
      params: { optimizer: 'sgd', learning_rate: 1e5 },
      value: undefined as unknown as number,
      epochs: [{ epoch: 1, metrics: { train_loss: Number.NaN }, layers: [] }],
      reason: 'diverged: train_loss is NaN at epoch 1',
    };
    const dead = (n: number, lr: number, optimizer = 'sgd'): TrialView => ({
      ...adamAllLayers,
      id: `d${n}`,
      number: n,
      params: { optimizer, learning_rate: lr },
      value: 0.5,
      epochs: [1, 2, 3].map((epoch) => ({ epoch, metrics: { [RECORDED_METRIC]: 0.5 }, layers: [] })),
    });
    const d = diagnose(nan, [nan, dead(1, 3987), dead(2, 1682), dead(3, 833, 'adam')]);
    expect(d.verdict).toBe('diverged');
    expectAdviceSide(d, 1e5, 'below');
    expect(d.suggestedLearningRate?.high).toBeLessThan(1682);
    expect(d.advice).toContain("below this trial's 1e5 and the 1700 … 4000 of 2 sgd trials that did not learn either.");
    // Alone, the usual range.
    expect(diagnose(nan, [nan]).advice).toBe("Try learning rates 100 … 1e4 with sgd, below this trial's 1e5.");
  });

  it('too high: peers that failed below the rates that learned were too low, and the range stays where peers did better', () => {
    // A study review: adam at 0.0018 was sent to 2e-8 … 2e-6, below adam trials at 2e-5 and 3.3e-5
    // that did not learn, though adam trials at 4.7e-5 … 0.0016 all did better.
    const run = adamRun;
    const high = run(0, 0.0018, 0.6);
    const learned = [run(1, 4.7e-5, 0.82), run(2, 2e-4, 0.85), run(3, 0.0016, 0.8)];
    const tooLow = [run(4, 2e-5, 0.5), run(5, 3.3e-5, 0.5)];
    const d = diagnose(high, [high, ...learned, ...tooLow]);
    expect(d.verdict).toBe('too-high');
    expectAdviceSide(d, 0.0018, 'below');
    // From just above the rates that were too low (2e-5, 3.3e-5) to the better peer's 0.0016.
    expect(d.suggestedLearningRate?.high).toBe(0.0016);
    expect(d.suggestedLearningRate?.low).toBeCloseTo(3.3e-5 * 1.5, 12);
    expect(d.advice).toMatch(/^Try learning rates 5e-5 … 0\.0016 with adam/);
    expect(d.advice).not.toMatch(/did not learn either/);
    // One that failed between the rates that learned and this one's: below it, down to the better peer under it.
    const between = run(6, 8e-4, 0.5);
    const d2 = diagnose(high, [high, run(1, 4.7e-5, 0.82), run(2, 2e-4, 0.85), between, ...tooLow]);
    expectAdviceSide(d2, 0.0018, 'below');
    expect(d2.suggestedLearningRate?.high).toBe(2e-4);
    expect(d2.advice).toContain('and the 8e-4 of the adam trial that did not learn either.');
  });

  it('too high: the range never takes in a rate too low, wherever the range ends up, and its bounds read apart from the trial', () => {
    const run = adamRun;
    const high = run(0, 0.0018, 0.6);
    // Learned at 3e-5; not at 2e-4 (still too high) nor at 1e-6 (too low), below where the range first started.
    const a = diagnose(high, [high, run(1, 3e-5, 0.82), run(2, 2e-4, 0.5), run(3, 1e-6, 0.5)]);
    expect(a.suggestedLearningRate?.high).toBe(3e-5);
    expect(a.suggestedLearningRate?.low).toBeGreaterThan(1e-6);
    // Too low at 9e-4, just under the 0.0016 that learned: a narrow range, not one down through 9e-4.
    const b = diagnose(high, [high, run(1, 0.0016, 0.82), run(2, 9e-4, 0.5)]);
    expect(b.suggestedLearningRate?.low).toBeGreaterThan(9e-4);
    expect(b.suggestedLearningRate?.high).toBe(0.0016);
    // A better peer at 0.00996 beside a trial at 0.01: the advice's bound is not "0.01" too.
    const at = run(0, 0.01, 0.6);
    const c = diagnose(at, [at, run(1, 0.00996, 0.82), run(2, 1e-3, 0.8)]);
    expect(c.advice).toMatch(/^Try learning rates 1e-4 … 0\.00996 with adam, below this trial's 0\.01\./);
  });

  it('on the CPU testbed: RMSProp 1e-4 rising a little with static kernels, far below faster peers → too low', () => {
    // tiny_wide_resnet, seed 2 of the seed-story bench: kernels 0.018 %, AUC 0.529 → 0.608, while
    // the practitioner's rate (0.01) reached 0.967 with kernels at 1 %.
    const testbedTrial = (id: string, lr: number, auc: number[], kernels: number, eps = 1.0): TrialView =>
      curveTrial(id, { optimizer: 'rmsprop', learning_rate: lr, opt_epsilon: eps, frozen_layers: 0 }, auc, (i) => [
        { layer: 'block3', trainable: true, kernelMovement: (kernels * (i + 1)) / auc.length, biasMovement: 0.01 },
        { layer: 'fc', trainable: true, kernelMovement: (kernels * (i + 1)) / auc.length, biasMovement: 0.02 },
      ]);
    const low = testbedTrial('t3', 1e-4, [0.529, 0.55, 0.57, 0.585, 0.6, 0.608], 0.00018);
    const practitionerHere = testbedTrial('t0', 0.01, [0.86, 0.93, 0.95, 0.96, 0.967, 0.967], 0.0095);
    // A study's trial at a lower rate but a tiny epsilon (a different step regime) did better too.
    const tinyEps = testbedTrial('t5', 5e-5, [0.7, 0.85, 0.9, 0.92, 0.93, 0.93], 0.03, 1e-6);
    const peers = [low, practitionerHere, testbedTrial('t7', 0.003, [0.8, 0.9, 0.94, 0.95, 0.96, 0.96], 0.02), tinyEps];
    const d = diagnose(low, peers);
    expect(d.verdict).toBe('too-low');
    expect(d.summary).toMatch(
      /rose only 0\.529 → 0\.608, while every rmsprop trial with epsilon near 1 that did better used a higher rate than 1e-4 \(the best reached 0\.967\)/,
    );
    expectAdviceSide(d, 1e-4, 'above');
    // Static kernels close behind a faster peer are still learning, not too low.
    const close = testbedTrial('t9', 0.005, [0.86, 0.9, 0.93, 0.94, 0.95, 0.955], 0.008);
    expect(diagnose(close, [...peers, close]).verdict).toBe('static-kernels-but-learning');
    // The practitioner, best of them, is never stalled.
    expect(diagnose(practitionerHere, peers).verdict).toBe('static-kernels-but-learning');
  });

  it('kernels rewritten and the metric fallen back (epsilon 1e-8 at 0.01 on the CPU testbed) → too high, raise epsilon', () => {
    // Seed 0: kernels 185 %, AUC 0.958 at epoch 2 → 0.863, 8 % dead units: no dying, but unstable.
    const auc = [0.93, 0.958, 0.94, 0.91, 0.88, 0.863];
    const trial: TrialView = {
      id: 'eps',
      number: 4,
      params: { optimizer: 'rmsprop', learning_rate: 0.01, opt_epsilon: 1e-8, frozen_layers: 0 },
      state: 'completed',
      value: 0.958,
      epochs: auc.map((v, i) => ({
        epoch: i + 1,
        metrics: { [RECORDED_METRIC]: v },
        layers: [
          { layer: 'block6', trainable: true, kernelMovement: (1.85 * (i + 1)) / 6, biasMovement: 0.3, sparsity: 0.9, deadFraction: 0.08 },
        ],
      })),
    };
    const d = diagnose(trial, [trial]);
    expect(d.verdict).toBe('too-high');
    expect(d.summary).toBe(
      'Learning rate too high: val_auc_macro reached 0.958 at epoch 2, then fell back to 0.863 while the kernels moved a median 185 % from their starting values.',
    );
    expectAdviceSide(d, 0.01, 'below');
    expect(d.advice).toMatch(/raise opt_epsilon from 1e-8/);
    // Adam 1e-4's fall-back with kernels at 10 % stays healthy (checked above): only rewritten kernels say "too high".
  });

  it('head only (Adam 1e-3, convolutions frozen): learning, but held back by its frozen layers — train more of them', () => {
    const d = diagnose(adamHeadOnly);
    expect(d.verdict).toBe('healthy');
    expect(d.summary).toBe(
      "Learning, but held back by its frozen layers: val_auc_macro reached 0.68 with frozen_layers 4, while every trial that did clearly better (up to 0.92) trained more layers (frozen_layers 0). They also ran at learning rates 1e-4 … 0.01, against this trial's 0.001.",
    );
    expect(d.advice).toBe('Train more layers: try frozen_layers 0.');
    // Alone, nothing says the freezing costs anything.
    expect(diagnose(adamHeadOnly, []).summary).toMatch(/^Healthy/);
  });

  it('a trial that learned, with another clearly better: the advice names that trial and what it changed, never "nothing to change"', () => {
    const trial = (
      id: string,
      params: TrialView['params'],
      auc: number[],
      kernels: number,
      state: TrialView['state'] = 'completed',
    ): TrialView => ({
      ...curveTrial(id, params, auc, () => [{ layer: 'conv', trainable: true, kernelMovement: kernels, biasMovement: 0.02 }]),
      state,
    });
    const slim = { optimizer: 'rmsprop', learning_rate: 0.01, opt_epsilon: 1.0, frozen_layers: 0 };
    const practitionerRun = trial('t0', slim, [0.7, 0.74, 0.78], 0.0014);
    const adam = trial('t1', { ...slim, optimizer: 'adam', learning_rate: 1e-4, opt_epsilon: 1e-8 }, [0.7, 0.8, 0.841], 0.38);
    const d = diagnose(practitionerRun, [practitionerRun, adam]);
    expect(d.verdict).toBe('static-kernels-but-learning');
    expect(d.advice).toBe(
      'Trial 1 did clearly better (0.841) with optimizer=adam, learning_rate=0.0001, opt_epsilon=1e-8: try its settings.',
    );
    // A healthy trial too; a peer ahead by less than 0.05, or a failed one, is not named.
    const healthy = trial('t2', { ...slim, learning_rate: 0.02 }, [0.7, 0.75, 0.785], 0.2);
    expect(diagnose(healthy, [healthy, adam]).advice).toMatch(
      /^Trial 1 did clearly better \(0\.841\) with optimizer=adam, learning_rate=0\.0001/,
    );
    // Not "Healthy" beside a peer that clearly beat it: its summary says it is behind, and whom.
    expect(diagnose(healthy, [healthy, adam]).summary).toMatch(/^Learning, but behind: trial 1 did clearly better \(0\.841\); /);
    const close = trial('t3', { ...slim, optimizer: 'adam' }, [0.7, 0.79, 0.82], 0.3);
    expect(diagnose(healthy, [healthy, close]).advice).toBe('');
    expect(diagnose(healthy, [healthy, close]).summary).toMatch(/^Healthy: /);
    // Three significant digits: a peer at 0.0104 against the trial's 0.01 does not read as 0.01.
    const near = trial('t5', { ...slim, learning_rate: 0.0104, optimizer: 'adam' }, [0.7, 0.8, 0.85], 0.3);
    expect(diagnose(practitionerRun, [practitionerRun, near]).advice).toMatch(/optimizer=adam, learning_rate=0\.0104:/);
    const crashed = trial('t4', { ...slim, optimizer: 'adam' }, [0.9], 0.3, 'failed');
    expect(diagnose(practitionerRun, [practitionerRun, crashed]).advice).toMatch(/^Nothing to change/);
  });

  it('the objective never reported: no verdict on the rate, however far the kernels moved; weights gone NaN: diverged, naming the layer', () => {
    const kerasRun = (id: string, notes?: Record<string, unknown>): TrialView => ({
      id,
      number: 0,
      params: { optimizer: 'adam', learning_rate: 1e-3 },
      state: 'failed',
      reason: "objective metric 'val_auc_macro' was never reported; reported: loss, val_loss",
      epochs: [1, 2].map((epoch) => ({
        epoch,
        metrics: { loss: 0.5 / epoch, val_loss: 0.6 / epoch },
        layers: [{ layer: 'conv1', trainable: true, kernelMovement: 0.93, biasMovement: 0.1 }],
        ...(notes ? { notes } : {}),
      })),
    });
    const d = diagnose(kerasRun('t0'), []);
    expect(d.verdict).toBe('no-evidence');
    expect(d.summary).toBe("No val_auc_macro to judge by: objective metric 'val_auc_macro' was never reported; reported: loss, val_loss");
    expect(text(d)).not.toMatch(/too high|lower the learning rate/i);
    expect(d.advice).toBe(
      'It reported loss, val_loss, but not val_auc_macro: if one of those is the objective, set objective.metric to its name (or, for event files, map its tag to val_auc_macro); otherwise report val_auc_macro every epoch.',
    );
    // A trial that crashed before it could report: no advice to report, which would not help.
    expect(diagnose({ ...kerasRun('t2'), reason: 'exit code 1: CUDA out of memory' }, []).advice).toBe('');
    // It did report: no class had an AUC to average. The advice is about the data, not the script.
    const noAuc = diagnose(kerasRun('t3', { auc_undefined_classes: ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'] }), []);
    expect(noAuc.advice).toBe(
      'Validate on data that holds both label values of each class: c0, c1, c2, c3, c4 and 2 more had only one, and a class with one has no AUC.',
    );
    const nan = diagnose(kerasRun('t1', { diverged: true, non_finite_layers: ['conv1'] }), []);
    expect(nan.verdict).toBe('diverged');
    expect(nan.summary).toMatch(
      /^Failed after epoch 2 \(objective metric 'val_auc_macro' was never reported; .*\); until then: diverged \(the weights of conv1 are NaN or infinite at epoch 1\): the learning rate 0\.001 is too high\.$/,
    );
  });

  it('layers with no movement (kernel histograms read from event files) still give their sparsity', () => {
    const t = curveTrial('t0', { optimizer: 'rmsprop', learning_rate: 0.01 }, [0.6, 0.7, 0.8], (i) => [
      { layer: 'TinyNet/Conv2d_1a_3x3', trainable: true, mean: 0.01, std: 0.1, sparsity: 0.4 + 0.1 * i },
    ]);
    expect(diagnose(t, []).evidence).toContain("Sparsity: 60 % of TinyNet/Conv2d_1a_3x3's activations are zero (40 % at the first epoch).");
  });

  it('held back at a gap of 0.11 (the H200 run: head-only Adam 0.731, all layers 0.841), not at one within the noise', () => {
    const adam = (id: string, frozen: number, auc: number[]): TrialView =>
      curveTrial(id, { optimizer: 'adam', learning_rate: 1e-4, opt_epsilon: 1e-8, frozen_layers: frozen }, auc, () => [
        { layer: 'last_linear', trainable: true, kernelMovement: 0.3, biasMovement: 0.01 },
      ]);
    const headOnly = adam('t2', 22, [0.66, 0.69, 0.7, 0.71, 0.72, 0.731]);
    const d = diagnose(headOnly, [adam('t1', 0, [0.7, 0.74, 0.77, 0.8, 0.81, 0.841])]);
    expect(d.summary).toMatch(/^Learning, but held back by its frozen layers: .* \(up to 0\.841\) trained more layers \(frozen_layers 0\)/);
    expect(d.advice).toBe('Train more layers: try frozen_layers 0.');
    expect(diagnose(headOnly, [adam('t1', 0, [0.7, 0.74, 0.75])]).summary).toMatch(/^Healthy/);
  });

  it('says when the rates it suggests lie outside the learning_rate range of the study, and nothing when they lie inside', () => {
    const range = (low: number, high: number) =>
      diagnoseTrial(rmspropLow, inceptionStudy, { ...objective, learningRateRange: { low, high } });
    const inside = range(1e-6, 1);
    expect(inside.advice).toBe(diagnose(rmspropLow).advice);
    const { low, high } = inside.suggestedLearningRate as { low: number; high: number };
    expect(range(1e-6, 1e-4).advice).toContain(
      "The suggested rates lie outside this study's learning_rate range (1e-6 … 1e-4): widen it to search them.",
    );
    expect(range(1e-6, (low + high) / 2).advice).toContain("Some of the suggested rates lie outside this study's learning_rate range");
    // The suggestion itself stands: it is what the evidence says.
    expect(range(1e-6, 1e-4).suggestedLearningRate).toEqual(inside.suggestedLearningRate);
  });

  it('an AUC near chance that rose steadily to its last epoch is learning slowly, not "not learning" with better trials that do not exist', () => {
    const slow = curveTrial('t0', { learning_rate: 4.4e-5 }, [0.541, 0.565, 0.58, 0.589, 0.595], () => []);
    const flat = curveTrial('t1', { learning_rate: 1e-3 }, [0.52, 0.51, 0.53, 0.52, 0.52], () => []);
    const d = diagnose(slow, [slow, flat]);
    expect(d.verdict, d.summary).toBe('learning-slowly');
    expect(d.summary).toBe(
      'Learning slowly: val_auc_macro rose 0.541 → 0.595 over 5 epoch(s) and was still rising at the last, still near chance (0.5).',
    );
    expect(d.advice).toBe("Give it more epochs, or try learning rates 4.4e-4 … 0.0044, above this trial's 4.4e-5, to learn faster.");
    // Flat near chance, with nothing in the study better: no pointer to better trials.
    const f = diagnose(flat, [slow, flat].slice(1));
    expect(f.verdict).toBe('no-learning');
    expect(f.advice).toBe('Check what is frozen and the data: no trial of the study did better.');
    // A better trial of another optimizer is no evidence on the rate, but it learned on the same data:
    // that optimizer's settings are the lead, not the data.
    const other = curveTrial('t2', { learning_rate: 1e-3, optimizer: 'sgd' }, [0.6, 0.7, 0.75, 0.78, 0.8], () => []);
    const withOther = diagnose({ ...flat, params: { ...flat.params, optimizer: 'adam' } }, [flat, other]);
    expect(withOther.verdict).toBe('no-learning');
    expect(withOther.advice).toBe(
      "Trials with sgd learned on the same data: check this trial's adam settings and what is frozen, or use theirs.",
    );
  });

  it('a peer stuck at chance (a dead network at AUC 0.5) is not a better rate to point to, though it beat a trial below chance', () => {
    // A Keras study: SGD at 1e-7 moved nothing and sat at 0.343; SGD at 8.8 killed its units and sat
    // at exactly 0.5; SGD at 9e-5 learned. "Try 1e-6 … 8.8" pointed into the dead rate.
    const still = { ...sgdTiny, id: 'b0', number: 0, params: { optimizer: 'sgd', learning_rate: 1e-7 } };
    const baseline = {
      ...still,
      value: 0.343,
      epochs: still.epochs.map((e) => ({ ...e, metrics: { ...e.metrics, [RECORDED_METRIC]: 0.343 } })),
    };
    const peer = (n: number, lr: number, auc: number): TrialView => ({
      ...adamAllLayers,
      id: `p${n}`,
      number: n,
      params: { optimizer: 'sgd', learning_rate: lr },
      value: auc,
      epochs: adamAllLayers.epochs.map((e) => ({ ...e, metrics: { ...e.metrics, [RECORDED_METRIC]: auc } })),
    });
    const d = diagnose(baseline, [baseline, peer(1, 9e-5, 0.81), peer(2, 8.8, 0.5), peer(3, 2.3, 0.5)]);
    expect(d.verdict).toBe('too-low');
    expectAdviceSide(d, 1e-7, 'above');
    expect(d.suggestedLearningRate?.high).toBeLessThan(1e-3);
    expect(d.summary).toContain('reached 0.343 (below chance, 0.5)');
    expect(text(d)).toMatch(/of the 1 that scored better by more than 0\.01, 1 used a higher rate \(9e-5\)/);
  });

  it('reads the learning rate against peers: rank, better rates higher and lower', () => {
    const d = diagnose(rmspropSmallEpsilon);
    expect(d.evidence.at(-1)).toBe(
      'Learning rate 0.01 (rmsprop, epsilon 1e-8): ranks 2 of 3 rmsprop trials; of the 1 that scored better by more than 0.01, 0 used a higher rate, 0 a lower one and 1 the same.',
    );
    expect(diagnose(rmspropLow).evidence.at(-1)).toBe(
      'Learning rate 1e-4 (rmsprop, epsilon 1): ranks 3 of 3 rmsprop trials; of the 2 that scored better by more than 0.01, 2 used a higher rate (0.01), 0 a lower one and 0 the same.',
    );
    // TF-slim passes opt_epsilon whatever the optimizer: sgd has no epsilon, and its evidence names none.
    const sgd = { ...rmspropLow, params: { ...rmspropLow.params, optimizer: 'sgd' } };
    expect(diagnose(sgd, [sgd]).evidence.at(-1)).toMatch(/^Learning rate 1e-4 \(sgd\)[.:]/);
  });
});
