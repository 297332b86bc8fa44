import type { StopDecision, StoppingContext, StoppingRule, TrialView } from '@sweepd/core';
import { z } from 'zod';
import { type CurvePoint, curveResidual, upperBounds } from './curve-extrapolation.ts';
import { bestUpTo, fmt, lastEpoch, median, ordinal, othersOf, recordAt, worseWord } from './history.ts';
import { peerGain } from './peer-gains.ts';
import { stoppingPlugin } from './plugin.ts';

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
 * measured from the residuals of the peers' fitted curves (createNoiseMeter). Options add
 * power-law shapes (curves still rising as a power of time), a longest time constant (every
 * curve bends within it: no straight-line optimism), and comparison with the peers' values at
 * the horizon rather than their noise peaks (reference 'final'), and a second prediction from the
 * study's own trials that reached the horizon: what the most similar of them gained after the
 * trial's epoch (peer_gains, peer-gains.ts).
 */
const learningCurveOptionsObject = z.strictObject({
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
  /**
   * While no peer's curve is long enough for the noise to be measured from its fit (the first
   * trials after a start-up screen), take it from the peers' values worse than initial_value
   * instead: the root mean square of their distances below it. Untrained configurations hover
   * at initial_value, so these are mostly noise (a half-normal's RMS is the noise sd); a curve
   * that truly ends below its start (an inverted or diverged run) makes the estimate high, which
   * errs towards stopping less. With fewer than `min_samples` such values the rule still waits.
   * Needs initial_value. In the pruning benchmark, without it the first trial after the screen
   * ran all its epochs in about 9 studies in 10, however poor; min_samples 2 (the default) saved
   * about 10 epochs a study at the same best finals, 4 about 5.
   */
  initial_noise: z.strictObject({ min_samples: z.number().int().min(1).default(2) }).optional(),
  /** Compare with the k-th best value of the other trials (1 = the best). */
  top_k: z.number().int().min(1).default(1),
  /**
   * The epoch the extrapolation aims at, compared with the peers' best up to that epoch; trials
   * past it are not judged. Defaults to the study's max_epochs.
   */
  max_epochs: z.number().int().min(2).optional(),
  /**
   * The optimism (noise sds) for a trial that is behind the leaders: at its epoch e its best
   * value so far is worse than the best up to e of each of the `leaders` best other trials that
   * reached e. Curves rarely overtake every leading curve, and a late bloomer among the leaders
   * keeps later ones of its kind from counting as behind. Defaults to `confidence` (no difference).
   */
  behind_confidence: z.number().positive().optional(),
  /** How many of the best other trials a trial must be behind for `behind_confidence`. */
  leaders: z.number().int().min(1).default(3),
  /**
   * What a trial must be able to reach: `best` = the other trials' best values up to the horizon
   * (noise peaks included); `final` = their values at the horizon itself (only trials that reached
   * it count), reached by the trial's own extrapolated value at the horizon — the figure a study
   * keeps when it reads each trial's last epoch.
   */
  reference: z.enum(['best', 'final']).default('best'),
  /**
   * Exponents α of power-law shapes (1 + t/τ)^−α the extrapolation tries beside the exponentials
   * (curve-extrapolation.ts): for curves that keep rising slowly, as a power of time. Empty = exponentials only.
   */
  power_exponents: z.array(z.number().positive()).max(8).default([]),
  /**
   * The longest time constant, in epochs, the extrapolation allows a curve (no straight line
   * then): a curve is assumed to bend within it. Unbounded by default.
   */
  max_time_constant: z.number().min(0.25).optional(),
  /**
   * From trial number `from_trial` on, a trial behind the leaders gets `behind_confidence` of this
   * instead: late in a study the strategy is refining a region it knows, and a near-leading
   * trial there that finishes is one more measurement of the best region (its last epoch another
   * draw of the noise), so it is given more optimism than an early one.
   */
  late: z.strictObject({ from_trial: z.number().int().min(0), behind_confidence: z.number().positive() }).optional(),
  /**
   * A second, peer-based prediction (peer-gains.ts): the trial's value at its epoch e plus the
   * `quantile` of what its `neighbours` most similar other trials that reached the horizon (same
   * categorical choices first — only those with `same_choices` — then nearest in the numeric params
   * and in the curve up to e) gained from e to the horizon, plus `confidence` noise sd (default: the
   * trial's optimism). With fewer than `min_peers` such trials the extrapolation alone decides.
   * role 'keep': the trial stops only when neither prediction reaches the reference (a late
   * bloomer whose look-alikes bloomed is kept); 'stop': it also stops, from epoch `from_epoch`
   * on, when the peers' prediction cannot reach it though the extrapolation can (its look-alikes
   * flattened).
   */
  peer_gains: z
    .strictObject({
      neighbours: z.number().int().min(1).default(5),
      quantile: z.number().min(0).max(1).default(0.9),
      min_peers: z.number().int().min(1).default(3),
      confidence: z.number().min(0).optional(),
      same_choices: z.boolean().default(false),
      role: z.enum(['keep', 'stop']).default('keep'),
      from_epoch: z.number().int().min(1).default(1),
    })
    .optional(),
});
/** The options as checked: initial_noise reads its noise below initial_value, so needs it. */
export const learningCurveOptionsSchema = learningCurveOptionsObject.refine(
  (o) => o.initial_noise === undefined || o.initial_value !== undefined,
  { path: ['initial_noise'], message: 'reads the noise from the values below initial_value: give initial_value too' },
);
export type LearningCurveOptions = z.infer<typeof learningCurveOptionsSchema>;

