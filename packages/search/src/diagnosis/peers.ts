import { type Direction, type TrialView, takesRank } from '@sweepd/core';
import { divergence, nothingTrained } from './evidence.ts';
import { hasEpsilon, learningRateName, learningRateOf, optimizerName, optimizerOf } from './param-names.ts';

/** Whether a peer learned, as its own diagnosis judges it. */
export type PeerLearned = (peer: TrialView) => boolean;

/**
 * Where a trial's learning rate sits against its peers': the rates of the trials of the same
 * study that scored better and worse. Rates only compare within one optimizer (Adam's 1e-4 is
 * not SGD's 1e-4) and one epsilon regime (TF1 RMSProp at epsilon 1.0 steps by about lr·g, at
 * 1e-8 by about lr whatever g), so the peers are those with the trial's optimizer and an epsilon
 * within a factor of 10 when there are at least two of them, else those with its optimizer when
 * there are at least two, else all.
 */
export interface RatePosition {
  rate: number;
  /** 'rmsprop trials with epsilon near 1', 'rmsprop trials' or 'trials'. */
  group: string;
  /** One of the group: 'rmsprop trial with epsilon near 1', 'rmsprop trial' or 'trial'. */
  member: string;
  /** Peers that scored better by more than the margin, with higher and with lower rates. */
  betterHigher: number[];
  betterLower: number[];
  /** Peers that scored better by more than the margin at the trial's own rate. */
  betterSame: number;
  /** Of those, the ones that step like the trial (stepsAlike): they show its rate is not what held it back. */
  betterSameStep: number;
  /** Peers that scored better by more than the margin but did not learn (learnedPeer) or could not train (rateCouldTrain): not counted above. */
  betterUnlearned: number;
  worseHigher: number[];
  worseLower: number[];
  /** Higher and lower rates of peers that scored within the margin of the trial: as well, or as badly. */
  tiedHigher: number[];
  tiedLower: number[];
  /**
   * The lower rates of the worse peers that step like the trial: its optimizer, and its epsilon
   * regime where it sets one. Only these say a lower rate did worse; a peer at a lower rate but at
   * epsilon 1.0 rather than 1e-8 took far smaller steps than its rate suggests.
   */
  worseLowerSameStep: number[];
  /** The same, of higher rates: only these say a higher rate did worse. */
  worseHigherSameStep: number[];
  /** The best value among the peers that scored better by more than the margin (undefined when none did). */
  bestBetter: number | undefined;
  /** 1-based rank of the trial's value among the group and itself, and the group's size with it. */
  rank: number;
  of: number;
}

/** The optimizer's epsilon (`opt_epsilon`), where the trial sets one. */
function epsilonOf(trial: Pick<TrialView, 'params'>): number | undefined {
  // sgd and momentum have no epsilon: a fixed opt_epsilon beside them sets no regime of theirs.
  if (!hasEpsilon(optimizerOf(trial))) return undefined;
  const eps = trial.params.opt_epsilon;
  return typeof eps === 'number' && Number.isFinite(eps) && eps > 0 ? eps : undefined;
}

/** Within a factor of 10: the same regime of RMSProp's or Adam's step, lr·g/√(v + ε) or lr·g/(√v + ε). */
function nearEpsilon(a: number | undefined, b: number): boolean {
  return a !== undefined && Math.abs(Math.log10(a) - Math.log10(b)) <= 1;
}

/** Whether `b` steps like `a`: the same optimizer (or neither sets one) and, where `a` sets an epsilon, one near it. */
function stepsAlike(a: Pick<TrialView, 'params'>, b: Pick<TrialView, 'params'>): boolean {
  const eps = epsilonOf(a);
  return optimizerOf(a) === optimizerOf(b) && (eps === undefined || nearEpsilon(epsilonOf(b), eps));
}

/**
 * Whether a peer's rate had weights to act on: not where every layer with weights it reports was
 * frozen, nor where not one weight took a step. Such a trial scores what its starting weights score
 * at any rate, so it says nothing of rates. (One whose event-file histograms never changed stays:
 * a rate too low to move a weight past a bucket edge does that too.)
 */
function rateCouldTrain(peer: TrialView): boolean {
  const untrained = nothingTrained(peer);
  return untrained !== 'frozen' && untrained !== 'no-step';
}

