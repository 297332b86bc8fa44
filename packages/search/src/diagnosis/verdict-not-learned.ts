import { listSome, type Params } from '@sweepd/core';
import type { Diagnosis } from './diagnosis-types.ts';
import type { JudgeContext } from './judge-context.ts';
import { isBetter } from './learning.ts';
import { hasEpsilon, optimizerOf } from './param-names.ts';
import { type HeldBackByChoice, heldBackByChoice, type RatePosition } from './peers.ts';
import { raise, raiseAdvice, withOptimizer } from './rate-advice.ts';
import { tooHigh, tooLowWithEpsilon } from './rate-verdicts.ts';
import { choiceVerdict } from './verdict-held-by-choice.ts';
import { formatRateAmong, rangeOf, rangeText, val } from './words.ts';

/**
 * A trial that did not learn, and whose own weights and units named no cause: its peers say
 * whether the rate was too high or too low, or a choice besides the rate held it back; a steady
 * rise says it learns slowly; else the evidence does not point at the rate.
 */
export function notLearnedVerdict(c: JudgeContext): Diagnosis {
  const { trial, peers, objective, t, didLearn, value, learnedPeer } = c;
  // Every clearly better trial also chose otherwise in something besides the rate (or froze fewer
  // layers): the rate is not shown to be the cause, even where better peers ran lower.
  const heldByChoice =
    !didLearn && value !== undefined ? heldBackByChoice(trial, peers, objective.direction, value, t.clearlyBetter, learnedPeer) : undefined;
  return (
    rateFromPeersVerdict(c, heldByChoice) ??
    learningSlowlyVerdict(c) ??
    (heldByChoice ? choiceVerdict(heldByChoice, c.reached, c.evidence, c.rate) : (tooLowByPeersVerdict(c) ?? unexplainedVerdict(c)))
  );
}

/** The rate, where its own kernel moves or its better peers' rates (all higher, or all lower) point at it. */
function rateFromPeersVerdict(c: JudgeContext, heldByChoice: HeldBackByChoice | undefined): Diagnosis | undefined {
  const { t, kernels, position, peersHigher, peersLower, sameRateBetter, rate, reached, movedFromStart, evidence } = c;
  // Peers at higher rates that scored the same: the rate is not what holds it (a constant output scores the same at any rate).
  const sameAtHigher = (position?.tiedHigher.length ?? 0) > 0 && !peersLower;
  const largeMoves = (kernels ?? 0) >= t.largeKernels;
  // A peer like it at a rate between the better lower ones and its own did worse: lower was not
  // better all the way down, and the rate alone is not shown to be the cause.
  const lowerMixed =
    position !== undefined &&
    position.betterLower.length > 0 &&
    position.worseLowerSameStep.some((r) => r > Math.max(...position.betterLower));
  // Kernels that moved by half or more say "too high" on their own, unless every better peer ran
  // higher still: a new head's weights move far from their random start at any rate that trains it.
  if (
    !sameAtHigher &&
    !sameRateBetter &&
    ((largeMoves && !peersHigher) || (kernels !== undefined && peersLower && !heldByChoice && !lowerMixed))
  ) {
    return tooHigh(c, 'too-high', `Learning rate too high: ${movedFromStart} and ${reached} only.`);
  }
  if (!largeMoves && (peersHigher || peersLower) && heldByChoice) return choiceVerdict(heldByChoice, reached, evidence, rate);
  if (kernels === undefined && peersHigher && rate !== undefined && position) return likelyTooLow(c, rate, position, '');
  if (kernels === undefined && peersLower)
    return tooHigh(c, 'too-high', `Learning rate likely too high: ${reached} only, and every better peer used a lower rate.`);
  return undefined;
}

/**
 * The mirror of "too high" by peers at lower rates: kernels that moved, but less than a rewrite,
 * and every better peer of its group ran at a higher rate, with no peer like it that did worse or
 * as well on the way up, nor one that did better at its own rate.
 */
function tooLowByPeersVerdict(c: JudgeContext): Diagnosis | undefined {
  const { t, kernels, kernelText, position, peersHigher, sameRateBetter, rate } = c;
  if (kernels === undefined || kernels >= t.largeKernels || !peersHigher || rate === undefined || !position || sameRateBetter)
    return undefined;
  const lowestBetter = Math.min(...position.betterHigher);
  if (position.tiedHigher.length > 0 || position.worseHigherSameStep.some((r) => r < lowestBetter)) return undefined;
  return likelyTooLow(c, rate, position, `${kernelText} and `);
}

/** "Learning rate likely too low: [what moved and ]… only, and every … that did better used a higher rate", with higher rates to try. */
function likelyTooLow(c: JudgeContext, rate: number, position: RatePosition, moved: string): Diagnosis {
  const { trial, reached, noBetterAboveText, raiseContext, evidence } = c;
  return tooLowWithEpsilon(trial.params, {
    verdict: 'too-low',
    summary: `Learning rate likely too low: ${moved}${reached} only, and every ${position.member} that did better used a higher rate.${noBetterAboveText}`,
    evidence,
    ...raiseAdvice(trial, rate, position, raiseContext),
  });
}