/** Curves shorter than this say too little about their noise to be pooled into the estimate. */
const MIN_NOISE_POINTS = 5;
/** The noise is pooled over the latest this many curves: hundreds of residual degrees of freedom, at a bounded cost. */
const NOISE_CURVES = 64;
/** A curve whose residual variance is more than this many times the median curve's (a diverged run, a spike) is left out. */
const OUTLIER_VARIANCE_RATIO = 9;

/**
 * Measures the per-epoch noise of the metric from the latest peers' curves: the residuals of each
 * curve's best-fitting shape (so the rise itself is not counted as noise), pooled as Σ SSE / Σ dof
 * over the curves whose residual variance is within OUTLIER_VARIANCE_RATIO of the median curve's,
 * so that one diverged or spiking peer cannot switch the rule off. NaN when no peer has
 * MIN_NOISE_POINTS finite epochs yet. Fits are cached by trial id and refitted whenever any of the
 * curve's (epoch, value) pairs differs from what was fitted (a retried trial may rewrite them).
 */
export function createNoiseMeter(metric: string, sign: number): (peers: readonly TrialView[]) => number {
  const fitted = new Map<string, { key: string; residual: ReturnType<typeof curveResidual> }>();
  return (peers) => {
    const recent = peers
      .filter((p) => p.epochs.length >= MIN_NOISE_POINTS)
      .sort((a, b) => b.number - a.number || (a.id < b.id ? -1 : 1))
      .slice(0, NOISE_CURVES);
    const residuals: Array<{ sse: number; dof: number }> = [];
    for (const peer of recent) {
      const points = curveOf(peer, metric, sign);
      const key = points.map((p) => `${p.t}:${p.y}`).join(',');
      let cached = fitted.get(peer.id);
      if (cached?.key !== key) {
        cached = { key, residual: points.length >= MIN_NOISE_POINTS ? curveResidual(points) : undefined };
        fitted.set(peer.id, cached);
      }
      if (cached.residual && Number.isFinite(cached.residual.sse)) residuals.push(cached.residual);
    }
    if (residuals.length === 0) return Number.NaN;
    const typical = median(residuals.map((r) => r.sse / r.dof));
    let sse = 0;
    let dof = 0;
    for (const r of residuals) {
      if (r.sse / r.dof > OUTLIER_VARIANCE_RATIO * typical) continue;
      sse += r.sse;
      dof += r.dof;
    }
    return Math.sqrt(sse / dof);
  };
}

