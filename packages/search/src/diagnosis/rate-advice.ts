import type { TrialView } from '@sweepd/core';
import { divergence } from './evidence.ts';
import { learningRateOf, optimizerOf } from './param-names.ts';
import type { RatePosition } from './peers.ts';
import { formatRate, formatRateAmong, rangeOf, rangeText, val } from './words.ts';

/**
 * The learning rates a diagnosis suggests, and the sentences that say them: above the trial's rate
 * for "too low", below it for "too high", and what to check first when every rate diverged.
 */

/** One to two decades above the trial's rate, stretched to take in the higher rates that did better. */
export function raise(rate: number, position: RatePosition | undefined): { low: number; high: number } {
  const higher = position?.betterHigher ?? [];
  return { low: Math.min(rate * 10, ...higher), high: Math.max(rate * 100, ...higher) };
}

/**
 * " with adam" after a range of rates when the trial names its optimizer: a rate is a rate of one
 * optimizer, and advice to raise sgd's must not read as contradicting an answer that moves to adam.
 */
export function withOptimizer(trial: TrialView): string {
  const optimizer = optimizerOf(trial);
  return optimizer === undefined ? '' : ` with ${optimizer}`;
}

/**
 * The higher rates of the trial's group (its optimizer, and epsilon regime where it sets one) that
 * scored no better than it (within the margin: `tiedHigher`), when the range raise() gives starts at
 * or below the highest of them, R, and no higher rate up to R did better: rates up to R did not
 * help in this study, so the advice goes above R. Undefined otherwise.
 */
export function noBetterHigher(rate: number, position: RatePosition | undefined): { rates: number[]; highest: number } | undefined {
  const tied = position?.tiedHigher ?? [];
  if (tied.length === 0) return undefined;
  const highest = Math.max(...tied);
  if (raise(rate, position).low > highest || (position?.betterHigher ?? []).some((r) => r <= highest)) return undefined;
  return { rates: tied, highest };
}

/** "2 sgd trials at higher rates (8.5e-4 … 0.0046) did no better", or without `verb` "2 sgd trials at 8.5e-4 … 0.0046". */
export function noBetterHigherText(position: RatePosition, rates: readonly number[], verb = true): string {
  const who = rates.length === 1 ? `1 ${position.member}` : `${rates.length} ${position.group}`;
  return verb
    ? `${who} at ${rates.length === 1 ? 'a higher rate' : 'higher rates'} (${rangeOf(rates, position.rate)}) did no better`
    : `${who} at ${rangeOf(rates, position.rate)}`;
}

/** A peer that did clearly better, to name beside the rates: its number, value and the params where it differs. */
export interface AheadPeer {
  number: number;
  value: number;
  differs: string[];
}

/**
 * "Try learning rates a … b with sgd, above this trial's r." with the range it names. When peers of
 * its group at higher rates up to R did no better (noBetterHigher), rates up to R are not advised:
 * the advice says so, goes above R, and names `ahead`, the best trial that did clearly better, when given.
 */
export function raiseAdvice(
  trial: TrialView,
  rate: number,
  position: RatePosition | undefined,
  context?: { value: number; margin: number; ahead?: AheadPeer | undefined },
): { advice: string; suggestedLearningRate: { low: number; high: number } } {
  const none = context && position ? noBetterHigher(rate, position) : undefined;
  if (!none || !context || !position) {
    const range = raise(rate, position);
    return {
      advice: `Try learning rates ${rangeText(range, rate)}${withOptimizer(trial)}, above this trial's ${formatRateAmong(rate, [range.low, range.high])}.`,
      suggestedLearningRate: range,
    };
  }
  const R = formatRate(none.highest);
  const range = raise(none.highest, position);
  const { ahead } = context;
  const theirs =
    ahead && ahead.differs.length > 0
      ? `, or the settings of trial ${ahead.number}, which did clearly better (${val(ahead.value)}): ${ahead.differs.join(', ')}.`
      : '.';
  return {
    advice:
      `Rates up to ${R}${withOptimizer(trial)} did no better in this study ` +
      `(${noBetterHigherText(position, none.rates, false)}, within ${val(context.margin)} of this trial's ${val(context.value)}). ` +
      `Try learning rates ${rangeText(range, none.highest)}${withOptimizer(trial)}, above ${R}${theirs}`,
    suggestedLearningRate: range,
  };
}

/**
 * Two decades below the trial's rate, up to the highest lower rate that did better. Not down to the
 * lowest that did: a far lower rate that merely beat a diverged or dead trial may be too low itself.
 * But where the highest lower rate at which a better trial learned (`learnedBelow`) lies under
 * those two decades (a rate of 1e4 beside a trial that learned at 0.01), they hold no evidence:
 * from that rate up to two decades above it instead.
 */
