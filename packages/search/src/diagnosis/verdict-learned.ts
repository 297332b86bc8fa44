import type { Diagnosis } from './diagnosis-types.ts';
import type { JudgeContext } from './judge-context.ts';
import { heldBackByFreezing, type RatePosition, sameRate } from './peers.ts';
import { smallEpsilonAdvice } from './rate-advice.ts';
import { tooHigh } from './rate-verdicts.ts';
import { unchangedCurve } from './verdict-static-kernels.ts';
import { formatRateAmong, formatRateBeside, rangeOf, rangeOfInts, val } from './words.ts';

/** Learned, rewrote its pretrained kernels, and lost what it had learned: the steps are too large. */
export function fellBackVerdict(c: JudgeContext): Diagnosis | undefined {
  const { trial, m, t, didLearn, kernels, metricName, movedFromStart } = c;
  if (!(didLearn && m && (kernels ?? 0) >= t.largeKernels && m.fallBack >= t.minGain)) return undefined;
  return tooHigh(
    c,
    'too-high',
    `Learning rate too high: ${metricName} reached ${val(m.best)} at epoch ${m.bestEpoch}, then fell back to ${val(m.last)} ` +
      `while ${movedFromStart}.`,
    smallEpsilonAdvice(trial.params),
  );
}

/** It trains, but what it may train is too little: the clearly better trials all froze fewer layers. */
export function heldByFreezingVerdict({
  trial,
  peers,
  objective,
  t,
  didLearn,
  value,
  rate,
  reached,
  evidence,
}: JudgeContext): Diagnosis | undefined {
  const held = didLearn && value !== undefined ? heldBackByFreezing(trial, peers, objective.direction, value, t.clearlyBetter) : undefined;
  if (!held) return undefined;
  const most = Math.max(...held.betterFrozen);
  // Said when the better trials changed the rate too: the frozen layers are then not the only difference.
  const otherRates =
    rate !== undefined && held.betterRates.some((r) => !sameRate(r, rate))
      ? ` They also ran at learning rate${held.betterRates.length === 1 ? '' : 's'} ${rangeOf(held.betterRates, rate)}, against this trial's ${formatRateAmong(rate, held.betterRates)}.`
      : '';
  return {
    verdict: 'healthy',
    summary:
      `Learning, but held back by its frozen layers: ${reached} with frozen_layers ${held.frozen}, while every trial that did ` +
      `clearly better (up to ${val(held.best)}) trained more layers (frozen_layers ${rangeOfInts(held.betterFrozen)}).${otherRates}`,
    evidence,
    advice: `Train more layers: try frozen_layers ${most === 0 ? '0' : `≤ ${most}`}.`,
  };
}

/** Learned, and nothing above found fault: healthy, or behind a trial that did clearly better. */
export function learnedVerdict(c: JudgeContext): Diagnosis | undefined {
  const { e, m, t, didLearn, dying, lowerRatesDidWorse, what, position, ahead, aheadAdvice, reached, kernelText, classes, evidence } = c;
  if (!didLearn) return undefined;
  const fell = m && m.fallBack >= t.minGain ? ` It fell back to ${val(m.last)} by the last epoch: keep the best epoch's weights.` : '';
  const deadNote =
    dying && lowerRatesDidWorse
      ? ` ${what}, yet it ranks ${position?.rank} of ${position?.of} ${position?.group} and ${lowerRatesText(position as RatePosition, t.peerMargin)}: the evidence does not point at a lower rate.`
      : '';
  // Its own evidence is sound, but "Healthy" alone would not be true of a trial another clearly beat.
  const head = ahead ? `Learning, but behind: trial ${ahead.peer.number} did clearly better (${val(ahead.value)}); ` : 'Healthy: ';
  // Its level alone is what says it learned: said, where nothing shows that any step changed it.
  const same =
    m && unchangedCurve(c)
      ? ` Its ${c.metricName} read the same to every digit at all ${m.points.length} evaluations, and no weight movement was reported: no step changed what it outputs, so that level may be what it scored before training.`
      : '';
  return {
    verdict: 'healthy',
    summary: `${head}${reached}${m?.chance !== undefined ? ` (chance ${m.chance})` : ''}${e.kernels ? ` and ${kernelText}` : ''}.${fell}${deadNote}${same}${classes?.note ?? ''}`,
    evidence,
    advice: aheadAdvice ?? '',
  };
}

/** What the lower rates tried did, of a trial none of whose peers did clearly better: worse, or some about as well. */
function lowerRatesText(position: RatePosition, margin: number): string {
  const tied = position.tiedLower.length;
  if (tied === 0) return 'the lower rates tried did worse';
  return `no lower rate tried did clearly better (${tied === 1 ? `1 at ${formatRateBeside(position.tiedLower[0] as number, position.rate)}` : `${tied}`} within ${val(margin)} of it, the others worse)`;
}