export function ratePosition(
  trial: TrialView,
  peers: readonly TrialView[],
  direction: Direction,
  value: number | undefined,
  margin: number,
  /**
   * Whether a peer ahead counts as better: a network stuck near chance (constant output, AUC 0.5)
   * beats one below chance, but is no evidence that its rate works. Undefined: any value ahead by
   * the margin counts.
   */
  learnedPeer?: PeerLearned,
): RatePosition | undefined {
  const rate = learningRateOf(trial);
  if (rate === undefined || value === undefined) return undefined;
  // Ranked peers, as the leaderboard ranks them: a crashed trial's value before it failed is not a rank.
  const scored = peers.filter((p) => p.id !== trial.id && takesRank(p) && learningRateOf(p) !== undefined);
  const optimizer = optimizerOf(trial);
  const same = optimizer !== undefined ? scored.filter((p) => optimizerOf(p) === optimizer) : [];
  const eps = epsilonOf(trial);
  const sameRegime = eps === undefined ? [] : same.filter((p) => nearEpsilon(epsilonOf(p), eps));
  // Rates of different optimizers do not compare (sgd's 0.1 is adam's 1e-3): a trial with an
  // optimizer is placed among trials of its own only, however few, and among none when it is alone.
  const group = sameRegime.length >= 2 ? sameRegime : optimizer !== undefined ? same : scored;
  if (group.length === 0) return undefined;
  const sign = direction === 'maximize' ? 1 : -1;
  const kind = group === scored ? 'trial' : `${optimizer} trial`;
  const regime = group === sameRegime ? ` with epsilon near ${eps}` : '';
  const position: RatePosition = {
    rate,
    group: `${kind}s${regime}`,
    member: `${kind}${regime}`,
    betterHigher: [],
    betterLower: [],
    betterSame: 0,
    betterSameStep: 0,
    betterUnlearned: 0,
    worseHigher: [],
    worseLower: [],
    tiedHigher: [],
    tiedLower: [],
    worseLowerSameStep: [],
    worseHigherSameStep: [],
    bestBetter: undefined,
    rank: 1,
    of: group.length + 1,
  };
  for (const p of group) {
    const diff = sign * ((p.value as number) - value);
    const r = learningRateOf(p) as number;
    if (diff > 0) position.rank++;
    // Ranked as the leaderboard ranks it, but no evidence about rates: at any rate it scores what its starting weights score.
    if (!rateCouldTrain(p)) {
      if (diff > margin) position.betterUnlearned++;
      continue;
    }
    if (Math.abs(diff) <= margin) {
      if (r > rate) position.tiedHigher.push(r);
      else if (r < rate) position.tiedLower.push(r);
      continue;
    }
    if (diff > 0 && learnedPeer !== undefined && !learnedPeer(p)) {
      position.betterUnlearned++;
      continue;
    }
    if (diff > 0 && (position.bestBetter === undefined || sign * ((p.value as number) - position.bestBetter) > 0))
      position.bestBetter = p.value as number;
    if (r === rate) {
      if (diff > 0) position.betterSame++;
      if (diff > 0 && stepsAlike(trial, p)) position.betterSameStep++;
      continue;
    }
    if (diff > 0) (r > rate ? position.betterHigher : position.betterLower).push(r);
    else (r > rate ? position.worseHigher : position.worseLower).push(r);
    if (diff < 0 && stepsAlike(trial, p)) (r < rate ? position.worseLowerSameStep : position.worseHigherSameStep).push(r);
  }
  return position;
}

/**
 * Whether freezing holds a trial back: it froze `frozen_layers` and every peer that did better by
 * at least `gap` froze fewer (and at least one did). The better peers' frozen counts and best value.
 */
export function heldBackByFreezing(
  trial: TrialView,
  peers: readonly TrialView[],
  direction: Direction,
  value: number,
  gap: number,
): { frozen: number; betterFrozen: number[]; best: number; betterRates: number[] } | undefined {
  const frozen = trial.params.frozen_layers;
  if (typeof frozen !== 'number' || frozen <= 0) return undefined;
  const sign = direction === 'maximize' ? 1 : -1;
  const frozenOf = (p: TrialView) => (typeof p.params.frozen_layers === 'number' ? p.params.frozen_layers : 0);
  // Ranked peers only: a crashed one is no evidence of what training more layers gives.
  const ranked = peers.filter((p) => p.id !== trial.id && takesRank(p));
  const better = ranked.filter((p) => sign * ((p.value as number) - value) >= gap);
  if (better.length === 0) return undefined;
  const betterFrozen = better.map(frozenOf);
  if (betterFrozen.some((f) => f >= frozen)) return undefined;
  // A peer of its optimizer that trained more layers and did not do clearly better speaks against it.
  const optimizer = optimizerOf(trial);
  if (ranked.some((p) => optimizerOf(p) === optimizer && frozenOf(p) < frozen && sign * ((p.value as number) - value) < gap))
    return undefined;
  const best = better.reduce((b, p) => (sign * ((p.value as number) - b) > 0 ? (p.value as number) : b), better[0]?.value as number);
  const betterRates = better.map(learningRateOf).filter((r): r is number => r !== undefined);
  return { frozen, betterFrozen, best, betterRates };
}