export function lower(rate: number, position: RatePosition | undefined, learnedBelow?: number): { low: number; high: number } {
  const below = position?.betterLower ?? [];
  const high = Math.max(rate / 10, ...below);
  if (learnedBelow !== undefined && learnedBelow < high / 100) return { low: learnedBelow, high: Math.min(high, learnedBelow * 100) };
  return { low: high / 100, high };
}

/** For RMSProp or Adam with a tiny epsilon: the other way out than a lower rate. */
export function smallEpsilonAdvice(params: TrialView['params']): string {
  const eps = params.opt_epsilon;
  const optimizer = optimizerOf({ params });
  return typeof eps === 'number' && eps < 1e-3 && (optimizer === 'rmsprop' || optimizer === 'adam')
    ? ` Or keep the rate and raise opt_epsilon from ${formatRate(eps)} towards 0.1–1.0: with a tiny epsilon every weight steps by about the learning rate whatever its gradient.`
    : '';
}

/**
 * For Adam or RMSProp with an epsilon of 0.1 or more (TF-slim's default is 1.0): epsilon then
 * outweighs √v in the denominator, and the steps are about rate × gradient, as plain SGD's, far
 * smaller than the rate-sized steps these optimizers are tuned for. A second way out of "too low".
 */
export function largeEpsilonText(params: TrialView['params']): { summary: string; advice: string } | undefined {
  const eps = params.opt_epsilon;
  const optimizer = optimizerOf({ params });
  if (typeof eps !== 'number' || eps < 0.1 || !/adam|rmsprop/i.test(optimizer ?? '')) return undefined;
  // With a usual epsilon each weight steps by about the rate: above 0.01 that would tear the weights
  // apart, and below 1e-5 even such steps are too small to train in a few epochs.
  const rate = learningRateOf({ params });
  const usual = `to 1e-8 … 1e-3 (${optimizer}'s usual)`;
  return {
    summary: ` With opt_epsilon ${formatRate(eps)}, which outweighs √v in ${optimizer}'s denominator, its steps are about rate × gradient, as plain SGD's: far smaller than the rate.`,
    advice:
      rate !== undefined && rate < 1e-5
        ? ` Lower opt_epsilon from ${formatRate(eps)} ${usual} as well as raising the rate: at ${formatRate(rate)}, even steps of the rate's size are too small to train.`
        : rate !== undefined && rate <= 0.01
          ? ` Or keep the rate and lower opt_epsilon from ${formatRate(eps)} ${usual}, where its steps are about the rate's size.`
          : ` Or lower opt_epsilon from ${formatRate(eps)} ${usual} together with the rate, to about 1e-4 … 1e-3: with a usual epsilon each weight steps by about the rate.`,
  };
}

/**
 * The lowest learning rate among the trial's peers, when every peer that ran below the trial's rate
 * (with a rate) diverged too, and the lowest of them is at least 10 times lower; otherwise
 * undefined. (Peers only a little lower say nothing against the rate: 21 and 31 may both be too high.)
 */
export function lowestRateAlsoDiverged(
  trial: TrialView,
  peers: readonly TrialView[],
  metric: string,
  rate: number | undefined,
): number | undefined {
  if (rate === undefined) return undefined;
  let lowest: number | undefined;
  for (const p of peers) {
    const r = p.id === trial.id ? undefined : learningRateOf(p);
    if (r === undefined || r >= rate || p.epochs.length === 0) continue;
    if (!divergence(p, metric)) return undefined;
    lowest = Math.min(lowest ?? r, r);
  }
  return lowest !== undefined && rate / lowest >= 10 ? lowest : undefined;
}

/**
 * The range of learning rates, the trial's among them, when every other trial with a rate and an
 * epoch diverged too (at least one) and the rates span a factor of 10 or more; otherwise undefined.
 */
export function ratesIfAllDiverged(
  trial: TrialView,
  peers: readonly TrialView[],
  metric: string,
  rate: number | undefined,
): { low: number; high: number } | undefined {
  if (rate === undefined) return undefined;
  const others = peers.filter((p) => p.id !== trial.id && learningRateOf(p) !== undefined && p.epochs.length > 0);
  if (others.length === 0 || others.some((p) => !divergence(p, metric))) return undefined;
  const rates = [rate, ...others.map((p) => learningRateOf(p) as number)];
  const low = Math.min(...rates);
  const high = Math.max(...rates);
  return high / low >= 10 ? { low, high } : undefined;
}

/** What to say when suggested rates lie outside the study's range: searching them means widening it. */
export function outsideRange(
  suggested: { low: number; high: number },
  range: { low: number; high: number; name?: string },
): string | undefined {
  const span = `${formatRate(range.low)} … ${formatRate(range.high)}`;
  const name = range.name ?? 'learning_rate';
  if (suggested.high < range.low || suggested.low > range.high)
    return `The suggested rates lie outside this study's ${name} range (${span}): widen it to search them.`;
  if (suggested.low < range.low || suggested.high > range.high)
    return `Some of the suggested rates lie outside this study's ${name} range (${span}): widen it to search them.`;
  return undefined;
}
