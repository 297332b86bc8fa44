import type { Diagnosis } from './diagnosis-types.ts';
import { layerLabel } from './evidence.ts';
import type { JudgeContext } from './judge-context.ts';
import { smallEpsilonAdvice } from './rate-advice.ts';
import { tooHigh } from './rate-verdicts.ts';
import { pct } from './words.ts';

/**
 * Whether the dying units were already dead before training (or after epoch 1, where the script
 * did not measure them at the start), and whether a sign of a rate too high stands beside them.
 */
function deadUnitFindings({ e, t, worst, kernels, peersLower }: JudgeContext) {
  // Dead before training and about as dead at the end (the script measured them at the start):
  // training did not kill these units. Without that measurement, about as dead after the first
  // epoch as at the end says the same, less surely: a rate that kills them within epoch 1 looks alike.
  const earliest = worst?.start ?? worst?.first;
  const deadFromStart =
    worst !== undefined && earliest !== undefined && earliest >= (e.dead ? t.deadUnits : t.sparsity) && worst.value - earliest < 0.1;
  const measuredAtStart = worst?.start !== undefined;
  return {
    deadFromStart,
    measuredAtStart,
    fromWhen: measuredAtStart ? 'from the start' : 'from the first epoch',
    fromWhenFigure: `${pct(earliest ?? 0)} ${measuredAtStart ? 'before training' : 'after epoch 1'}`,
    // Large kernel moves or better peers at lower rates: a sign of a rate too high beside dying units.
    highForDying: (kernels ?? 0) >= t.largeKernels || peersLower,
  };
}

/** Not learning, with units as dead at the start as at the end and no sign of a rate too high: training did not kill them. */
export function deadFromStartVerdict(c: JudgeContext): Diagnosis | undefined {
  const { e, worst, dying, didLearn, what, reached, kernelText, evidence } = c;
  const { deadFromStart, highForDying, measuredAtStart, fromWhen, fromWhenFigure } = deadUnitFindings(c);
  if (!(worst && dying && deadFromStart && !highForDying && !didLearn)) return undefined;
  const partlyFrozen = e.reported !== undefined && e.reported.frozen > 0;
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
  const { e, t, trial, dying, didLearn, kernels, lowerRatesDidWorse, sameRateBetter, what, reached, kernelText, evidence } = c;
  const { deadFromStart, highForDying } = deadUnitFindings(c);
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
