import type { Diagnosis } from './diagnosis-types.ts';
import type { JudgeContext } from './judge-context.ts';
import { raiseAdvice } from './rate-advice.ts';
import { tooLowWithEpsilon } from './rate-verdicts.ts';

/** Not learning with every reported layer with weights frozen: no rate trains what it reports. */
export function allFrozenVerdict({ trial, e, didLearn, reached, evidence }: JudgeContext): Diagnosis | undefined {
  // (Not where `trainable` was read off weight histograms: an unchanged one is also a rate too
  // low to move a weight past a bucket edge, and the rate evidence below judges that.)
  if (!(!didLearn && e.nothingTrained === 'frozen' && e.reported)) return undefined;
  // Not a rate to change: with every layer frozen, no rate trains anything it reports.
  const frozen = trial.params.frozen_layers;
  return {
    verdict: 'no-learning',
    summary: `Nothing it reports is trained: every one of its ${e.reported.weighted} reported layer(s) with weights is frozen (trainable: false), and ${reached}.`,
    evidence,
    advice:
      typeof frozen === 'number' && frozen > 0
        ? 'Unfreeze layers (fewer frozen_layers), or check that the layers that do train (the head) are built over the optimizer and reported as trainable.'
        : 'Check that the layers meant to train (the head at least) are trainable, built over the optimizer and reported as trainable.',
  };
}

/** Event files whose weight histograms never changed, of a trial that did not learn: a rate too low to move a weight past a bucket edge. */
export function unchangedHistogramsVerdict(c: JudgeContext): Diagnosis | undefined {
  const { trial, e, m, t, rate, position, didLearn, peersLower, reached, rateText, noBetterAboveText, raiseContext, evidence } = c;
  // Above chance, or at a rate too small to move anything: a network a too-high rate killed in its
  // first epoch (before the first histogram Keras writes) scores chance with unchanged histograms too.
  const notDeadOnArrival = (m?.chance !== undefined && m.best >= m.chance + t.nearChance) || (rate !== undefined && rate < 1e-4);
  if (!(!didLearn && e.unchangedHistograms && !peersLower && notDeadOnArrival)) return undefined;
  // Event files say only this of the weights: not one histogram changed, the head's included.
  // A rate too small to move a weight past a bucket edge does that, and so does a network
  // nothing of which is trained; a higher rate tells them apart.
  const { layers, from, to } = e.unchangedHistograms;
  const summary =
    `Learning rate likely too low: ${reached}, and not one of the weight histograms of its ${layers} reported layer(s) changed from epoch ${from} to ${to}` +
    ` — ${rateText} moves no weight past a histogram bucket edge.${noBetterAboveText}`;
  const unless =
    ' If a higher rate leaves the histograms unchanged too, nothing is being trained: check that the layers meant to train (the head at least) are trainable and built over the optimizer.';
  if (rate === undefined)
    return tooLowWithEpsilon(trial.params, { verdict: 'too-low', summary, evidence, advice: `Raise the learning rate.${unless}` });
  const raised = raiseAdvice(trial, rate, position, raiseContext);
  return tooLowWithEpsilon(trial.params, { verdict: 'too-low', summary, evidence, ...raised, advice: raised.advice + unless });
}

/** Not one trainable weight changed at all, of a trial that did not learn: nothing is stepped, whatever the rate. */
export function movedNothingVerdict({ e, didLearn, reached, evidence }: JudgeContext): Diagnosis | undefined {
  const movedNothing =
    (e.kernels !== undefined || e.updateRatio !== undefined) &&
    (e.kernels?.max ?? 0) === 0 &&
    (e.updateRatio?.max ?? 0) === 0 &&
    (e.biases?.max ?? 0) === 0;
  if (!(!didLearn && movedNothing)) return undefined;
  // Exactly zero is not a low rate: any rate moves a weight that gets a step.
  return {
    verdict: 'no-learning',
    summary: `Nothing is being trained: no trainable weight changed at all (kernels, update ratios and biases exactly 0 in ${(e.kernels ?? e.updateRatio)?.layers} trainable layer(s)), and ${reached}.`,
    evidence,
    advice:
      "Check that the optimizer steps (optimizer.step() after loss.backward()), that it was built over the model's parameters, and that they require gradients. The learning rate is not the cause: any rate moves a weight that is stepped.",
  };
}
