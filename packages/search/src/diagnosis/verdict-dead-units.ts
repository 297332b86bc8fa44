import type { Diagnosis } from './diagnosis-types.ts';
import { layerLabel } from './evidence.ts';
import type { JudgeContext } from './judge-context.ts';
import { smallEpsilonAdvice } from './rate-advice.ts';
import { tooHigh } from './rate-verdicts.ts';
import { val } from './words.ts';

/**
 * An AUC that fell far below chance ranks the classes backwards: that is learning, inverted (a
 * flipped label order or score sign), not a rate to change.
 */
export function invertedVerdict({ m, t, metricName, evidence }: JudgeContext): Diagnosis | undefined {
  if (!(m?.chance !== undefined && m.last <= m.chance - t.learnedAboveChance * 2 && m.last < m.first)) return undefined;
  return {
    verdict: 'no-learning',
    summary: `Learning, but inverted: ${metricName} fell ${val(m.first)} → ${val(m.last)}, far below chance (${m.chance}): the model ranks the classes backwards.`,
    evidence,
    advice: `Check the label order and the sign of the scores the AUC is computed on: flipped, this would read ${val(2 * m.chance - m.last)}.`,
  };
}

/** Not learning, with units as dead at the start as at the end and no sign of a rate too high: training did not kill them. */
export function deadFromStartVerdict(c: JudgeContext): Diagnosis | undefined {
  const {
    e,
    worst,
    dying,
    deadFromStart,
    highForDying,
    didLearn,
    what,
    fromWhen,
    fromWhenFigure,
    measuredAtStart,
    reached,
    kernelText,
    evidence,
  } = c;
  if (!(worst && dying && deadFromStart && !highForDying && !didLearn)) return undefined;
  const partlyFrozen = e.reported !== undefined && e.reported.trainable < e.reported.layers;
  return {
    verdict: 'no-learning',
    summary: `Not learning, with dead units ${fromWhen}: ${what} (${fromWhenFigure}) and ${reached}${e.kernels ? `; ${kernelText}` : ''}.`,
    evidence,
    // Said as surely as the measurement allows: after epoch 1, a rate that killed them in that epoch looks alike.
    advice:
      (measuredAtStart
        ? 'Training did not kill these units, so a lower rate is not shown to help. '
        : 'These units were at least as dead after the first epoch as at the end, so a lower rate is not shown to help (a measurement before training, activations_at_start, would tell whether training killed them in epoch 1). ') +
      (partlyFrozen
        ? `If ${layerLabel(worst.layer)} is in or below the frozen layers, they are the pretrained weights' dead units on this data; otherwise check the weight initialisation (He for ReLU layers), the input scaling and the biases.`
        : 'Check the weight initialisation (He for ReLU layers), the input scaling and the biases.'),
  };
}

/** Units that died in training, of a trial that did not learn or rewrote its kernels: a rate too high, unless peers at its rate did better. */
export function dyingVerdict(c: JudgeContext): Diagnosis | undefined {
  const {
    e,
    t,
    trial,
    dying,
    deadFromStart,
    didLearn,
    highForDying,
    kernels,
    lowerRatesDidWorse,
    sameRateBetter,
    what,
    reached,
    kernelText,
    evidence,
  } = c;
  // Units as dead after the first epoch as at the end did not die in training: in a trial that
  // learned they say nothing against its rate, and without a sign of a rate too high neither.
  const notDying = deadFromStart && (didLearn || !highForDying);
  if (!(dying && !notDying && (!didLearn || ((kernels ?? 0) >= t.largeKernels && !lowerRatesDidWorse)))) return undefined;
  if (sameRateBetter)
    return {
      verdict: 'dying-units',
      summary: `Dying units: ${what} and ${reached}${e.kernels ? `; ${kernelText}` : ''}; but ${sameRateBetter}: the rate alone does not explain it.`,
      evidence,
      advice:
        'Compare with the better trials at the same rate: what they changed (frozen layers, initialisation, the data) is the likelier cause.',
    };
  const smallEps = smallEpsilonAdvice(trial.params);
  const summary =
    `Dying units${highForDying ? ', learning rate too high' : ''}: ${what} and ${reached}` + (e.kernels ? `; ${kernelText}.` : '.');
  return tooHigh(c, 'dying-units', summary, smallEps);
}
