import { bestOf, type Direction, listSome, noAucClasses, type Params, type TrialView } from '@sweepd/core';
import { chanceLevel, evaluationOnlyNonFinite, layerLabel, metricEvidence, readEvidence, type TrialEvidence } from './evidence.ts';
import { evidenceSentences, weakClasses } from './evidence-sentences.ts';
import { isAucName, type ObjectiveUnits, objectiveUnits } from './objective-scale.ts';
import { hasEpsilon, learningRateOf, optimizerOf } from './param-names.ts';
import {
  clearlyAhead,
  type HeldBackByChoice,
  heldBackByChoice,
  heldBackByFreezing,
  type RatePosition,
  ratePosition,
  sameRate,
  unlearnedBelow,
} from './peers.ts';
import {
  lower,
  lowestRateAlsoDiverged,
  noBetterHigher,
  noBetterHigherText,
  outsideRange,
  raise,
  largeEpsilonText,
  raiseAdvice,
  ratesIfAllDiverged,
  smallEpsilonAdvice,
  withOptimizer,
} from './rate-advice.ts';
import { formatRate, formatRateAmong, formatRateBeside, pct, rangeOf, rangeText, val, valInUnit } from './words.ts';

/**
 * One trial's diagnosis in words, from evidence: how far its kernels and biases moved, dead units
 * and sparsity, the course of its objective, and where its learning rate sits against its peers'.
 *
 * Static kernels are not a stall by themselves: fine-tuning a pretrained network at a modest rate
 * barely moves its kernels while the head, the biases and the normalisation layers learn (on an
 * H200, InceptionV4 with TF1 RMSProp at 0.01, epsilon 1.0, moved its kernels a median 0.47 % and
 * reached the best AUC of six configs). Only static kernels with an objective that does not rise
 * say "too low". Advice never contradicts the trial's own rate: "too low" suggests higher rates
 * than the trial's, "too high" lower ones.
 */
export type Verdict =
  | 'healthy'
  | 'too-low'
  | 'too-high'
  | 'dying-units'
  | 'diverged'
  | 'static-kernels-but-learning'
  | 'learning-slowly'
  | 'no-learning'
  | 'no-evidence';

export interface Diagnosis {
  verdict: Verdict;
  /** One sentence: the verdict and its main figures. */
  summary: string;
  /** The figures it rests on, one sentence each. */
  evidence: string[];
  /** What to try, consistent with the trial's own rate ('' when nothing to change). */
  advice: string;
  /** The learning rates the advice suggests, when it suggests any. */
  suggestedLearningRate?: { low: number; high: number };
}

export interface DiagnosisThresholds {
  /** Median kernel movement from the start below which the kernels count as static. */
  staticKernels: number;
  /** Median kernel movement from the start at or above which the kernels were rewritten. */
  largeKernels: number;
  /** Dead-unit fraction of one layer that counts as dying. */
  deadUnits: number;
  /** Activation sparsity of one layer that counts as dying when no dead fraction is reported. */
  sparsity: number;
  /** Best above chance by at least this: the trial learned. */
  learnedAboveChance: number;
  /** Best within this of chance: near chance. */
  nearChance: number;
  /**
   * Rise from the first epoch's value that counts as learning. This, the next two and
   * learnedAboveChance are in objective units for a score in [0, 1]; for other objectives they
   * are multiplied by the objective's scale (objective-scale.ts).
   */
  minGain: number;
  /**
   * For a score in [0, 1]: a rise that removes at least this share of the room the first epoch left
   * (1 − first when maximized) counts as learning too, above the noise (peerMargin). A fine-tuned
   * model that starts at accuracy 0.92 has 0.08 to gain; 0.92 → 0.95 is learning.
   */
  headroomShare: number;
  /** Peers within this of the trial's value count as neither better nor worse. */
  peerMargin: number;
  /**
   * Peers ahead by at least this count as clearly better: whether freezing held a trial back, and
   * whose settings a trial that learned is advised to try. Far above the noise between runs
   * (peerMargin), well below "learned at all".
   */
  clearlyBetter: number;
}

export const DEFAULT_DIAGNOSIS_THRESHOLDS: DiagnosisThresholds = {
  staticKernels: 0.01,
  largeKernels: 0.5,
  deadUnits: 0.5,
  sparsity: 0.97,
  learnedAboveChance: 0.15,
  nearChance: 0.1,
  minGain: 0.05,
  headroomShare: 0.25,
  peerMargin: 0.01,
  clearlyBetter: 0.05,
};

