import type { TrialView } from '@sweepd/core';
import { DEFAULT_DIAGNOSIS_THRESHOLDS, type DiagnosisObjective, type DiagnosisThresholds } from './diagnosis-types.ts';
import { chanceLevel, layerLabel, metricEvidence, readEvidence, type TrialEvidence } from './evidence.ts';
import { evidenceSentences, weakClasses } from './evidence-sentences.ts';
import type { ObjectiveUnits } from './objective-scale.ts';
import { learningRateOf } from './param-names.ts';
import { clearlyAhead, type PeerLearned, type RatePosition, ratePosition } from './peers.ts';
import { type AheadPeer, noBetterHigher, noBetterHigherText } from './rate-advice.ts';
import { learned } from './learning.ts';
import { formatRate, pct, val } from './words.ts';

/**
 * What the verdicts read of one trial against its peers, worked out once before any of them is
 * asked: its evidence and its words, where its rate sits among its peers', and the findings more
 * than one verdict weighs (did it learn, are its units dying, did peers at other rates do better).
 */
export interface JudgeContext {
  trial: TrialView;
  peers: readonly TrialView[];
  objective: DiagnosisObjective;
  /** The thresholds, those in objective units scaled to the objective. */
  t: DiagnosisThresholds;
  /** The objective's top for a score (or 0 for an error); undefined when unbounded. */
  bound: number | undefined;
  chance: number | undefined;
  e: TrialEvidence;
  m: TrialEvidence['metric'];
  /** Its value: the trial's own, or its best epoch's. */
  value: number | undefined;
  /** Whether a peer learned, judged as this trial is (learned on its own objective course). */
  learnedAsThis: PeerLearned;
  /** learnedAsThis where chance is known (what learning is); undefined where it is not. */
  learnedPeer: PeerLearned | undefined;
  position: RatePosition | undefined;
  /** The evidence sentences every verdict lists. */
  evidence: string[];
  classes: ReturnType<typeof weakClasses>;
  rate: number | undefined;
  /** "the learning rate 0.01", or "the learning rate" when it has none. */
  rateText: string;
  metricName: string;
  /** "val_auc reached 0.71", or that it was never reported. */
  reached: string;
  /** The kernels' median movement from the start, or else their last updates' median ratio. */
  kernels: number | undefined;
  kernelText: string;
  movedFromStart: string;
  /** Every peer that did better ran at a higher rate (peersHigher) or at a lower one (peersLower). */
  peersHigher: boolean;
  peersLower: boolean;
  didLearn: boolean;
  /** The best peer clearly ahead of it, learned or not; `ahead` is that peer where this trial learned. */
  leader: ReturnType<typeof clearlyAhead>;
  ahead: ReturnType<typeof clearlyAhead>;
  aheadAdvice: string | undefined;
  raiseContext: { value: number; margin: number; ahead: AheadPeer | undefined } | undefined;
  noBetterAboveText: string;
  lowerRatesDidWorse: boolean;
  sameRateBetter: string | undefined;
  /** Dead units (or else sparse activations) in some layer at or over their threshold. */
  dying: boolean;
  /** The layer with the most dead units (or else the sparsest): its figures now, at the first epoch and before training. */
  worst: TrialEvidence['dead'];
  /** "40 % of conv2's units are dead", or '' when neither was reported. */
  what: string;
}

export function judgeContext(
  trial: TrialView,
  peers: readonly TrialView[],
  objective: DiagnosisObjective,
  thresholds: Partial<DiagnosisThresholds>,
  units: ObjectiveUnits,
): JudgeContext {
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
  const learnedAsThis = (p: TrialView) => learned(metricEvidence(p, objective.metric, objective.direction, chance), t, bound);
  const learnedPeer = chance === undefined ? undefined : learnedAsThis;
  const position = ratePosition(trial, peers, objective.direction, value, t.peerMargin, learnedPeer);
  const evidence = evidenceSentences(e, position, trial.params, t.peerMargin, trial.state === 'failed');
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

  const dying =
    (e.dead !== undefined && e.dead.value >= t.deadUnits) ||
    (e.dead === undefined && e.sparsity !== undefined && e.sparsity.value >= t.sparsity);
  const worst = e.dead ?? e.sparsity;
  const what = !worst
    ? ''
    : e.dead
      ? `${pct(worst.value)} of ${layerLabel(worst.layer)}'s units are dead`
      : `${pct(worst.value)} of ${layerLabel(worst.layer)}'s activations are zero`;

  return {
    trial,
    peers,
    objective,
    t,
    bound,
    chance,
    e,
    m,
    value,
    learnedAsThis,
    learnedPeer,
    position,
    evidence,
    classes,
    rate,
    rateText,
    metricName,
    reached,
    kernels,
    kernelText,
    movedFromStart,
    peersHigher,
    peersLower,
    didLearn,
    leader,
    ahead,
    aheadAdvice,
    raiseContext,
    noBetterAboveText,
    lowerRatesDidWorse,
    sameRateBetter,
    dying,
    worst,
    what,
  };
}
