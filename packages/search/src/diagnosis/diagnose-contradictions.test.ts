import type { EpochRecord, TrialView } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { lateStopReason } from '../engine/late-stop.ts';
import { type DiagnosisObjective, diagnoseTrial } from './diagnose.ts';

// Diagnoses a QA pass found contradicting their own evidence, on studies of users' own scripts
// (PyTorch with the Python client, Keras with its callback, a script writing its reports by hand).

const auc: DiagnosisObjective = { metric: 'val_auc_macro', direction: 'maximize' };

type Layers = EpochRecord['layers'];
const moved = (kernelMovement: number): Layers => [
  { layer: 'conv1', trainable: true, kernelMovement, updateRatio: 0.01, biasMovement: 0.01 },
  { layer: 'head', trainable: true, kernelMovement, updateRatio: 0.02, biasMovement: 0.02 },
];

function trial(
  number: number,
  params: TrialView['params'],
  curve: number[],
  options: { layers?: Layers; loss?: number[]; state?: TrialView['state']; reason?: string; metric?: string } = {},
): TrialView {
  const metric = options.metric ?? 'val_auc_macro';
  return {
    id: `t${number}`,
    number,
    params,
    state: options.state ?? 'completed',
    ...(options.reason ? { reason: options.reason } : {}),
    value: metric === 'val_loss' ? Math.min(...curve) : Math.max(...curve),
    epochs: curve.map((v, i) => ({
      epoch: i + 1,
      metrics: { [metric]: v, train_loss: options.loss?.[i] ?? 0.6 },
      layers: options.layers ?? [],
    })),
  };
}