export function createLearningCurveRule(options: LearningCurveOptions, ctx: StoppingContext): StoppingRule {
  const { direction, metric } = ctx;
  const horizon = Math.min(options.max_epochs ?? ctx.maxEpochs, ctx.maxEpochs);
  // Everything below is computed for maximize; a minimized metric is negated on the way in and out.
  const sign = direction === 'maximize' ? 1 : -1;
  const noiseOf = createNoiseMeter(metric, sign);
  return {
    decide(trial: TrialView, peers: readonly TrialView[]): StopDecision {
      const e = lastEpoch(trial);
      if (e < options.min_epochs || e >= horizon) return { stop: false };
      const points = curveOf(trial, metric, sign);
      if (points.length < options.min_epochs) return { stop: false };

      const others = othersOf(trial, peers);
      // Like with like: the peers' best up to the horizon the trial is extrapolated to, or with
      // reference 'final' their values at the horizon (their best so far while none has reached it).
      let ranked = rank(others, options.reference);
      const fellBack = ranked.length === 0 && options.reference === 'final';
      if (fellBack) ranked = rank(others, 'best');
      const values = ranked.map((r) => r.value);
      const reference = values[options.top_k - 1];
      if (reference === undefined) return { stop: false };

      let sigma = options.noise ?? noiseOf(others);
      if (!(sigma > 0) && options.initial_noise && options.initial_value !== undefined) {
        sigma = belowInitialNoise(others, sign * options.initial_value, options.initial_noise.min_samples);
      }
      if (!(sigma > 0)) return { stop: false };
      const best = Math.max(...points.map((p) => p.y));
      // A reported epoch 0 (an evaluation before training) wins over the configured initial value.
      const anchor =
        options.initial_value === undefined || points.some((p) => p.t === 0) ? undefined : { t: 0, y: sign * options.initial_value };
      const late = options.late !== undefined && trial.number >= options.late.from_trial;
      const behindZ = late ? (options.late?.behind_confidence as number) : (options.behind_confidence ?? options.confidence);
      const behind = behindZ !== options.confidence && isBehind(best, e, ranked.slice(0, options.leaders));
      const z = behind ? behindZ : options.confidence;
      // Each shape's bound is convex in g(t) and g is monotone in t, so over the epochs still to
      // come it is highest at one of the two ends: the next epoch or the horizon.
      const upper = upperBounds(points, [e + 1, horizon], {
        sigma,
        z,
        powerExponents: options.power_exponents,
        ...(options.max_time_constant !== undefined ? { maxTimeConstant: options.max_time_constant } : {}),
        ...(anchor ? { anchor } : {}),
      });
      if (!upper) return { stop: false };
      // Against final values only the horizon counts: a noise peak on the way there is not kept.
      const final = options.reference === 'final';
      const reachable = final ? (upper[1] as number) : Math.max(best, ...upper);
      const extrapolated = reachable >= reference;
      const peerOptions = options.peer_gains;
      if (extrapolated && peerOptions?.role !== 'stop') return { stop: false };
      let peerNote = '';
      if (peerOptions) {
        const own = points.find((p) => p.t === e)?.y ?? (points[points.length - 1] as CurvePoint).y;
        const predicted = peerGain(trial, others, e, horizon, metric, sign, peerOptions);
        const peerReach = predicted && own + predicted.gain + (peerOptions.confidence ?? z) * sigma;
        const peersReach = peerReach === undefined || peerReach >= reference;
        // keep: either prediction reaching the reference keeps the trial; stop: both must (the peers' from from_epoch on).
        if (peerOptions.role === 'keep' ? predicted && peersReach : extrapolated && (peersReach || e < peerOptions.from_epoch)) {
          return { stop: false };
        }
        if (predicted && peerReach !== undefined) {
          peerNote = `; its ${predicted.peers} most similar trials' gains after epoch ${e} reach ${fmt(sign * peerReach)} at best`;
        }
      }
      const kth = options.top_k === 1 ? 'the best' : `the ${ordinal(options.top_k)} best`;
      return {
        stop: true,
        reason:
          `learning-curve: after ${e} epochs, ` +
          (extrapolated
            ? `${metric} at epoch ${horizon} predicted from its${peerNote.slice('; its'.length)} `
            : `${metric} extrapolated to epoch ${horizon} can reach ${fmt(sign * reachable)} at best `) +
          `(${z} sd optimism${behind ? `, behind the ${options.leaders} leading trials at epoch ${e}${late ? `, trial ${options.late?.from_trial} or later` : ''}` : ''}, noise sd ${fmt(sigma)}), ` +
          `${worseWord(direction)} ${kth}${final && !fellBack ? ` value at epoch ${horizon}` : ''} ${fmt(sign * reference)} ` +
          `of ${values.length} other trials${extrapolated ? ` (the extrapolation reaches ${fmt(sign * reachable)})` : peerNote}`,
      };
    },
  };

  /** The RMS of the peers' (signed) values below `start`, or NaN with fewer than `minSamples` of them. */
  function belowInitialNoise(others: readonly TrialView[], start: number, minSamples: number): number {
    let sum = 0;
    let n = 0;
    for (const peer of others) {
      for (const { y } of curveOf(peer, metric, sign)) {
        if (y < start) {
          sum += (y - start) ** 2;
          n++;
        }
      }
    }
    return n >= minSamples ? Math.sqrt(sum / n) : Number.NaN;
  }

  /** The peers with a finite value to reach, best first (signed): each one's best up to the horizon, or its value at the horizon. */
  function rank(others: readonly TrialView[], kind: 'best' | 'final'): Array<{ peer: TrialView; value: number }> {
    return others
      .map((peer) => {
        const v = kind === 'best' ? bestUpTo(peer, metric, direction, horizon) : recordAt(peer, horizon)?.metrics[metric];
        return { peer, value: sign * (typeof v === 'number' ? v : Number.NaN) };
      })
      .filter((r) => Number.isFinite(r.value))
      .sort((a, b) => b.value - a.value);
  }

  /** Whether `best` (signed) is worse than each leader's best up to epoch e, over the leaders that reached e (at least one). */
  function isBehind(best: number, e: number, leaders: ReadonlyArray<{ peer: TrialView }>): boolean {
    let compared = 0;
    for (const { peer } of leaders) {
      if (lastEpoch(peer) < e) continue;
      const theirs = bestUpTo(peer, metric, direction, e);
      if (theirs === undefined || !Number.isFinite(theirs)) continue;
      if (!(best < sign * theirs)) return false;
      compared++;
    }
    return compared > 0;
  }
}

/** The finite values of `metric` by epoch (one per epoch, the last reported wins), signed for maximizing. */
export function curveOf(trial: TrialView, metric: string, sign: number): CurvePoint[] {
  const byEpoch = new Map<number, number>();
  for (const record of trial.epochs) {
    const v = record.metrics[metric];
    if (typeof v === 'number' && Number.isFinite(v) && Number.isFinite(record.epoch)) byEpoch.set(record.epoch, sign * v);
  }
  return [...byEpoch].map(([t, y]) => ({ t, y })).sort((a, b) => a.t - b.t);
}

export const learningCurveRulePlugin = stoppingPlugin(
  'learning-curve',
  "Stops a trial whose optimistically extrapolated learning curve cannot reach the best other trials' values.",
  learningCurveOptionsSchema,
  createLearningCurveRule,
  (o, maxEpochs) => {
    // It judges epochs from min_epochs up to (not at) its horizon.
    const horizon = Math.min(o.max_epochs ?? maxEpochs, maxEpochs);
    return {
      epoch: o.min_epochs < horizon ? o.min_epochs : undefined,
      because: `min_epochs ${o.min_epochs}${o.max_epochs !== undefined ? ` (max_epochs ${o.max_epochs})` : ''}`,
    };
  },
);