/** Too little to call learning (near chance), but it rose steadily to its last epoch: give it more epochs, or a higher rate. */
function learningSlowlyVerdict({ trial, objective, m, t, rate, position, metricName, evidence }: JudgeContext): Diagnosis | undefined {
  // A rise under minGain counts too when it came every epoch, over 4 or more: a trend, not noise.
  const risingEveryEpoch =
    m !== undefined &&
    m.points.length >= 4 &&
    m.gain > t.peerMargin &&
    m.points.every((p, i) => i === 0 || (objective.direction === 'maximize' ? 1 : -1) * (p.value - (m.points[i - 1]?.value as number)) > 0);
  if (!(m && (m.gain >= t.minGain || risingEveryEpoch) && m.bestEpoch === m.points.at(-1)?.epoch)) return undefined;
  const summary =
    `Learning slowly: ${metricName} rose ${val(m.first)} → ${val(m.best)} over ${m.points.length} epoch(s) and was still rising at the last` +
    `${m.chance !== undefined ? `, still near chance (${m.chance})` : ''}.`;
  // Higher rates only where no peer of its kind did better at a lower one.
  if (rate === undefined)
    return { verdict: 'learning-slowly', summary, evidence, advice: 'Give it more epochs, or raise the learning rate to learn faster.' };
  if ((position?.betterLower.length ?? 0) > 0)
    return {
      verdict: 'learning-slowly',
      summary,
      evidence,
      advice:
        (position?.betterHigher.length ?? 0) > 0
          ? `Give it more epochs. Trials at higher (${rangeOf(position?.betterHigher ?? [], rate)}) and at lower rates (${rangeOf(position?.betterLower ?? [], rate)}) did better: the rate alone does not explain it.`
          : `Give it more epochs. Trials at lower rates did better (${rangeOf(position?.betterLower ?? [], rate)}): a higher rate is not shown to help.`,
    };
  const range = raise(rate, position);
  return {
    verdict: 'learning-slowly',
    summary,
    evidence,
    advice: `Give it more epochs, or try learning rates ${rangeText(range, rate)}${withOptimizer(trial)}, above this trial's ${formatRateAmong(rate, [range.low, range.high])}, to learn faster.`,
    suggestedLearningRate: range,
  };
}

/**
 * Not learning, and nothing in its evidence or its peers' rates points at the rate: what set it
 * apart from the trials that learned (its optimizer's settings, what is frozen, the data) is the advice.
 */
function unexplainedVerdict({
  trial,
  peers,
  objective,
  t,
  value,
  leader,
  reached,
  kernelText,
  e,
  evidence,
  learnedAsThis,
}: JudgeContext): Diagnosis {
  const better =
    value === undefined ? [] : peers.filter((p) => p.id !== trial.id && isBetter(p.value, value, objective.direction, t.peerMargin));
  // The optimizers of better trials that learned, "learned" as this trial's own verdict is judged (a
  // peer whose page reads "Not learning" did not). One trial that learned settles its optimizer: the
  // evidence of its others is not read (a large study has thousands of better trials).
  const optimizer = optimizerOf(trial);
  const learnedOptimizers = new Set<string>();
  for (const p of better) {
    const o = optimizerOf(p);
    if (o === undefined || learnedOptimizers.has(o)) continue;
    if (learnedAsThis(p)) learnedOptimizers.add(o);
  }
  // Trials of other optimizers that learned on the same data: the data is not the likelier cause.
  const otherOptimizers = optimizer === undefined ? [] : [...learnedOptimizers].filter((o) => o !== optimizer);
  // Trials of its own optimizer that learned: its optimizer's settings are not what sets it apart, unless they differ.
  const sameOptimizerLearned = optimizer !== undefined && learnedOptimizers.has(optimizer);
  const compare =
    leader && leader.differs.length > 0
      ? `trial ${leader.peer.number} (${val(leader.value)}) differs in ${leader.differs.join(', ')}`
      : 'compare with the better trials of the study';
  return {
    verdict: 'no-learning',
    summary: `Not learning: ${reached}${e.kernels ? ` while ${kernelText}` : ''}; the evidence does not point at the rate.`,
    evidence,
    advice: sameOptimizerLearned
      ? `Trials with ${optimizer} learned on the same data, so its optimizer is not the cause on its own: ${compare}.`
      : otherOptimizers.length > 0
        ? `Trials with ${listSome(otherOptimizers, 3)} learned on the same data: check this trial's ${optimizer} settings` +
          `${largeEpsilon(trial.params, optimizer) ? ` (opt_epsilon ${trial.params.opt_epsilon}: an epsilon this large shrinks ${optimizer}'s steps far below its rate)` : ''}` +
          ' and what is frozen, or use theirs.'
        : better.length > 0
          ? 'Check what is frozen and the data; compare with the better trials of the study.'
          : 'Check what is frozen and the data: no trial of the study did better.',
  };
}

/** An epsilon of 0.1 or more in Adam's or RMSProp's denominator, where it outweighs √v. */
function largeEpsilon(params: Params, optimizer: string | undefined): boolean {
  const eps = params.opt_epsilon;
  return typeof eps === 'number' && eps >= 0.1 && hasEpsilon(optimizer);
}
