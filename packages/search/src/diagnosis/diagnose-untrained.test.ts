import type { EpochRecord, TrialView } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { type DiagnosisObjective, diagnoseTrial } from './diagnose.ts';

// A pretrained network whose weights did not train scores what its starting weights score, often
// well above chance: "AUC 0.75, and the weights do not move". A QA pass with a Keras script and a
// TensorBoard-only one found it read "Healthy", and frozen peers counted as evidence about rates.

const auc: DiagnosisObjective = { metric: 'val_auc_macro', direction: 'maximize' };
type Layers = EpochRecord['layers'];

const frozen: Layers = [
  { layer: 'conv1', trainable: false, kernelMovement: 0, updateRatio: 0, biasMovement: 0 },
  { layer: 'head', trainable: false, kernelMovement: 0, updateRatio: 0, biasMovement: 0 },
];
const moved = (kernelMovement: number): Layers => [
  { layer: 'conv1', trainable: true, kernelMovement, updateRatio: 0.01, biasMovement: 0.01 },
  { layer: 'head', trainable: true, kernelMovement, updateRatio: 0.02, biasMovement: 0.02 },
];
const noStep: Layers = [
  { layer: 'conv1', trainable: true, kernelMovement: 0, updateRatio: 0, biasMovement: 0 },
  { layer: 'head', trainable: true, kernelMovement: 0, updateRatio: 0, biasMovement: 0 },
];

function trial(number: number, params: TrialView['params'], curve: number[], layers: Layers | ((epoch: number) => EpochRecord)): TrialView {
  return {
    id: `t${number}`,
    number,
    params,
    state: 'completed',
    value: Math.max(...curve),
    epochs: curve.map((v, i) =>
      typeof layers === 'function'
        ? { ...layers(i + 1), metrics: { val_auc_macro: v, train_loss: 0.5 } }
        : { epoch: i + 1, metrics: { val_auc_macro: v, train_loss: 0.5 }, layers },
    ),
  };
}

const flat = [0.7515, 0.7515, 0.7515, 0.7515];