describe('diagnoseTrial: what its own evidence says', () => {
  it('a trial whose loss blew up, and which finished its epochs before the divergence stop took effect, diverged: not "Healthy"', () => {
    const reason = lateStopReason(4, 'divergence: train_loss 358.4 at epoch 4 is more than 10 × its first value 0.7 (epoch 1)');
    const grew = trial(0, { learning_rate: 0.11, optimizer: 'sgd' }, [0.68, 0.66, 0.64, 0.62], { loss: [0.7, 5.6, 44.8, 358.4], reason });
    const d = diagnoseTrial(grew, [grew], auc);
    expect(d.verdict).toBe('diverged');
    expect(d.summary).toBe(
      'Diverged (divergence: train_loss 358.4 at epoch 4 is more than 10 × its first value 0.7 (epoch 1)): the learning rate 0.11 is too high.',
    );
    expect(d.advice).toMatch(/^Try learning rates .* below this trial's 0\.11/);
  });

  it('a slow rise beside a better trial of its optimizer that changed only the rate, upwards: the rate likely too low, not "does not point at the rate"', () => {
    // A ReLU's own entry (activations only, never trainable) beside its weights: not a frozen layer.
    const relu = { layer: 'relu1', trainable: false, sparsity: 0.5, deadFraction: 0 };
    const slow = trial(0, { learning_rate: 0.0015, optimizer: 'adam' }, [0.5961, 0.6049, 0.6197], { layers: [...moved(0.04), relu] });
    const faster = trial(1, { learning_rate: 0.00439, optimizer: 'adam' }, [0.62, 0.66, 0.685], { layers: moved(0.09) });
    const d = diagnoseTrial(slow, [slow, faster], auc);
    expect(d.verdict).toBe('too-low');
    expect(d.summary).toBe(
      'Learning rate likely too low: the kernels moved a median 4 % and val_auc_macro reached 0.62 only, and every adam trial that did better used a higher rate.',
    );
    expect(d.advice).toMatch(/above this trial's 0\.0015/);
    expect(d.evidence.filter((line) => line.startsWith('Frozen'))).toEqual([]);
  });

  it('not "likely too low" where a peer like it did worse on the way up, or as well higher up, or better at its own rate', () => {
    const at = (n: number, lr: number, curve: number[], opts: { epsilon?: number } = {}) =>
      trial(n, { learning_rate: lr, optimizer: 'adam', ...(opts.epsilon ? { opt_epsilon: opts.epsilon } : {}) }, curve, {
        layers: moved(0.04),
      });
    const slow = at(0, 0.0015, [0.5961, 0.6049, 0.6197]);
    const faster = at(1, 0.00439, [0.62, 0.66, 0.685]);
    const tooLow = (peers: TrialView[]) => diagnoseTrial(slow, [slow, faster, ...peers], auc).verdict === 'too-low';
    expect(tooLow([])).toBe(true);
    // Worse at a rate between its own and the better one's: higher was not better all the way up.
    expect(tooLow([at(2, 0.0025, [0.55, 0.56, 0.57])])).toBe(false);
    // ... unless that one steps otherwise: epsilon 1.0 beside a trial at 1e-8 (far smaller steps than its rate says).
    const tiny = { epsilon: 1e-8 };
    const slowTiny = at(0, 0.0015, [0.5961, 0.6049, 0.6197], tiny);
    const others = [at(1, 0.00439, [0.62, 0.66, 0.685], tiny), at(2, 0.0025, [0.55, 0.56, 0.57], { epsilon: 1 })];
    expect(diagnoseTrial(slowTiny, [slowTiny, ...others], auc).verdict).toBe('too-low');
    // As well at a higher rate: the rate is not what holds it.
    expect(tooLow([at(2, 0.01, [0.6, 0.61, 0.62])])).toBe(false);
    // Better at its own rate: the rate alone does not explain it.
    expect(tooLow([at(2, 0.0015, [0.65, 0.68, 0.7])])).toBe(false);
  });

  it('a frozen backbone whose head moved far, beside a better trial at a higher rate that froze nothing: not "too high", and the frozen layers named', () => {
    const frozenBackbone: Layers = [
      { layer: 'conv1', trainable: false, kernelMovement: 0, updateRatio: 0, biasMovement: 0 },
      { layer: 'conv2', trainable: false, kernelMovement: 0, updateRatio: 0, biasMovement: 0 },
      { layer: 'head', trainable: true, kernelMovement: 0.8, updateRatio: 0.05, biasMovement: 0.05 },
    ];
    const all: Layers = frozenBackbone.map((l) => ({ ...l, trainable: true, kernelMovement: 0.3 }));
    const baseline = trial(0, { learning_rate: 0.01, optimizer: 'rmsprop', freeze_base: 1 }, [0.6, 0.61, 0.615], {
      layers: frozenBackbone,
    });
    const better = trial(1, { learning_rate: 0.037, optimizer: 'rmsprop', freeze_base: 0 }, [0.7, 0.76, 0.8], { layers: all });
    const d = diagnoseTrial(baseline, [baseline, better], auc);
    expect(d.verdict).not.toBe('too-high');
    expect(d.advice).not.toMatch(/below this trial's/);
    expect(d.advice).toBe(
      'Trials with rmsprop learned on the same data, so its optimizer is not the cause on its own: trial 1 (0.8) differs in learning_rate=0.037, freeze_base=0.',
    );
    expect(d.evidence).toContain('Frozen: 2 of its 3 layer(s) with weights did not train (trainable: false).');
  });

  it('a rate far too high beside a trial that learned at 0.01: lower rates from 0.01 up, not a decade or three below its own', () => {
    const loss: DiagnosisObjective = { metric: 'val_loss', direction: 'minimize' };
    const opts = { metric: 'val_loss', layers: moved(0.9) };
    const tiny = trial(0, { learning_rate: 1e-8, optimizer: 'adam' }, [0.69, 0.69, 0.69], opts);
    const good = trial(1, { learning_rate: 0.01, optimizer: 'adam' }, [0.66, 0.61, 0.58], opts);
    const huge = trial(2, { learning_rate: 1e4, optimizer: 'adam' }, [554, 560, 570], opts);
    const d = diagnoseTrial(huge, [tiny, good, huge], loss);
    expect(d.verdict).toBe('too-high');
    expect(d.suggestedLearningRate).toEqual({ low: 0.01, high: 1 });
    expect(d.advice).toMatch(/^Try learning rates 0\.01 … 1 with adam, below this trial's 1e\+?4/);
  });

  it('a rate far too high beside a trial that only stayed flat lower down: not sent down to that rate, which trained nothing', () => {
    const loss: DiagnosisObjective = { metric: 'val_loss', direction: 'minimize' };
    const opts = { metric: 'val_loss', layers: moved(0.9) };
    const flat = trial(0, { learning_rate: 1e-8, optimizer: 'adam' }, [0.69, 0.69, 0.69], opts);
    const huge = trial(1, { learning_rate: 1e4, optimizer: 'adam' }, [554, 560, 570], opts);
    const d = diagnoseTrial(huge, [flat, huge], loss);
    expect(d.verdict).toBe('too-high');
    expect(d.suggestedLearningRate).toEqual({ low: 10, high: 1000 });
  });
});
