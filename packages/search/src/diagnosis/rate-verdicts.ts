import type { Params } from '@sweepd/core';
import type { Diagnosis, Verdict } from './diagnosis-types.ts';
import type { JudgeContext } from './judge-context.ts';
import { learningRateOf, optimizerOf } from './param-names.ts';
import { unlearnedBelow } from './peers.ts';
import { largeEpsilonText, lower, withOptimizer } from './rate-advice.ts';
import { formatRateAmong, rangeOf, rangeText } from './words.ts';

/**
 * A verdict that blames a rate too high, with the lower rates to try: two decades below the
 * trial's (lower), and below the rates of peers like it that did not learn either, but not down
 * among rates at which peers like it were too low to learn.
 */
export function tooHigh(
  c: JudgeContext,
  verdict: Extract<Verdict, 'too-high' | 'diverged' | 'dying-units'>,
  summary: string,
  extra = '',
): Diagnosis {
  const { trial, peers, rate, position, evidence, learnedPeer, didLearn } = c;
  if (rate === undefined) return { verdict, summary, evidence, advice: `Lower the learning rate.${extra}` };
  let range = lower(rate, position, highestLearnedBelow(c, rate));
  // Peers like it at lower rates inside that range did not learn either: go below them too.
  const optimizer = optimizerOf(trial);
  const kind = optimizer !== undefined ? `${optimizer} trial` : 'trial';
  // Sorted over every lower rate: the range may reach below where it starts now.
  const sorted = unlearnedBelow(trial, peers, { low: 0, rate }, learnedPeer);
  const { tooLow } = sorted;
  const unlearned = sorted.stillHigh.filter((r) => r >= range.low);
  const alsoBelow =
    unlearned.length === 0
      ? ''
      : ` and the ${rangeOf(unlearned, rate)} of ${unlearned.length === 1 ? `the ${kind}` : `${unlearned.length} ${kind}s`} that did not learn${didLearn ? '' : ' either'}`;
  if (unlearned.length > 0) {
    // Well below the lowest that did not learn, but not below a better peer's rate under it: that one is evidence.
    const lowestUnlearned = Math.min(...unlearned);
    const betterUnder = (position?.betterLower ?? []).filter((r) => r < lowestUnlearned);
    const high = Math.min(range.high, Math.max(lowestUnlearned / 10, ...betterUnder));
    range = { low: Math.min(range.low, high / 100), high };
  }
  // Nor down among rates at which peers like it did not learn for being too low: from just above
  // the highest of them (past the 1.4× within which rates count as the same).
  const floor = tooLow.length > 0 ? Math.max(...tooLow) * 1.5 : undefined;
  if (floor !== undefined && floor > range.low && floor < range.high) range = { low: floor, high: range.high };
  return {
    verdict,
    summary,
    evidence,
    advice: `Try learning rates ${rangeText(range, rate)}${withOptimizer(trial)}, below this trial's ${formatRateAmong(rate, [range.low, range.high])}${alsoBelow}.${extra}`,
    suggestedLearningRate: range,
  };
}

/** A too-low verdict for Adam or RMSProp with a large epsilon names it: the other reason its steps are small. */
export function tooLowWithEpsilon(params: Params, diagnosis: Diagnosis & { advice: string }): Diagnosis {
  const eps = largeEpsilonText(params);
  return eps ? { ...diagnosis, summary: diagnosis.summary + eps.summary, advice: diagnosis.advice + eps.advice } : diagnosis;
}

/**
 * The highest lower rate of the trial's group at which a better trial learned (rose by minGain, or
 * left chance far behind), or undefined: a peer that only scored better (a flat loss beside an
 * exploding one) is no evidence that its rate trains.
 */
function highestLearnedBelow({ peers, position, learnedAsThis }: JudgeContext, rate: number): number | undefined {
  const rates = new Set(position?.betterLower ?? []);
  const learnedAt = peers
    .map((p) => ({ p, r: learningRateOf(p) }))
    .filter(({ p, r }) => r !== undefined && r < rate && rates.has(r) && learnedAsThis(p))
    .map(({ r }) => r as number);
  return learnedAt.length > 0 ? Math.max(...learnedAt) : undefined;
}