describe('diagnoseTrial: weights that did not train, above chance', () => {
  it('every layer frozen, flat at the pretrained 0.75: nothing is trained, not "Healthy"', () => {
    const stuck = trial(0, { learning_rate: 0.23, optimizer: 'rmsprop', frozen_layers: 4 }, flat, frozen);
    const d = diagnoseTrial(stuck, [stuck], auc);
    expect(d.verdict).toBe('no-learning');
    expect(d.summary).toBe(
      'Nothing it reports is trained: every one of its 2 reported layer(s) with weights is frozen (trainable: false), and val_auc_macro reached 0.751.',
    );
    expect(d.advice).toMatch(/^Unfreeze layers/);
  });

  it('trainable layers that never took a step, flat at 0.75: nothing is being trained', () => {
    const stuck = trial(0, { learning_rate: 0.01, optimizer: 'adam' }, flat, noStep);
    expect(diagnoseTrial(stuck, [stuck], auc).verdict).toBe('no-learning');
  });

  it('event files whose histograms never changed, flat at 0.75: the rate likely too low, not "Healthy"', () => {
    const tb = (epoch: number): EpochRecord => ({
      epoch,
      metrics: {},
      layers: [
        { layer: 'conv1', trainable: false, mean: 0.01, std: 0.1 },
        { layer: 'head', trainable: false, mean: 0, std: 0.2 },
      ],
      notes: { tensorboard: { trainableInferred: true } },
    });
    const stuck = trial(0, { learning_rate: 1e-5, optimizer: 'sgd' }, flat, tb);
    const d = diagnoseTrial(stuck, [stuck], auc);
    expect(d.verdict).toBe('too-low');
    expect(d.summary).toMatch(/not one of the weight histograms of its 2 reported layer\(s\) changed from epoch 1 to 4/);
  });

  it('no weight movement reported and a curve the same to every digit: too low beside faster peers that did better, else "Healthy" with a note', () => {
    const params = (lr: number) => ({ learning_rate: lr, optimizer: 'sgd' });
    const same = trial(0, params(1e-5), [0.7515, 0.7515, 0.7515], []);
    const better = trial(1, params(0.01), [0.76, 0.79, 0.81], []);
    const d = diagnoseTrial(same, [same, better], auc);
    expect(d.verdict).toBe('too-low');
    expect(d.summary).toBe(
      'Learning rate too low: val_auc_macro stayed at 0.751 from epoch 1 on (the same to every digit in all 3 evaluations), while every sgd trial that did better used a higher rate than 1e-5.',
    );
    expect(d.advice).toMatch(/above this trial's 1e-5/);
    // Alone, or at the top of the scale (a pretrained model that starts high and stays): its level stands, said as what it is.
    const note =
      'Its val_auc_macro read the same to every digit at all 3 evaluations, and no weight movement was reported: no step changed what it outputs, so that level may be what it scored before training.';
    const alone = diagnoseTrial(same, [same], auc);
    expect(alone.verdict).toBe('healthy');
    expect(alone.summary).toBe(`Healthy: val_auc_macro reached 0.751 (chance 0.5). ${note}`);
    const top = trial(2, { learning_rate: 1e-3, optimizer: 'adam' }, [1, 1, 1, 1], []);
    expect(diagnoseTrial(top, [top], auc).verdict).toBe('healthy');
    // A level that moved, however little, or two evaluations only: no note.
    expect(diagnoseTrial(trial(3, params(1e-5), [0.7515, 0.7516, 0.7515], []), [better], auc).summary).not.toContain('every digit');
    expect(diagnoseTrial(trial(4, params(1e-5), [0.7515, 0.7515], []), [better], auc).summary).not.toContain('every digit');
  });

  it('every layer frozen while the objective rose, by minGain or by its share of the headroom: it learned through layers it does not report', () => {
    const rising = trial(0, { learning_rate: 0.01, optimizer: 'adam' }, [0.92, 0.94, 0.95], frozen);
    expect(diagnoseTrial(rising, [rising], auc).verdict).toBe('healthy');
  });

  it('layers marked frozen that report moving weights trained (a flag changed without a recompile, an EMA teacher)', () => {
    const markedFrozen: Layers = [
      { layer: 'conv1', trainable: false, kernelMovement: 0.2, updateRatio: 0.01 },
      { layer: 'head', trainable: false, kernelMovement: 0.1, updateRatio: 0.02 },
    ];
    const stuck = trial(0, { learning_rate: 0.01, optimizer: 'adam' }, flat, markedFrozen);
    expect(diagnoseTrial(stuck, [stuck], auc).summary).not.toMatch(/^Nothing it reports is trained/);
  });

  it("event files' unchanged histograms beside TF-slim sparsity entries (read as trainable, no weights): unchanged still", () => {
    const tb = (epoch: number): EpochRecord => ({
      epoch,
      metrics: {},
      layers: [
        { layer: 'conv1', trainable: false, mean: 0.01, std: 0.1 },
        { layer: 'Mixed_5b', trainable: true, sparsity: 0.4 },
      ],
      notes: { tensorboard: { trainableInferred: true } },
    });
    const stuck = trial(0, { learning_rate: 1e-5, optimizer: 'sgd' }, [0.75, 0.7502, 0.7501, 0.7502], tb);
    const d = diagnoseTrial(stuck, [stuck], auc);
    expect(d.verdict).toBe('too-low');
    expect(d.summary).toMatch(/not one of the weight histograms of its 1 reported layer\(s\) changed from epoch 1 to 4/);
  });

  it('every layer frozen while the objective rose: something unreported trained, and it learned', () => {
    const rising = trial(0, { learning_rate: 0.01, optimizer: 'adam' }, [0.75, 0.8, 0.85, 0.88], frozen);
    expect(diagnoseTrial(rising, [rising], auc).verdict).not.toBe('no-learning');
  });

  it('frozen peers are no evidence about rates: not "rates up to … did no better"', () => {
    const params = (lr: number, frozenLayers: number) => ({ learning_rate: lr, optimizer: 'adam', frozen_layers: frozenLayers });
    const slow = trial(0, params(1.2e-4, 3), [0.5, 0.51, 0.515, 0.52], moved(0.002));
    const all = (d: ReturnType<typeof diagnoseTrial>) => [d.summary, ...d.evidence, d.advice].join(' ');
    const flatLow = [0.5, 0.51, 0.515, 0.52];
    const frozenHigher = [trial(1, params(0.0014, 4), flatLow, frozen), trial(2, params(0.019, 4), flatLow, frozen)];
    const d = diagnoseTrial(slow, [slow, ...frozenHigher], auc);
    expect(d.verdict).toBe('too-low');
    expect(all(d)).not.toMatch(/0\.0014|0\.019|did no better/);
    // The same peers training (not frozen): evidence that higher rates did no better.
    const trainedHigher = [trial(1, params(0.0014, 3), flatLow, moved(0.05)), trial(2, params(0.019, 3), flatLow, moved(0.2))];
    expect(all(diagnoseTrial(slow, [slow, ...trainedHigher], auc))).toMatch(/Rates up to 0\.019 with adam did no better/);
  });

  it('a frozen peer keeps its rank, as on the leaderboard, and is said to be left out of the rates', () => {
    const learnedA = trial(0, { learning_rate: 1e-3, optimizer: 'adam', frozen_layers: 0 }, [0.7, 0.75, 0.8], moved(0.05));
    const frozenB = trial(1, { learning_rate: 1e-2, optimizer: 'adam', frozen_layers: 4 }, [0.85, 0.85, 0.85], frozen);
    const line = diagnoseTrial(learnedA, [learnedA, frozenB], auc).evidence.find((l) => l.startsWith('Learning rate'));
    expect(line).toBe(
      'Learning rate 0.001 (adam): ranks 2 of 2 adam trials; no other adam trial that learned scored better by more than 0.01; 1 scored better but did not learn, so their rates are left out.',
    );
  });

  it('a frozen peer that scored better is "did not learn", and no rate to follow', () => {
    const low = trial(0, { learning_rate: 0.5, optimizer: 'sgd', frozen_layers: 0 }, [0.6, 0.62, 0.63, 0.64], moved(0.3));
    const stuck = trial(1, { learning_rate: 1e-4, optimizer: 'sgd', frozen_layers: 4 }, flat, frozen);
    const d = diagnoseTrial(low, [low, stuck], auc);
    expect(d.evidence.join(' ')).not.toMatch(/used a lower rate \(1e-4\)|1e-4/);
  });
});

describe('diagnoseTrial: what the advice says of the trial itself', () => {
  it('a trial that learned, told to go below the rate of a peer that did not learn, is not said not to have learned "either"', () => {
    const dying = (epoch: number): EpochRecord => ({
      epoch,
      metrics: {},
      layers: [
        { layer: 'conv1', trainable: true, kernelMovement: 2, updateRatio: 0.3, biasMovement: 0.5 },
        { layer: 'relu1', trainable: false, sparsity: 0.95, deadFraction: epoch === 1 ? 0.1 : 0.9 },
      ],
    });
    const learnedDying = trial(0, { learning_rate: 0.082, optimizer: 'adam' }, [0.773, 0.78, 0.79, 0.793], dying);
    const unlearned = { ...trial(1, { learning_rate: 0.044, optimizer: 'adam' }, [0.5, 0.5], dying), state: 'failed' as const };
    const d = diagnoseTrial(learnedDying, [learnedDying, unlearned], auc);
    expect(d.verdict).toBe('dying-units');
    expect(d.advice).toBe(
      "Try learning rates 4.4e-5 … 0.0044 with adam, below this trial's 0.082 and the 0.044 of the adam trial that did not learn.",
    );
  });
});