/**
 * A choice (a string or boolean parameter: TF-slim's trainable_scopes, a head type; or
 * frozen_layers, where every better trial froze fewer) in which every
 * trial of the trial's optimizer that did clearly better — by at least `gap`, and learned
 * (`learnedPeer`) — differs from it, and in which alone among its choices they all do. With the
 * rate, that is a second difference a comparison of rates cannot tell apart from it, unless the
 * peers say which:
 *   - `twin`: a better one at about the trial's own rate, with everything it changed besides
 *     (`differs`: the choice alone, or more);
 *   - `sameChoice`: trials that share the trial's value, ran as long as it did, at rates among the
 *     better trials' (not its own), and did not do clearly better: the rate alone did not help.
 * Without either, the study cannot tell the two apart.
 */
export interface HeldBackByChoice {
  /** The trial's optimizer: only its trials are compared. */
  optimizer: string | undefined;
  name: string;
  own: string;
  better: TrialView[];
  best: TrialView;
  twin?: { peer: TrialView; differs: string[] };
  sameChoice: TrialView[];
}

export function heldBackByChoice(
  trial: TrialView,
  peers: readonly TrialView[],
  direction: Direction,
  value: number,
  gap: number,
  learnedPeer: PeerLearned | undefined,
): HeldBackByChoice | undefined {
  const sign = direction === 'maximize' ? 1 : -1;
  const optimizer = optimizerOf(trial);
  // One optimizer: rates compare within it, and another optimizer would be a difference of its own.
  const ranked = peers.filter((p) => p.id !== trial.id && takesRank(p) && (optimizer === undefined || optimizerOf(p) === optimizer));
  const ahead = (p: TrialView) => sign * ((p.value as number) - value) >= gap;
  const better = ranked.filter((p) => ahead(p) && (learnedPeer === undefined || learnedPeer(p)));
  if (better.length === 0) return undefined;
  const optimizerKey = optimizerName(trial.params);
  const rateKey = learningRateName(trial.params);
  const isChoice = (k: string) => k !== optimizerKey && (typeof trial.params[k] === 'string' || typeof trial.params[k] === 'boolean');
  const own = (k: string) => trial.params[k];
  // frozen_layers counts as a choice when every better trial froze fewer: what it may train differs, not only the rate.
  const frozeFewer = (p: TrialView, k: string) =>
    k === 'frozen_layers' && typeof own(k) === 'number' && typeof p.params[k] === 'number' && p.params[k] < (own(k) as number);
  const allDiffer = Object.keys(trial.params).filter(
    (k) =>
      (isChoice(k) && better.every((p) => p.params[k] !== undefined && p.params[k] !== own(k))) || better.every((p) => frozeFewer(p, k)),
  );
  // Two choices every better trial changed: which of them it was, nothing here says.
  if (allDiffer.length !== 1) return undefined;
  const name = allDiffer[0] as string;
  const chosen = trial.params[name];
  // As in heldBackByFreezing: a trial of its optimizer that trained more layers and did not do
  // clearly better speaks against the frozen layers (at about its rate, it speaks for the rate).
  if (name === 'frozen_layers' && ranked.some((p) => frozeFewer(p, name) && !ahead(p))) return undefined;
  const best = better.reduce((b, p) => (sign * ((p.value as number) - (b.value as number)) > 0 ? p : b));
  const rate = learningRateOf(trial);
  // The better trial nearest its rate, within the same rate.
  const apart = (p: TrialView) => Math.abs(Math.log10((learningRateOf(p) ?? Number.NaN) / (rate as number)));
  const twinPeer =
    rate === undefined
      ? undefined
      : better.filter((p) => sameRate(learningRateOf(p) ?? Number.NaN, rate)).sort((a, b) => apart(a) - apart(b))[0];
  const twin = twinPeer && {
    peer: twinPeer,
    differs: [...new Set([...Object.keys(trial.params), ...Object.keys(twinPeer.params)])].filter(
      (k) => k !== rateKey && twinPeer.params[k] !== trial.params[k],
    ),
  };
  const rates = better.map(learningRateOf).filter((r): r is number => r !== undefined);
  const amongBetter = (r: number) =>
    rates.length > 0 && r >= Math.min(...rates) / RATE_TOLERANCE && r <= Math.max(...rates) * RATE_TOLERANCE;
  const sameChoice = ranked.filter((p) => {
    const r = learningRateOf(p);
    const ranAsLong = p.state === 'completed' || p.epochs.length >= trial.epochs.length;
    return (
      p.params[name] === chosen && !ahead(p) && ranAsLong && r !== undefined && (rate === undefined || !sameRate(r, rate)) && amongBetter(r)
    );
  });
  return { optimizer, name, own: String(chosen), better, best, ...(twin && { twin }), sameChoice };
}

