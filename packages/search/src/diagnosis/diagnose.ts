import { bestOf, type TrialView } from '@sweepd/core';
import { DEFAULT_DIAGNOSIS_THRESHOLDS, type Diagnosis, type DiagnosisObjective, type DiagnosisThresholds } from './diagnosis-types.ts';
import { judgeContext } from './judge-context.ts';
import { isBetter } from './learning.ts';
import { isAucName, type ObjectiveUnits, objectiveUnits } from './objective-scale.ts';
import { outsideRange } from './rate-advice.ts';
import { deadFromStartVerdict, dyingVerdict } from './verdict-dead-units.ts';
import { divergedVerdict } from './verdict-diverged.ts';
import { invertedVerdict } from './verdict-inverted.ts';
import { fellBackVerdict, heldByFreezingVerdict, learnedVerdict } from './verdict-learned.ts';
import { noEpochVerdict, noObjectiveVerdict } from './verdict-no-evidence.ts';
import { notLearnedVerdict } from './verdict-not-learned.ts';
import { staticKernelsVerdict, unchangedCurveVerdict } from './verdict-static-kernels.ts';
import { allFrozenVerdict, movedNothingVerdict, unchangedHistogramsVerdict } from './verdict-weights-unmoved.ts';
import { val, valInUnit } from './words.ts';

export {
  DEFAULT_DIAGNOSIS_THRESHOLDS,
  type Diagnosis,
  type DiagnosisObjective,
  type DiagnosisThresholds,
  type Verdict,
} from './diagnosis-types.ts';

/** The trial's diagnosis against its peers (the other trials of its study; the trial itself may be among them). */
export function diagnoseTrial(
  trial: TrialView,
  peers: readonly TrialView[],
  objective: DiagnosisObjective,
  thresholds: Partial<DiagnosisThresholds> = {},
): Diagnosis {
  const withFixed = (t: TrialView): TrialView => (objective.fixed ? { ...t, params: { ...objective.fixed, ...t.params } } : t);
  // The objective's units, read once over the study's trials for every part below.
  const units = objectiveUnits(studyTrials(trial, peers), objective.metric, objective.direction);
  const judged = judge(withFixed(trial), peers.map(withFixed), objective, thresholds, units);
  const note =
    judged.suggestedLearningRate && objective.learningRateRange && outsideRange(judged.suggestedLearningRate, objective.learningRateRange);
  const d = note ? { ...judged, advice: `${judged.advice} ${note}` } : judged;
  const read = trial.state === 'failed' && d.verdict !== 'no-evidence' ? asFailed(trial, peers, objective, d, thresholds, units) : d;
  // An AUC computed wrongly is said first, before whatever the verdict made of its values
  // ("Healthy: reached 1.2" alone would not be true).
  const broken = outOfAucRange(trial, objective.metric, units);
  return broken ? { ...read, summary: `${broken} ${read.summary}`, evidence: [broken, ...read.evidence] } : read;
}

/** The trial and its peers, the trial once: `peers` may hold it already. */
function studyTrials(trial: TrialView, peers: readonly TrialView[]): readonly TrialView[] {
  return peers.some((p) => p.id === trial.id) ? peers : [trial, ...peers];
}

const FIX_THE_FAILURE = 'Fix what ended it (its reason and stderr tail) and run it again';

function failedAfter(trial: TrialView, last: number): string {
  return `Failed after epoch ${last}${trial.reason ? ` (${trial.reason})` : ''}`;
}

/**
 * A failed trial is read for what its epochs show, but its failure comes first: "Healthy" alone
 * would not be true of a trial that crashed.
 */
function asFailed(
  trial: TrialView,
  peers: readonly TrialView[],
  objective: DiagnosisObjective,
  d: Diagnosis,
  thresholds: Partial<DiagnosisThresholds>,
  units: ObjectiveUnits,
): Diagnosis {
  const last = Math.max(...trial.epochs.map((e) => e.epoch));
  const tooSoon = cutShortBeforeBehind(
    trial,
    peers,
    objective,
    d,
    last,
    (thresholds.peerMargin ?? DEFAULT_DIAGNOSIS_THRESHOLDS.peerMargin) * units.scale,
  );
  if (tooSoon) return tooSoon;
  const summary = d.summary.charAt(0).toLowerCase() + d.summary.slice(1);
  // Its epochs were sound: the failure is what to fix ("nothing to change" would not be true of it).
  const soundEpochs = d.verdict === 'healthy' || d.verdict === 'static-kernels-but-learning';
  // A divergence is what ended it, or led there: its own advice is the fix. Otherwise the failure
  // comes first, whatever its epochs say of its settings.
  const advice = soundEpochs
    ? `${FIX_THE_FAILURE}: its epochs until then show nothing wrong.${d.advice && !d.advice.startsWith('Nothing to change') ? ` ${d.advice}` : ''}`
    : d.verdict === 'diverged'
      ? d.advice
      : `${FIX_THE_FAILURE}.${d.advice ? ` ${d.advice}` : ''}`;
  return { ...d, summary: `${failedAfter(trial, last)}; until then: ${summary}`, advice };
}

