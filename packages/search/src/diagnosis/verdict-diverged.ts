import type { Diagnosis } from './diagnosis-types.ts';
import { evaluationOnlyNonFinite } from './evidence.ts';
import type { JudgeContext } from './judge-context.ts';
import { lowestRateAlsoDiverged, ratesIfAllDiverged } from './rate-advice.ts';
import { tooHigh } from './rate-verdicts.ts';
import { formatRate } from './words.ts';

const CHECK_INPUTS =
  'Check the inputs and the loss for NaN or Inf first (missing values in the data, a log of zero, a division by an empty count)';

/**
 * A trial that diverged: its rate too high, unless the evidence says otherwise (non-finite in its
 * evaluation only, every trial diverged, every lower rate did too, or peers like it did better at
 * its own rate), or it has no rate to blame.
 */
export function divergedVerdict(c: JudgeContext): Diagnosis | undefined {
  const { trial, peers, objective, e, evidence, rate, rateText, sameRateBetter } = c;
  if (!e.diverged) return undefined;
  if (evaluationOnlyNonFinite(trial, objective.metric))
    return {
      verdict: 'diverged',
      summary: `Non-finite in its evaluation only (${e.diverged}): train_loss and the weights stayed finite, so the rate is not shown to be the cause.`,
      evidence,
      advice:
        'Check the evaluation for NaN or Inf: the scores the metric is computed on (a log or a division by zero, an empty batch) and the validation inputs.',
    };
  const everyRate = ratesIfAllDiverged(trial, peers, objective.metric, rate);
  if (everyRate) {
    // Every trial diverged, at rates apart by a factor of 10 or more: the data or the loss is the
    // likelier cause, and the lowest-rate trial is no more "too high" than the others.
    const { low, high } = everyRate;
    return {
      verdict: 'diverged',
      summary: `Diverged (${e.diverged}), and so did every other trial of the study, at learning rates ${formatRate(low)} … ${formatRate(high)}: the rate may not be the cause.`,
      evidence,
      advice: `${CHECK_INPUTS}. If they are clean, try learning rates ${formatRate(low / 1000)} … ${formatRate(low / 10)}, below every rate tried.`,
      suggestedLearningRate: { low: low / 1000, high: low / 10 },
    };
  }
  const lowest = lowestRateAlsoDiverged(trial, peers, objective.metric, rate);
  if (lowest !== undefined) {
    // Every trial that ran at a lower rate diverged too: the rate is not shown to be the cause.
    return {
      verdict: 'diverged',
      summary: `Diverged (${e.diverged}), and so did every trial at a lower learning rate, down to ${formatRate(lowest)}: the rate may not be the cause.`,
      evidence,
      advice: `${CHECK_INPUTS}. If they are clean, try learning rates ${formatRate(lowest / 1000)} … ${formatRate(lowest / 10)}, below every rate tried.`,
      suggestedLearningRate: { low: lowest / 1000, high: lowest / 10 },
    };
  }
  if (sameRateBetter)
    return {
      verdict: 'diverged',
      summary: `Diverged (${e.diverged}), while ${sameRateBetter}: the rate alone does not explain it.`,
      evidence,
      advice: `${CHECK_INPUTS}, and compare with the better trials at the same rate: what they changed is the likelier cause.`,
    };
  if (rate === undefined)
    // No rate to weigh (none by any name learningRateOf knows, searched or fixed): the usual cause, not a finding.
    return {
      verdict: 'diverged',
      summary: `Diverged (${e.diverged}). No learning rate is among its parameters, searched or fixed, so the rate, the usual cause, is not shown to be it.`,
      evidence,
      advice:
        'Lower the learning rate your script uses, or search it on a log scale (a learning_rate in space), ' +
        'and check the inputs and the loss for NaN or Inf (missing values in the data, a log of zero, a division by an empty count).',
    };
  return tooHigh(c, 'diverged', `Diverged (${e.diverged}): ${rateText} is too high.`);
}
