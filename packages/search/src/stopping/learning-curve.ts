import type { Plugin, StopDecision, StoppingContext, StoppingRule, TrialView } from '@sweepd/core';
import { z } from 'zod';
import { type CurvePoint, curveResidual, upperBounds } from './curve-extrapolation.ts';
import { bestUpTo, fmt, lastEpoch, ordinal, othersOf, worseWord } from './history.ts';

/**
 * Learning-curve extrapolation (in the spirit of Domhan et al. 2015 and NNI's curve-fitting
 * assessor, with a simpler model): a trial stops when even an optimistic extrapolation of its own
 * curve to the last epoch cannot reach the k-th best value another trial has already reached.
 *
 * Unlike median and successive halving, it does not rank trials by where they are now, so a
 * trial that learns slowly but is still climbing steeply is kept, and a fast starter that has
 * flattened below the best is stopped. The extrapolation (curve-extrapolation.ts) fits
 * saturating exponentials of every time constant, and a straight line, and takes the highest
 * prediction among the shapes the data cannot rule out at `confidence` noise sd; the noise is
 * measured from the epoch-to-epoch jitter of the curves seen so far.
 */
export const learningCurveOptionsSchema = z.strictObject({
  /** Epochs a trial runs before it is judged (a line needs two points: 1 is useful only with initial_value). */
  min_epochs: z.number().int().min(1).default(2),
  /**
   * The metric's value before any training (e.g. 0.5 for the AUC of an untrained head): when
   * set, it is the curve's point at epoch 0, so a trial that has not moved from it after one
   * epoch can already be judged.
   */
  initial_value: z.number().finite().optional(),
  /** Optimism, in noise standard deviations, for both the curve's shape and its next values. */
  confidence: z.number().positive().default(2),
  /** The per-epoch noise sd of the metric; by default estimated from the curves (and the rule waits until it can be). */
  noise: z.number().positive().optional(),
  /** Compare with the k-th best value of the other trials (1 = the best). */
  top_k: z.number().int().min(1).default(1),
  /** The epoch the extrapolation aims at; defaults to the study's max_epochs. */
  max_epochs: z.number().int().min(2).optional(),
});
export type LearningCurveOptions = z.infer<typeof learningCurveOptionsSchema>;

/** Curves shorter than this say too little about their noise to be pooled into the estimate. */
const MIN_NOISE_POINTS = 5;
/** The noise is pooled over the latest this many curves: hundreds of residual degrees of freedom, at a bounded cost. */
const NOISE_CURVES = 64;

export function createLearningCurveRule(options: LearningCurveOptions, ctx: StoppingContext): StoppingRule {
  const { direction, metric } = ctx;
  const horizon = Math.min(options.max_epochs ?? ctx.maxEpochs, ctx.maxEpochs);
  // Everything below is computed for maximize; a minimized metric is negated on the way in and out.
  const sign = direction === 'maximize' ? 1 : -1;
  // Residual of each peer's curve, by trial id, refitted only when the curve grew or changed.
  // Epochs are stored once per number, so the count and the last record identify a curve's state.
  const residuals = new Map<string, { key: string; residual: ReturnType<typeof curveResidual> }>();
  const noiseOf = (trials: readonly TrialView[]): number => {
    let sse = 0;
    let dof = 0;
    const recent = trials
      .filter((p) => p.epochs.length >= MIN_NOISE_POINTS)
      .sort((a, b) => b.number - a.number || (a.id < b.id ? -1 : 1))
      .slice(0, NOISE_CURVES);
    for (const peer of recent) {
      const last = peer.epochs.at(-1);
      const key = `${peer.epochs.length}|${last?.epoch}|${last?.metrics[metric]}`;
      let cached = residuals.get(peer.id);
      if (cached?.key !== key) {
        const points = curveOf(peer, metric, sign);
        cached = { key, residual: points.length >= MIN_NOISE_POINTS ? curveResidual(points) : undefined };
        residuals.set(peer.id, cached);
      }
      if (cached.residual) {
        sse += cached.residual.sse;
        dof += cached.residual.dof;
      }
    }
    return dof > 0 ? Math.sqrt(sse / dof) : Number.NaN;
  };
  return {
    decide(trial: TrialView, peers: readonly TrialView[]): StopDecision {
      const e = lastEpoch(trial);
      if (e < options.min_epochs || e >= horizon) return { stop: false };
      const points = curveOf(trial, metric, sign);
      if (points.length < options.min_epochs) return { stop: false };

      const others = othersOf(trial, peers);
      const values = others
        .map((p) => bestUpTo(p, metric, direction, Number.POSITIVE_INFINITY))
        .filter((v): v is number => v !== undefined && Number.isFinite(v))
        .map((v) => sign * v)
        .sort((a, b) => b - a);
      const reference = values[options.top_k - 1];
      if (reference === undefined) return { stop: false };

      const sigma = options.noise ?? noiseOf(others);
      if (!(sigma > 0)) return { stop: false };
      const best = Math.max(...points.map((p) => p.y));
      // The model is monotone between the next epoch and the horizon, so those two ends bound it.
      // A reported epoch 0 (an evaluation before training) wins over the configured initial value.
      const anchor =
        options.initial_value === undefined || points.some((p) => p.t === 0) ? undefined : { t: 0, y: sign * options.initial_value };
      const upper = upperBounds(points, [e + 1, horizon], { sigma, z: options.confidence, ...(anchor ? { anchor } : {}) });
      if (!upper) return { stop: false };
      const reachable = Math.max(best, ...upper);
      if (reachable >= reference) return { stop: false };
      const kth = options.top_k === 1 ? 'the best' : `the ${ordinal(options.top_k)} best`;
      return {
        stop: true,
        reason:
          `learning-curve: after ${e} epochs, ${metric} extrapolated to epoch ${horizon} can reach ${fmt(sign * reachable)} at best ` +
          `(${options.confidence} sd optimism, noise sd ${fmt(sigma)}), ${worseWord(direction)} ${kth} ${fmt(sign * reference)} ` +
          `of ${values.length} other trials`,
      };
    },
  };
}

/** The finite values of `metric` by epoch (one per epoch, the last reported wins), signed for maximizing. */
function curveOf(trial: TrialView, metric: string, sign: number): CurvePoint[] {
  const byEpoch = new Map<number, number>();
  for (const record of trial.epochs) {
    const v = record.metrics[metric];
    if (typeof v === 'number' && Number.isFinite(v) && Number.isFinite(record.epoch)) byEpoch.set(record.epoch, sign * v);
  }
  return [...byEpoch].map(([t, y]) => ({ t, y })).sort((a, b) => a.t - b.t);
}

export const learningCurveRulePlugin: Plugin<'stopping', LearningCurveOptions> = {
  kind: 'stopping',
  name: 'learning-curve',
  description: "Stops a trial whose optimistically extrapolated learning curve cannot reach the best other trials' values.",
  parseOptions: (raw) => learningCurveOptionsSchema.parse(raw ?? {}),
  create: (options, ctx) => createLearningCurveRule(options, ctx),
};