/**
 * A failed trial read as not learning (or learning slowly) on the few epochs it had, level with
 * its peers by the same epoch, while they did better later (or ran no longer, and it had fewer
 * than 3 epochs): the failure, not its settings, is what its epochs show. ("Not learning" after
 * one epoch, against peers' full runs that read the same at epoch 1, sent users to change
 * settings never shown to be wrong.) Behind its peers at the same epoch, or beside peers that
 * never did better, the verdict stands.
 */
function cutShortBeforeBehind(
  trial: TrialView,
  peers: readonly TrialView[],
  objective: DiagnosisObjective,
  d: Diagnosis,
  last: number,
  margin: number,
): Diagnosis | undefined {
  if (d.verdict !== 'no-learning' && d.verdict !== 'learning-slowly') return undefined;
  const { metric, direction } = objective;
  const byLast = (t: TrialView) => t.epochs.filter((e) => e.epoch <= last);
  const value = bestOf(byLast(trial), metric, direction);
  if (value === undefined) return undefined;
  const others = peers.filter((p) => p.id !== trial.id);
  const peersBy = bestOf(others.flatMap(byLast), metric, direction);
  const peersEver = bestOf(
    others.flatMap((p) => p.epochs),
    metric,
    direction,
  );
  if (peersBy !== undefined && isBetter(peersBy, value, direction, margin)) return undefined;
  const peersDidBetterLater = peersEver !== undefined && isBetter(peersEver, value, direction, margin);
  const peersRanLonger = others.some((p) => p.epochs.some((e) => e.epoch > last));
  if (!peersDidBetterLater && (peersRanLonger || last >= 3)) return undefined;
  const against = peersBy === undefined ? '' : `; the other trials' best by epoch ${last} was ${val(peersBy)}`;
  return {
    verdict: 'no-evidence',
    summary: `${failedAfter(trial, last)}, too soon to judge its settings: ${metric} ${val(value)} by then${against}.`,
    evidence: d.evidence,
    advice: `${FIX_THE_FAILURE}.`,
  };
}

/**
 * The verdict: each step below reads the trial's evidence and its peers' (judgeContext) and
 * either decides or passes to the next, in this order: no epoch or no objective to judge by; a
 * divergence; an inverted ranking; dead units; weights that did not move (every layer frozen,
 * unchanged histograms, no step at all); static kernels, or a curve unchanged to every digit; the
 * trial that learned (fell back, held back by freezing, healthy); and the one that did not.
 */
function judge(
  trial: TrialView,
  peers: readonly TrialView[],
  objective: DiagnosisObjective,
  thresholds: Partial<DiagnosisThresholds>,
  units: ObjectiveUnits,
): Diagnosis {
  const c = judgeContext(trial, peers, objective, thresholds, units);
  return (
    noEpochVerdict(c) ??
    noObjectiveVerdict(c) ??
    divergedVerdict(c) ??
    invertedVerdict(c) ??
    deadFromStartVerdict(c) ??
    dyingVerdict(c) ??
    allFrozenVerdict(c) ??
    unchangedHistogramsVerdict(c) ??
    movedNothingVerdict(c) ??
    staticKernelsVerdict(c) ??
    unchangedCurveVerdict(c) ??
    fellBackVerdict(c) ??
    heldByFreezingVerdict(c) ??
    learnedVerdict(c) ??
    notLearnedVerdict(c)
  );
}

/**
 * An AUC read in [0, 1] with values outside it was computed wrongly (a sum, a count, a percentage
 * at some epochs): said first, before a verdict that reads the values as they are ("Healthy:
 * reached 1.2" alone would not be true).
 */
function outOfAucRange(trial: TrialView, metric: string, units: ObjectiveUnits): string | undefined {
  if (!isAucName(metric) || units.scale === 100) return undefined;
  const outside = trial.epochs
    .map((e) => ({ epoch: e.epoch, value: e.metrics[metric] }))
    .filter(
      (p): p is { epoch: number; value: number } => typeof p.value === 'number' && Number.isFinite(p.value) && (p.value < 0 || p.value > 1),
    )
    .sort((a, b) => a.epoch - b.epoch);
  const first = outside[0];
  if (!first) return undefined;
  const more = outside.length > 1 ? ` and ${outside.length - 1} later epoch(s)` : '';
  return `${metric} is outside an AUC's range [0, 1] (${valInUnit(first.value)} at epoch ${first.epoch}${more}): check how it is computed.`;
}