/**
 * The best peer ahead of the trial by at least `gap`, and the parameters where it differs
 * ("optimizer=adam"). Failed and diverged trials are left out: never the one to copy.
 */
export function clearlyAhead(
  trial: TrialView,
  peers: readonly TrialView[],
  objective: { metric: string; direction: Direction },
  value: number,
  gap: number,
): { peer: TrialView; value: number; differs: string[] } | undefined {
  const sign = objective.direction === 'maximize' ? 1 : -1;
  let best: { peer: TrialView; value: number } | undefined;
  for (const p of peers) {
    if (p.id === trial.id || !takesRank(p) || sign * ((p.value as number) - value) < gap) continue;
    // A trial that diverged after its best epoch is no config to copy.
    if (divergence(p, objective.metric)) continue;
    if (!best || sign * ((p.value as number) - best.value) > 0) best = { peer: p, value: p.value as number };
  }
  if (!best) return undefined;
  const keys = [...new Set([...Object.keys(best.peer.params), ...Object.keys(trial.params)])];
  const differs = keys
    .filter((k) => best.peer.params[k] !== trial.params[k] && best.peer.params[k] !== undefined)
    .map((k) => {
      const v = best.peer.params[k];
      // Three significant digits: 0.00104 against a trial's 0.001 must not read as its own value.
      return `${k}=${typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(3))) : String(v)}`;
    });
  return { ...best, differs };
}

/**
 * Below a too-high trial's rate, what its peers that step like it (its optimizer and epsilon
 * regime) say about lower rates. A peer did not learn with no finite value, a divergence, or
 * where `learnedPeer` says so (undefined: only the first two count). Of those in [low, rate):
 *   - stillHigh: above every rate at which such a peer learned: still too high, so not rates to
 *     suggest either;
 *   - tooLow: below the lowest rate at which such a peer learned: too low, the other way, so not
 *     rates to suggest either (and no reason to go lower).
 * One between rates that learned is neither: noise, or something else than the rate.
 */
export function unlearnedBelow(
  trial: TrialView,
  peers: readonly TrialView[],
  range: { low: number; rate: number },
  learnedPeer: PeerLearned | undefined,
): { stillHigh: number[]; tooLow: number[] } {
  const alike = peers.filter(
    (p) => p.id !== trial.id && learningRateOf(p) !== undefined && p.epochs.length > 0 && stepsAlike(trial, p) && rateCouldTrain(p),
  );
  const didLearn = (p: TrialView) => {
    const finite = typeof p.value === 'number' && Number.isFinite(p.value);
    const diverged = p.reason !== undefined && /^(diverged|divergence)\b/.test(p.reason);
    return finite && !diverged && (learnedPeer === undefined || learnedPeer(p));
  };
  // Rates at which a trial that steps alike did learn (one that froze fewer layers, say) are no
  // rates that "did not learn", whatever else ran near them.
  const learnedRates = alike.filter((p) => takesRank(p) && didLearn(p)).map((p) => learningRateOf(p) as number);
  const learnedBelow = learnedRates.filter((l) => l < range.rate);
  const stillHigh: number[] = [];
  const tooLow: number[] = [];
  for (const p of alike) {
    const r = learningRateOf(p) as number;
    if (r < range.low || r >= range.rate || didLearn(p)) continue;
    if (learnedRates.some((l) => sameRate(l, r))) continue;
    if (learnedBelow.every((l) => l < r)) stillHigh.push(r);
    else if (learnedBelow.every((l) => l > r)) tooLow.push(r);
  }
  return { stillHigh, tooLow };
}

/** Whether two learning rates count as the same: within 0.15 decades (a factor of 1.4) of each other. */
export function sameRate(a: number, b: number): boolean {
  return Math.abs(Math.log10(a / b)) <= Math.log10(RATE_TOLERANCE);
}

/** Rates within this factor of each other are the same rate (0.15 decades). */
const RATE_TOLERANCE = 10 ** 0.15;
