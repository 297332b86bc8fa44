import type { Direction, EpochRecord, StopDecision, TrialView } from '@sweepd/core';
import { bestUpTo, firstRecordFrom, fmt, lastEpoch, median, ordinal } from './history.ts';

/**
 * The decision of Optuna's SuccessiveHalvingPruner (optuna/pruners/_successive_halving.py),
 * restated as a pure function of the histories:
 *
 * - Rung k is at epoch `grace · η^(s + k)` (s = min_early_stopping_rate); only rungs before
 *   `maxEpochs` exist, since a rung at the end of the budget saves nothing.
 * - A trial's value at rung k is its objective at the first epoch it reported at or after the
 *   rung (Optuna records the value of the step at which it first checks the rung).
 * - When the trial's latest epoch is where it records rung k, it competes with the rung-k values
 *   of every peer that reached the rung (any state). It is promoted when it is in the top
 *   ⌊n/η⌋ of the n values (at least the top one): for maximize `value ≥ sorted[n−1−idx]` with
 *   `idx = max(⌊n/η⌋ − 1, 0)`. So the best trial at a rung is always promoted, and a trial
 *   alone at a rung goes on.
 * - A trial promoted past a rung is never judged there again (ASHA never demotes). A NaN value
 *   at a rung stops the trial, as in Optuna. Optuna's bootstrap_count is not offered.
 *
 * Optuna's min_resource='auto' waits for a first completed trial; here the grace period is
 * explicit, which for a sequential study is the same (the first trial is alone at every rung).
 */
export interface HalvingPlan {
  grace: number;
  eta: number;
  /** min_early_stopping_rate (Optuna) / the bracket index (hyperband). */
  s: number;
  maxEpochs: number;
  /**
   * Slack on the promotion cutoff, in metric units: a trial within `tolerance` of the cutoff is
   * promoted too (default 0, Optuna's rule). With noisy validation metrics a trial a hair below
   * the cutoff is not measurably worse than the one at it.
   */
  tolerance?: number;
  /**
   * Slack as a multiple of the noise estimated from the peers' histories (see noiseEstimate);
   * added to `tolerance`. Default 0.
   */
  noiseTolerance?: number;
  /**
   * What a trial's rung value is: 'at' (default, Optuna) its objective at the first epoch
   * recorded at or after the rung; 'best' its best objective up to that epoch.
   */
  rungValue?: 'at' | 'best';
}

export function rungEpochs(plan: HalvingPlan): number[] {
  const rungs: number[] = [];
  for (let k = 0; ; k++) {
    const r = plan.grace * plan.eta ** (plan.s + k);
    if (!Number.isFinite(r) || r >= plan.maxEpochs) return rungs;
    rungs.push(r);
  }
}

export function decideHalving(
  label: string,
  plan: HalvingPlan,
  metric: string,
  direction: Direction,
  trial: TrialView,
  competitors: readonly TrialView[],
): StopDecision {
  const e = lastEpoch(trial);
  if (e === 0) return { stop: false };
  for (const [k, rung] of rungEpochs(plan).entries()) {
    if (rung > e) break;
    const record = firstRecordFrom(trial, rung);
    // Judged only where the rung is recorded; a rung recorded earlier was passed (promoted).
    if (!record || record.epoch !== e) continue;
    const value = rungValueOf(plan, trial, record, metric, direction);
    if (value === undefined) return { stop: false };
    if (!Number.isFinite(value)) return { stop: true, reason: `${label}: ${metric} is ${value} at rung ${k} (epoch ${rung})` };
    const competing: number[] = [value];
    for (const peer of competitors) {
      const peerRecord = firstRecordFrom(peer, rung);
      const v = peerRecord ? rungValueOf(plan, peer, peerRecord, metric, direction) : undefined;
      if (v !== undefined && Number.isFinite(v)) competing.push(v);
    }
    const n = competing.length;
    const idx = Math.max(Math.floor(n / plan.eta) - 1, 0);
    competing.sort((a, b) => a - b);
    const cutoff = (direction === 'maximize' ? competing[n - 1 - idx] : competing[idx]) as number;
    const slack = slackOf(plan, metric, competitors);
    const promoted = direction === 'maximize' ? value >= cutoff - slack : value <= cutoff + slack;
    if (!promoted) {
      const place = idx + 1;
      return {
        stop: true,
        reason:
          `${label}: ${metric} ${fmt(value)} at epoch ${record.epoch} (rung ${k}, epoch ${rung}) is not in the top 1/${plan.eta} of ` +
          `${n} trials at that rung: it needs ${direction === 'maximize' ? '≥' : '≤'} ${fmt(cutoff)}, the ${ordinal(place)} best` +
          (slack > 0 ? ` ${direction === 'maximize' ? '−' : '+'} ${fmt(slack)} tolerance` : ''),
      };
    }
  }
  return { stop: false };
}

function rungValueOf(plan: HalvingPlan, trial: TrialView, record: EpochRecord, metric: string, direction: Direction): number | undefined {
  const at = record.metrics[metric];
  if (plan.rungValue !== 'best' || at === undefined || !Number.isFinite(at)) return at;
  return bestUpTo(trial, metric, direction, record.epoch);
}

function slackOf(plan: HalvingPlan, metric: string, peers: readonly TrialView[]): number {
  const fixed = plan.tolerance ?? 0;
  if (!plan.noiseTolerance) return fixed;
  const noise = noiseEstimate(peers, metric);
  return Number.isFinite(noise) ? fixed + plan.noiseTolerance * noise : fixed;
}

/**
 * Per-epoch measurement noise (a standard deviation) of `metric`, estimated robustly from the
 * peers' curves: the median absolute second difference v[t−1] − 2v[t] + v[t+1] over every run of
 * three consecutive epochs, divided by 0.6745·√6 (for independent noise of sd σ a second
 * difference has sd σ√6, and 0.6745·sd is the median absolute value of a normal). Second
 * differences cancel a locally linear trend, so a curve still rising adds little; the median
 * ignores the few sharp bends. NaN when the peers hold no three consecutive finite epochs.
 */
export function noiseEstimate(peers: readonly TrialView[], metric: string): number {
  const d2: number[] = [];
  for (const peer of peers) {
    const byEpoch = new Map<number, number>();
    for (const e of peer.epochs) {
      const v = e.metrics[metric];
      if (typeof v === 'number' && Number.isFinite(v)) byEpoch.set(e.epoch, v);
    }
    for (const [epoch, v] of byEpoch) {
      const before = byEpoch.get(epoch - 1);
      const after = byEpoch.get(epoch + 1);
      if (before !== undefined && after !== undefined) d2.push(Math.abs(before - 2 * v + after));
    }
  }
  return median(d2) / (0.6745 * Math.sqrt(6));
}
