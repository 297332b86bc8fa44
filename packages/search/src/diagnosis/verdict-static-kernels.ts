import type { Diagnosis } from './diagnosis-types.ts';
import type { JudgeContext } from './judge-context.ts';
import { raiseAdvice } from './rate-advice.ts';
import { tooLowWithEpsilon } from './rate-verdicts.ts';
import { formatRate, val } from './words.ts';

/**
 * Kernels that barely moved. Not a stall by themselves: a trial that learned is "not stalled"
 * unless it stayed flat or faster peers did far better; one that did not is a rate too low,
 * unless every better peer ran at a lower rate.
 */
export function staticKernelsVerdict(c: JudgeContext): Diagnosis | undefined {
  const { trial, e, m, t, kernels, rate, position, didLearn, peersHigher, peersLower, kernelText, metricName, reached } = c;
  const { rateText, noBetterAboveText, raiseContext, aheadAdvice, evidence } = c;
  if (!(kernels !== undefined && kernels < t.staticKernels)) return undefined;
  const rising = m !== undefined && m.gain >= t.minGain;
  // Far behind: the best faster peer is ahead by as much as "learned" asks above chance.
  const behind = position?.bestBetter !== undefined && m ? Math.abs(position.bestBetter - m.best) : 0;
  const farBehind = behind >= t.learnedAboveChance;
  // Learned what the head alone learns at once (or a little more) while faster peers did far
  // better; or, peers or not, flat since its first epoch ("not stalled" and "a rising metric"
  // would contradict the curve it cites).
  const fasterPeersAhead = (!rising || farBehind) && peersHigher;
  const flat = m !== undefined && m.gain <= t.peerMargin && m.points.length >= 3;
  if (didLearn && rate !== undefined && m && (fasterPeersAhead || flat))
    return tooLowOnItsCurve(c, rate, m, { fasterPeersAhead, farBehind, flat });
  if (didLearn) {
    const rank = position && position.rank === 1 && trial.state !== 'failed' ? ` It is the best of ${position.of} ${position.group}.` : '';
    const course = m ? (rising ? `rose ${val(m.first)} → ${val(m.best)}` : `reached ${val(m.best)}`) : 'improved';
    return {
      verdict: 'static-kernels-but-learning',
      summary:
        `Not stalled: ${kernelText}, yet ${metricName} ${course}: ` +
        `the head, the biases and any normalisation layers carry the learning.${rank}`,
      evidence,
      advice:
        aheadAdvice ??
        'Nothing to change on this evidence: static kernels with a rising metric are how fine-tuning at a modest rate often looks.',
    };
  }
  if (peersLower) {
    const rates = (position?.betterSame ?? 0) > 0 ? 'its own rate or lower ones' : 'lower rates';
    return {
      verdict: 'no-learning',
      summary: `Not learning: ${kernelText} and ${reached}, but the ${position?.group} that did better used ${rates} — the rate alone does not explain it.`,
      evidence,
      advice: 'Check what is frozen and the data; compare with the better trials below.',
    };
  }
  const biases = e.biases && e.biases.median < 1e-3 ? `; the biases barely moved either (median ${val(e.biases.median)})` : '';
  const summary = `Learning rate too low: ${kernelText} and ${reached}${m?.chance === undefined ? '' : m.best < m.chance - t.nearChance ? ` (below chance, ${m.chance})` : ', near chance'}${biases} — ${rateText} barely changes the network.${noBetterAboveText}`;
  if (rate === undefined)
    return tooLowWithEpsilon(trial.params, { verdict: 'too-low', summary, evidence, advice: 'Raise the learning rate.' });
  return tooLowWithEpsilon(trial.params, { verdict: 'too-low', summary, evidence, ...raiseAdvice(trial, rate, position, raiseContext) });
}

/**
 * A trial with no figure of its weights' movement whose objective read the same to every digit at
 * each of 3 or more evaluations (unchangedCurve), while every better peer of its kind ran at a
 * higher rate: no step changed what it outputs (its ranking, for an AUC), and faster rates did: read
 * as static kernels outpaced by faster peers. Without such peers it stays "Healthy", with a note
 * (a pretrained model may start high and plateau; learnedVerdict).
 */
export function unchangedCurveVerdict(c: JudgeContext): Diagnosis | undefined {
  const { m, t, rate, didLearn, peersHigher, position } = c;
  if (!(didLearn && rate !== undefined && m && peersHigher && unchangedCurve(c))) return undefined;
  const farBehind = position?.bestBetter !== undefined && Math.abs(position.bestBetter - m.best) >= t.learnedAboveChance;
  return tooLowOnItsCurve(c, rate, m, { fasterPeersAhead: true, farBehind, flat: true });
}

/** No figure of the weights' movement, and the objective the same to every digit at 3 or more evaluations. */
export function unchangedCurve({ e, m }: JudgeContext): boolean {
  return e.kernels === undefined && e.updateRatio === undefined && m !== undefined && m.points.length >= 3 && sameEveryEvaluation(m);
}

/** The objective read the same, to every digit, at every evaluation. */
function sameEveryEvaluation(m: NonNullable<JudgeContext['m']>): boolean {
  return m.points.every((p) => p.value === m.first);
}

/**
 * Learned, by its level, but flat since its first epoch, or outpaced by every faster peer: the rate
 * likely too low, said only as far as the curve shows.
 */
function tooLowOnItsCurve(
  c: JudgeContext,
  rate: number,
  m: NonNullable<JudgeContext['m']>,
  { fasterPeersAhead, farBehind, flat }: { fasterPeersAhead: boolean; farBehind: boolean; flat: boolean },
): Diagnosis {
  const { trial, t, position, kernels, kernelText, metricName, noBetterAboveText, raiseContext, evidence } = c;
  // "Stayed" only for a curve that did not move: 0.741 → 0.765 rose, if too little to count.
  const from = m.points[0]?.epoch ?? 1;
  const exact = sameEveryEvaluation(m) ? ` (the same to every digit in all ${m.points.length} evaluations)` : '';
  const course = flat
    ? `${metricName} stayed at ${val(m.best)} from ${from === 0 ? 'before training (epoch 0)' : `epoch ${from}`} on${exact}`
    : `${metricName} rose only ${val(m.first)} → ${val(m.best)}`;
  // Only what the curve shows: no rise after its first epoch. Whether that epoch learned anything
  // only a measurement before training tells (an epoch 0); without one, its value may be the
  // untrained model's (pretrained features and an untrained head score well above chance).
  const why = fasterPeersAhead
    ? `, while every ${position?.member} that did better used a higher rate than ${formatRate(rate)}` +
      (farBehind ? ` (the best reached ${val(position?.bestBetter as number)}).` : '.')
    : from === 0
      ? `: training did not improve on what the model scored before it${m.gain > 0 ? ` by more than ${val(t.peerMargin)}` : ''}.`
      : ` — it did not improve after epoch ${from}${m.gain > 0 ? ` by more than ${val(t.peerMargin)}` : ''}, and with no ${metricName} measured before training, epoch ${from}'s ${val(m.first)} may be what the model scores before any training.`;
  return tooLowWithEpsilon(trial.params, {
    verdict: 'too-low',
    summary: `Learning rate ${fasterPeersAhead ? '' : 'likely '}too low: ${kernels !== undefined ? `${kernelText} and ` : ''}${course}${why}${noBetterAboveText}`,
    evidence,
    ...raiseAdvice(trial, rate, position, raiseContext),
  });
}