export interface DiagnosisObjective {
  metric: string;
  direction: Direction;
  /** The study's range of its learning rate, when it searches one: advice outside it says so. */
  learningRateRange?: { low: number; high: number; name?: string };
  /** The study's fixed parameters, which trials' own params leave out: the rate or the optimizer may be among them. */
  fixed?: Params;
}

/**
 * Whether the objective shows learning: clearly above chance, or (off chance) risen by minGain, or,
 * for a score (`bound`: its top, or 0 for an error), by headroomShare of the room its first epoch left.
 */
function learned(e: TrialEvidence, t: DiagnosisThresholds, bound: number | undefined): boolean {
  const m = e.metric;
  if (!m) return false;
  if (m.chance !== undefined) {
    const above = m.best - m.chance;
    if (above >= t.learnedAboveChance) return true;
    if (above < t.nearChance) return false;
  }
  if (m.gain >= t.minGain) return true;
  return bound !== undefined && m.gain > t.peerMargin && m.gain >= t.headroomShare * Math.abs(bound - m.first);
}

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

function judge(
  trial: TrialView,
  peers: readonly TrialView[],
  objective: DiagnosisObjective,
  thresholds: Partial<DiagnosisThresholds>,
  units: ObjectiveUnits,
): Diagnosis {
  const given = { ...DEFAULT_DIAGNOSIS_THRESHOLDS, ...thresholds };
  // Thresholds in objective units are sized for a score in [0, 1]; other objectives scale them.
  const { scale, bound } = units;
  const t = {
    ...given,
    minGain: given.minGain * scale,
    peerMargin: given.peerMargin * scale,
    clearlyBetter: given.clearlyBetter * scale,
    learnedAboveChance: given.learnedAboveChance * scale,
    nearChance: given.nearChance * scale,
  };
  // An AUC in percent has its chance at 50.
  const chance = chanceLevel(objective.metric, objective.direction, scale);
  const e = readEvidence(trial, objective.metric, objective.direction, chance);
  const value = typeof trial.value === 'number' && Number.isFinite(trial.value) ? trial.value : e.metric?.best;
  // A class near chance learned nothing.
  const learnedFloor = chance === undefined ? undefined : chance + t.nearChance;
  // Nor did a peer whose own page reads that it did not learn: it is not a better rate to point to,
  // whatever it beat. Judged as this trial is (learned), where chance says what learning is.
  const learnedPeer =
    chance === undefined
      ? undefined
      : (p: TrialView) => learned(metricEvidence(p, objective.metric, objective.direction, chance), t, bound);
  const position = ratePosition(trial, peers, objective.direction, value, t.peerMargin, learnedPeer);
  const evidence = evidenceSentences(e, position, trial.params, t.peerMargin, chance, trial.state === 'failed');
  // A macro average hides a class that learned nothing, or one with no value at all.
  const classes = weakClasses(trial, objective.metric, e, learnedFloor);
  if (classes) evidence.splice(1, 0, classes.sentence);
  const rate = learningRateOf(trial);
  const rateText = rate === undefined ? 'the learning rate' : `the learning rate ${formatRate(rate)}`;
  const m = e.metric;
  const metricName = objective.metric;
  const reached = m ? `${metricName} reached ${val(m.best)}` : `${metricName} was never reported`;
  const kernels = e.kernels?.median ?? e.updateRatio?.median;
  // Without a movement from the start (a head whose kernel started at zero) only the last update's
  // size is known: said as that, never as a movement it has no figure for.
  const kernelText = e.kernels
    ? `the kernels moved a median ${pct(e.kernels.median)}`
    : e.updateRatio
      ? `the kernels' last updates were a median ${val(e.updateRatio.median)} of their size`
      : 'the kernels moved';
  const movedFromStart = e.kernels ? `${kernelText} from their starting values` : kernelText;
  const peersHigher = (position?.betterHigher.length ?? 0) > 0 && (position?.betterLower.length ?? 0) === 0;
  const peersLower = (position?.betterLower.length ?? 0) > 0 && (position?.betterHigher.length ?? 0) === 0;
  const didLearn = learned(e, t, bound);
  // For a trial that learned: nothing in its own evidence is wrong, but another trial did clearly
  // better, and what it changed is the advice ("nothing to change" would not be true).
  const leader = value === undefined ? undefined : clearlyAhead(trial, peers, objective, value, t.clearlyBetter);
  const ahead = didLearn ? leader : undefined;
  const aheadAdvice =
    ahead && ahead.differs.length > 0
      ? `Trial ${ahead.peer.number} did clearly better (${val(ahead.value)}) with ${ahead.differs.join(', ')}: try its settings.`
      : undefined;
  // Advice to raise the rate: above the higher rates of its group that did no better (noBetterHigher),
  // naming the best trial that did clearly better and learned, whether or not this one learned.
  const raiseContext =
    value === undefined
      ? undefined
      : {
          value,
          margin: t.peerMargin,
          ahead:
            leader && (learnedPeer === undefined || learnedPeer(leader.peer))
              ? { number: leader.peer.number, value: leader.value, differs: leader.differs }
              : undefined,
        };
  // " 2 sgd trials at higher rates (8.5e-4 … 0.0046) did no better.", for a summary that says "too low".
  const noBetterAbove = rate === undefined ? undefined : noBetterHigher(rate, position);
  const noBetterAboveText = noBetterAbove && position ? ` ${noBetterHigherText(position, noBetterAbove.rates)}.` : '';
  // Learned, no peer of its group did clearly better, and some that step like it (same optimizer
  // and epsilon regime) at lower rates did worse: the evidence speaks against "too high", whatever
  // its dead units and kernel movement say.
  const lowerRatesDidWorse =
    didLearn &&
    position !== undefined &&
    position.betterHigher.length + position.betterLower.length + position.betterSame === 0 &&
    position.worseLowerSameStep.length > 0;

  // Peers that step like it did better at its own rate, and none at a lower one: whatever went
  // wrong, the rate alone does not explain it (a broken evaluation scores the same at any rate).
  const sameRateBetter =
    position !== undefined && position.betterSameStep > 0 && position.betterLower.length === 0
      ? `${position.betterSameStep} ${position.betterSameStep === 1 ? position.member : position.group} at the same learning rate ${formatRate(position.rate)} did better`
      : undefined;

  const tooHigh = (verdict: 'too-high' | 'diverged' | 'dying-units', summary: string, extra = ''): Diagnosis => {
    if (rate === undefined) return { verdict, summary, evidence, advice: `Lower the learning rate.${extra}` };
    let range = lower(rate, position);
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
        : ` and the ${rangeOf(unlearned, rate)} of ${unlearned.length === 1 ? `the ${kind}` : `${unlearned.length} ${kind}s`} that did not learn either`;
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
  };

  if (trial.epochs.length === 0) {
    // No evidence to list: its rate is not a finding about a trial that never trained (a setup error, say).
    // A stop's reason (a user, a study's end) is not why there was nothing to judge: the timing is.
    const why = trial.state === 'stopped' ? `stopped before its first epoch${trial.reason ? ` (${trial.reason})` : ''}` : trial.reason;
    return {
      verdict: 'no-evidence',
      summary: why ? `No epoch to judge: ${why}${/[.!?]$/.test(why) ? '' : '.'}` : 'No epoch to judge yet.',
      evidence: [],
      advice: '',
    };
  }
  if (!m && !e.diverged) {
    // Kernel movement alone cannot say whether the rate is right: without the objective there is
    // no telling whether the movement bought anything.
    // The script did report: the AUC had no class to average (one label value each in validation).
    const noAuc = /auc/i.test(metricName) ? noAucClasses(trial.epochs.at(-1)?.notes) : [];
    return {
      verdict: 'no-evidence',
      summary: trial.reason ? `No ${metricName} to judge by: ${trial.reason}` : `No ${metricName} to judge by: it was never reported.`,
      evidence,
      // Only when not reporting it is the trouble, not a trial that failed or stopped before it could.
      advice:
        noAuc.length > 0
          ? `Validate on data that holds both label values of each class: ${listSome(noAuc)} had only one, and a class with one has no AUC.`
          : !trial.reason || /never (reported|finite)/.test(trial.reason)
            ? reportObjectiveAdvice(trial, metricName)
            : '',
    };
  }
  if (e.diverged) {
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
        advice:
          'Check the inputs and the loss for NaN or Inf first (missing values in the data, a log of zero, a division by an empty count). ' +
          `If they are clean, try learning rates ${formatRate(low / 1000)} … ${formatRate(low / 10)}, below every rate tried.`,
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
        advice:
          'Check the inputs and the loss for NaN or Inf first (missing values in the data, a log of zero, a division by an empty count). ' +
          `If they are clean, try learning rates ${formatRate(lowest / 1000)} … ${formatRate(lowest / 10)}, below every rate tried.`,
        suggestedLearningRate: { low: lowest / 1000, high: lowest / 10 },
      };
    }
    if (sameRateBetter)
      return {
        verdict: 'diverged',
        summary: `Diverged (${e.diverged}), while ${sameRateBetter}: the rate alone does not explain it.`,
        evidence,
        advice:
          'Check the inputs and the loss for NaN or Inf first (missing values in the data, a log of zero, a division by an empty count), ' +
          'and compare with the better trials at the same rate: what they changed is the likelier cause.',
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
    return tooHigh('diverged', `Diverged (${e.diverged}): ${rateText} is too high.`);
  }

  if (m?.chance !== undefined && m.last <= m.chance - t.learnedAboveChance * 2 && m.last < m.first) {
    // An AUC that fell far below chance ranks the classes backwards: that is learning, inverted.
    return {
      verdict: 'no-learning',
      summary: `Learning, but inverted: ${metricName} fell ${val(m.first)} → ${val(m.last)}, far below chance (${m.chance}): the model ranks the classes backwards.`,
      evidence,
      advice: `Check the label order and the sign of the scores the AUC is computed on: flipped, this would read ${val(2 * m.chance - m.last)}.`,
    };
  }
  const dying =
    (e.dead !== undefined && e.dead.value >= t.deadUnits) ||
    (e.dead === undefined && e.sparsity !== undefined && e.sparsity.value >= t.sparsity);
  const worst = e.dead ?? e.sparsity;
  const what = !worst
    ? ''
    : e.dead
      ? `${pct(worst.value)} of ${layerLabel(worst.layer)}'s units are dead`
      : `${pct(worst.value)} of ${layerLabel(worst.layer)}'s activations are zero`;
  // Dead before training and about as dead at the end (the script measured them at the start):
  // training did not kill these units. Without that measurement, about as dead after the first
  // epoch as at the end says the same, less surely: a rate that kills them within epoch 1 looks alike.
  const earliest = worst?.start ?? worst?.first;
  const deadFromStart =
    worst !== undefined && earliest !== undefined && earliest >= (e.dead ? t.deadUnits : t.sparsity) && worst.value - earliest < 0.1;
  const measuredAtStart = worst?.start !== undefined;
  const fromWhen = measuredAtStart ? 'from the start' : 'from the first epoch';
  const fromWhenFigure = `${pct(earliest ?? 0)} ${measuredAtStart ? 'before training' : 'after epoch 1'}`;
  const highForDying = (kernels ?? 0) >= t.largeKernels || peersLower;
  if (worst && dying && deadFromStart && !highForDying && !didLearn) {
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
  // Units as dead after the first epoch as at the end did not die in training: in a trial that
  // learned they say nothing against its rate, and without a sign of a rate too high neither.
  const notDying = deadFromStart && (didLearn || !highForDying);
  if (dying && !notDying && (!didLearn || ((kernels ?? 0) >= t.largeKernels && !lowerRatesDidWorse))) {
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
    return tooHigh('dying-units', summary, smallEps);
  }

  // (Not where `trainable` was read off weight histograms: an unchanged one is also a rate too
  // low to move a weight past a bucket edge, and the rate evidence below judges that.)
  if (!didLearn && e.reported && e.reported.layers > 0 && e.reported.trainable === 0 && !e.reported.inferred) {
    // Not a rate to change: with every layer frozen, no rate trains anything it reports.
    const frozen = trial.params.frozen_layers;
    return {
      verdict: 'no-learning',
      summary: `Nothing it reports is trained: every one of its ${e.reported.layers} reported layer(s) is frozen (trainable: false), and ${reached}.`,
      evidence,
      advice:
        typeof frozen === 'number' && frozen > 0
          ? 'Unfreeze layers (fewer frozen_layers), or check that the layers that do train (the head) are built over the optimizer and reported as trainable.'
          : 'Check that the layers meant to train (the head at least) are trainable, built over the optimizer and reported as trainable.',
    };
  }
  // Above chance, or at a rate too small to move anything: a network a too-high rate killed in its
  // first epoch (before the first histogram Keras writes) scores chance with unchanged histograms too.
  const notDeadOnArrival = (m?.chance !== undefined && m.best >= m.chance + t.nearChance) || (rate !== undefined && rate < 1e-4);
  if (!didLearn && e.unchangedHistograms && !peersLower && notDeadOnArrival) {
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
  const movedNothing =
    (e.kernels !== undefined || e.updateRatio !== undefined) &&
    (e.kernels?.max ?? 0) === 0 &&
    (e.updateRatio?.max ?? 0) === 0 &&
    (e.biases?.max ?? 0) === 0;
  if (!didLearn && movedNothing) {
    // Exactly zero is not a low rate: any rate moves a weight that gets a step.
    return {
      verdict: 'no-learning',
      summary: `Nothing is being trained: no trainable weight changed at all (kernels, update ratios and biases exactly 0 in ${(e.kernels ?? e.updateRatio)?.layers} trainable layer(s)), and ${reached}.`,
      evidence,
      advice:
        "Check that the optimizer steps (optimizer.step() after loss.backward()), that it was built over the model's parameters, and that they require gradients. The learning rate is not the cause: any rate moves a weight that is stepped.",
    };
  }

  if (kernels !== undefined && kernels < t.staticKernels) {
    const rising = m !== undefined && m.gain >= t.minGain;
    // Far behind: the best faster peer is ahead by as much as "learned" asks above chance.
    const behind = position?.bestBetter !== undefined && m ? Math.abs(position.bestBetter - m.best) : 0;
    const farBehind = behind >= t.learnedAboveChance;
    // Learned what the head alone learns at once (or a little more) while faster peers did far
    // better; or, peers or not, flat since its first epoch ("not stalled" and "a rising metric"
    // would contradict the curve it cites).
    const fasterPeersAhead = (!rising || farBehind) && peersHigher;
    const flat = m !== undefined && m.gain <= t.peerMargin && m.points.length >= 3;
    if (didLearn && rate !== undefined && m && (fasterPeersAhead || flat)) {
      // "Stayed" only for a curve that did not move: 0.741 → 0.765 rose, if too little to count.
      const from = m.points[0]?.epoch ?? 1;
      const exact = m.points.every((p) => p.value === m.first) ? ` (the same to every digit in all ${m.points.length} evaluations)` : '';
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
        summary: `Learning rate ${fasterPeersAhead ? '' : 'likely '}too low: ${kernelText} and ${course}${why}${noBetterAboveText}`,
        evidence,
        ...raiseAdvice(trial, rate, position, raiseContext),
      });
    }
    if (didLearn) {
      const rank =
        position && position.rank === 1 && trial.state !== 'failed' ? ` It is the best of ${position.of} ${position.group}.` : '';
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

  if (didLearn && m && (kernels ?? 0) >= t.largeKernels && m.fallBack >= t.minGain) {
    // Rewrote its pretrained kernels and lost what it had learned: the steps are too large.
    return tooHigh(
      'too-high',
      `Learning rate too high: ${metricName} reached ${val(m.best)} at epoch ${m.bestEpoch}, then fell back to ${val(m.last)} ` +
        `while ${movedFromStart}.`,
      smallEpsilonAdvice(trial.params),
    );
  }
  const held = didLearn && value !== undefined ? heldBackByFreezing(trial, peers, objective.direction, value, t.clearlyBetter) : undefined;
  if (held) {
    // It trains, but what it may train is too little: the clearly better trials all froze less.
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
  if (didLearn) {
    const fell = m && m.fallBack >= t.minGain ? ` It fell back to ${val(m.last)} by the last epoch: keep the best epoch's weights.` : '';
    const deadNote =
      dying && lowerRatesDidWorse
        ? ` ${what}, yet it ranks ${position?.rank} of ${position?.of} ${position?.group} and ${lowerRatesText(position as RatePosition, t.peerMargin)}: the evidence does not point at a lower rate.`
        : '';
    // Its own evidence is sound, but "Healthy" alone would not be true of a trial another clearly beat.
    const head = ahead ? `Learning, but behind: trial ${ahead.peer.number} did clearly better (${val(ahead.value)}); ` : 'Healthy: ';
    return {
      verdict: 'healthy',
      summary: `${head}${reached}${m?.chance !== undefined ? ` (chance ${m.chance})` : ''}${e.kernels ? ` and ${kernelText}` : ''}.${fell}${deadNote}${classes?.note ?? ''}`,
      evidence,
      advice: aheadAdvice ?? '',
    };
  }
  // Peers at higher rates that scored the same: the rate is not what holds it (a constant output scores the same at any rate).
  const sameAtHigher = (position?.tiedHigher.length ?? 0) > 0 && !peersLower;
  // Every clearly better trial also chose otherwise in something besides the rate (or froze fewer
  // layers): the rate is not shown to be the cause, even where better peers ran lower. Kernels that
  // moved by half or more are evidence of their own; a new head's movement is not.
  const heldByChoice =
    !didLearn && value !== undefined ? heldBackByChoice(trial, peers, objective.direction, value, t.clearlyBetter, learnedPeer) : undefined;
  const largeMoves = (kernels ?? 0) >= t.largeKernels;
  // A peer like it at a rate between the better lower ones and its own did worse: lower was not
  // better all the way down, and the rate alone is not shown to be the cause.
  const lowerMixed =
    position !== undefined &&
    position.betterLower.length > 0 &&
    position.worseLowerSameStep.some((r) => r > Math.max(...position.betterLower));
  if (!sameAtHigher && !sameRateBetter && (largeMoves || (kernels !== undefined && peersLower && !heldByChoice && !lowerMixed))) {
    return tooHigh('too-high', `Learning rate too high: ${movedFromStart} and ${reached} only.`);
  }
  if (!largeMoves && (peersHigher || peersLower) && heldByChoice) return choiceVerdict(heldByChoice, reached, evidence, rate);
  if (kernels === undefined && peersHigher && rate !== undefined) {
    return tooLowWithEpsilon(trial.params, {
      verdict: 'too-low',
      summary: `Learning rate likely too low: ${reached} only, and every ${position?.member} that did better used a higher rate.${noBetterAboveText}`,
      evidence,
      ...raiseAdvice(trial, rate, position, raiseContext),
    });
  }
  if (kernels === undefined && peersLower)
    return tooHigh('too-high', `Learning rate likely too high: ${reached} only, and every better peer used a lower rate.`);
  // A rise under minGain counts too when it came every epoch, over 4 or more: a trend, not noise.
  const risingEveryEpoch =
    m !== undefined &&
    m.points.length >= 4 &&
    m.gain > t.peerMargin &&
    m.points.every((p, i) => i === 0 || (objective.direction === 'maximize' ? 1 : -1) * (p.value - (m.points[i - 1]?.value as number)) > 0);
  if (m && (m.gain >= t.minGain || risingEveryEpoch) && m.bestEpoch === m.points.at(-1)?.epoch) {
    // Too little to call learning (near chance), but it rose steadily to its last epoch.
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
  if (heldByChoice) return choiceVerdict(heldByChoice, reached, evidence, rate);
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
    if (learned(metricEvidence(p, objective.metric, objective.direction, chance), t, bound)) learnedOptimizers.add(o);
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

/**
 * A trial whose clearly better peers (of its optimizer) all chose otherwise in something besides
 * the rate (heldBackByChoice): held back by that choice where a better trial at about its rate
 * changed nothing else, or where trials sharing its choice did no better at the better ones'
 * rates; else the study cannot tell the choice from the rate (or from the rest a twin changed).
 */
function choiceVerdict(held: HeldBackByChoice, reached: string, evidence: string[], rate: number | undefined): Diagnosis {
  const { optimizer, name, own, better, best, twin, sameChoice } = held;
  const kind = optimizer === undefined ? 'trial' : `${optimizer} trial`;
  const values = [...new Set(better.map((p) => String(p.params[name])))];
  const chose =
    name === 'frozen_layers'
      ? `froze fewer layers (frozen_layers ${rangeOfInts(better.map((p) => p.params[name] as number))}) than this trial's ${own}`
      : `had ${name} ${listSome(values, 3)}, against this trial's ${own}`;
  const their = `every ${kind} that did clearly better (${better.length === 1 ? 'one' : better.length}, up to ${val(best.value as number)}) ${chose}`;
  if (twin) {
    const at = `trial ${twin.peer.number} (${val(twin.peer.value as number)}) did so at about this learning rate (${formatRate(learningRateOf(twin.peer) as number)})`;
    if (twin.differs.length === 1)
      return {
        verdict: 'no-learning',
        summary: `Held back by ${name}, not the learning rate: ${reached}; ${their}, and ${at}.`,
        evidence,
        advice: `Try ${name}=${String(twin.peer.params[name])}, as trial ${twin.peer.number} did at this rate.`,
      };
    const changed = twin.differs.map((k) => `${k}=${String(twin.peer.params[k])}`).join(', ');
    return {
      verdict: 'no-learning',
      summary: `Not the learning rate: ${reached}; ${their}, and ${at}, changing ${twin.differs.join(', ')} too.`,
      evidence,
      advice: `Try trial ${twin.peer.number}'s settings (${changed}); to tell which of them matters, change one at a time.`,
    };
  }
  const copy = `${name}=${String(best.params[name])}`;
  if (sameChoice.length > 0) {
    const rates = sameChoice.map(learningRateOf).filter((r): r is number => r !== undefined);
    const at = ` (learning rate${rates.length === 1 ? '' : 's'} ${rangeOf(rates)})`;
    const others =
      sameChoice.length === 1
        ? `the one ${kind} with ${name}=${own} at rates like theirs${at} did not do clearly better either`
        : `none of the ${sameChoice.length} ${kind}s with ${name}=${own} at rates like theirs${at} did clearly better`;
    return {
      verdict: 'no-learning',
      summary: `Held back by ${name}, not the learning rate: ${reached}; ${their}, and ${others}.`,
      evidence,
      advice: `Try ${copy}, as trial ${best.number} (${val(best.value as number)}) did.`,
    };
  }
  return {
    verdict: 'no-learning',
    summary:
      `Not learning, and this study cannot tell why: ${reached}; ${their}, and no other ${kind} with ${name}=${own} ran at ` +
      `rates like theirs, so neither the rate nor ${name} is shown to be the cause.`,
    evidence,
    advice: `Try ${copy} (trial ${best.number}'s)${rate !== undefined ? ` at this trial's learning rate ${formatRate(rate)}` : ''}: then ${name} is the only difference.`,
  };
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

/** A too-low verdict for Adam or RMSProp with a large epsilon names it: the other reason its steps are small. */
function tooLowWithEpsilon(params: Params, diagnosis: Diagnosis & { advice: string }): Diagnosis {
  const eps = largeEpsilonText(params);
  return eps ? { ...diagnosis, summary: diagnosis.summary + eps.summary, advice: diagnosis.advice + eps.advice } : diagnosis;
}

/**
 * What to do about an objective never reported: report it, or, when the trial reported other
 * metrics (the objective under another name, or a tag mapped to another), name the objective so.
 */
function reportObjectiveAdvice(trial: TrialView, metric: string): string {
  const reported = [...new Set(trial.epochs.flatMap((e) => Object.keys(e.metrics)))].filter((n) => n !== metric).sort();
  if (reported.length === 0) return `Report ${metric} every epoch (the study's objective) so that the training can be judged.`;
  return (
    `It reported ${listSome(reported, 4)}, but not ${metric}: if one of those is the objective, set objective.metric to its name ` +
    `(or, for event files, map its tag to ${metric}); otherwise report ${metric} every epoch.`
  );
}

/** An epsilon of 0.1 or more in Adam's or RMSProp's denominator, where it outweighs √v. */
function largeEpsilon(params: Params, optimizer: string | undefined): boolean {
  const eps = params.opt_epsilon;
  return typeof eps === 'number' && eps >= 0.1 && hasEpsilon(optimizer);
}

/** '0' or '0–2'. */
function rangeOfInts(values: readonly number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}

/** What the lower rates tried did, of a trial none of whose peers did clearly better: worse, or some about as well. */
function lowerRatesText(position: RatePosition, margin: number): string {
  const tied = position.tiedLower.length;
  if (tied === 0) return 'the lower rates tried did worse';
  return `no lower rate tried did clearly better (${tied === 1 ? `1 at ${formatRateBeside(position.tiedLower[0] as number, position.rate)}` : `${tied}`} within ${val(margin)} of it, the others worse)`;
}

/** Whether `other` is better than `value` by more than `margin` in the objective's direction. */
function isBetter(other: number | undefined, value: number, direction: Direction, margin: number): boolean {
  if (other === undefined || !Number.isFinite(other)) return false;
  return (direction === 'maximize' ? other - value : value - other) > margin;
}
