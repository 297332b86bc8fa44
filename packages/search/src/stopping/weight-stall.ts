import {
  type EpochRecord,
  type StopDecision,
  type StoppingContext,
  type StoppingRule,
  type TrialView,
  untrainedLayers,
} from '@sweepd/core';
import { z } from 'zod';
import { bestUpTo, fmt, lastEpoch, recordAt } from './history.ts';
import { stoppingPlugin } from './plugin.ts';

/**
 * Stops a trial whose weights have stopped moving: for `patience` consecutive epochs every
 * trainable layer that reports a kernel `updateRatio` (‖W_t − W_{t−1}‖ / ‖W_{t−1}‖) moved
 * less than `threshold`, while the best objective improved by no more than `min_delta` over
 * all the epochs its kernels have been still (not only the last `patience`: static kernels with a
 * rising metric are fine-tuning at work, not a stall). The symptom the practitioner saw: "the
 * weight histograms barely move". A trial none of whose reported layers with weights trained
 * (every one frozen and reporting no move, or, read off event files, not one histogram changed
 * since the first) is still in every epoch.
 * When no layer reports updateRatio, the runner's `notes.diagnostics.stalled` flag is used instead;
 * with neither, the rule cannot tell and never stops.
 */
export const weightStallOptionsSchema = z.strictObject({
  /** Consecutive stalled epochs before stopping. */
  patience: z.number().int().min(1).default(2),
  /** A kernel whose updateRatio is below this did not move in that epoch. */
  threshold: z.number().positive().default(1e-4),
  /** Improvement of the best objective over the stalled epochs (objective units) that still counts as progress. */
  min_delta: z.number().min(0).default(1e-3),
  /** Never stops at epoch ≤ warmup_epochs. */
  warmup_epochs: z.number().int().min(0).default(1),
});
export type WeightStallOptions = z.infer<typeof weightStallOptionsSchema>;

interface StallReading {
  stalled: boolean;
  /** The layer that moved most, when layers were read. */
  top?: { layer: string; ratio: number };
  layers: string[];
  /** Every reported layer with weights was frozen (`histograms`: no histogram changed, as event files tell it): how many. */
  untrainable?: { layers: number; histograms: boolean };
}

/** `firstWithLayers`: the trial's first epoch with layer statistics. */
function readStall(record: EpochRecord, threshold: number, firstWithLayers: number): StallReading | undefined {
  const untrainable = untrainedLayers(record);
  if (untrainable) {
    // A histogram is "unchanged" against the first one seen: at that first epoch it says nothing.
    if (untrainable.histograms && record.epoch <= firstWithLayers) return undefined;
    return { stalled: true, layers: [], untrainable };
  }
  const kernels = record.layers.filter((l) => l.trainable && typeof l.updateRatio === 'number');
  if (kernels.length > 0) {
    let top: { layer: string; ratio: number } | undefined;
    let stalled = true;
    for (const l of kernels) {
      const ratio = l.updateRatio as number;
      // NaN is not "not moving": that is the divergence rule's business.
      if (!Number.isFinite(ratio) || ratio >= threshold) stalled = false;
      if (top === undefined || !(ratio <= top.ratio)) top = { layer: l.layer, ratio };
    }
    return { stalled, layers: kernels.map((l) => l.layer), ...(top ? { top } : {}) };
  }
  const diagnostics = record.notes?.diagnostics as { stalled?: unknown } | undefined;
  if (diagnostics && typeof diagnostics === 'object' && typeof diagnostics.stalled === 'boolean') {
    return { stalled: diagnostics.stalled, layers: [] };
  }
  return undefined;
}

export function createWeightStallRule(options: WeightStallOptions, ctx: StoppingContext): StoppingRule {
  const { patience, threshold, min_delta } = options;
  return {
    decide(trial: TrialView, _peers: readonly TrialView[]): StopDecision {
      const e = lastEpoch(trial);
      if (e <= options.warmup_epochs || e <= patience) return { stop: false };
      const firstWithLayers = Math.min(...trial.epochs.filter((r) => r.layers.length > 0).map((r) => r.epoch));
      const readings: StallReading[] = [];
      for (let epoch = e - patience + 1; epoch <= e; epoch++) {
        const record = recordAt(trial, epoch);
        const reading = record && readStall(record, threshold, firstWithLayers);
        if (!reading?.stalled) return { stop: false };
        readings.push(reading);
      }
      // The objective must have been flat for as long as the kernels have been still, not only over
      // the last `patience` epochs: a pretrained network fine-tuned at a modest rate keeps its
      // kernels nearly static from the first epoch while the head, the biases and BatchNorm learn
      // (InceptionV4, TF1 RMSProp 0.01: kernels moved 0.47 % while the AUC rose 0.86 → 0.92).
      // A plateau it reaches that way is not a stall.
      let still = e - patience + 1;
      while (still > 1) {
        const record = recordAt(trial, still - 1);
        if (!(record && readStall(record, threshold, firstWithLayers)?.stalled)) break;
        still--;
      }
      const before = bestUpTo(trial, ctx.metric, ctx.direction, still === 1 ? 1 : still - 1);
      const now = bestUpTo(trial, ctx.metric, ctx.direction, e);
      let progress = '';
      if (now !== undefined) {
        if (before === undefined) return { stop: false }; // the objective appeared only now: that is progress
        const gain = ctx.direction === 'maximize' ? now - before : before - now;
        if (gain > min_delta) return { stop: false };
        const since = still === 1 ? ' since epoch 1' : still < e - patience + 1 ? ` since epoch ${still - 1}` : '';
        progress = ` while best ${ctx.metric} improved by only ${fmt(gain)}${since} (${fmt(before)} → ${fmt(now)}; min_delta ${fmt(min_delta)})`;
      }
      const span = patience === 1 ? `epoch ${e}` : `epochs ${e - patience + 1}–${e}`;
      const last = readings[readings.length - 1] as StallReading;
      const what = last.untrainable
        ? last.untrainable.histograms
          ? `not one weight histogram of its ${last.untrainable.layers} reported layer(s) changed for ${patience} epoch(s) (${span})`
          : `none of its ${last.untrainable.layers} reported layer(s) with weights is trainable (all frozen) for ${patience} epoch(s) (${span})`
        : last.layers.length > 0
          ? `every trainable kernel (${listLayers(last.layers)}) moved less than ${fmt(threshold)} per epoch for ${patience} epoch(s) (${span}; ` +
            `largest updateRatio ${fmt(Math.max(...readings.map((r) => r.top?.ratio ?? 0)))} in ${topLayer(readings)})`
          : `the runner flagged the weights as stalled for ${patience} epoch(s) (${span})`;
      return { stop: true, reason: `weight-stall: ${what}${progress}` };
    },
  };
}

function topLayer(readings: readonly StallReading[]): string {
  let best: { layer: string; ratio: number } | undefined;
  for (const r of readings) if (r.top && (best === undefined || r.top.ratio > best.ratio)) best = r.top;
  return best?.layer ?? 'none';
}

export function listLayers(layers: readonly string[], max = 5): string {
  return layers.length <= max ? layers.join(', ') : `${layers.slice(0, max).join(', ')} and ${layers.length - max} more`;
}

export const weightStallRulePlugin = stoppingPlugin(
  'weight-stall',
  'Stops a trial whose trainable kernels stopped moving (updateRatio below a threshold) while the objective does not improve.',
  weightStallOptionsSchema,
  createWeightStallRule,
  (o) => ({ epoch: Math.max(o.warmup_epochs, o.patience) + 1, because: `warmup_epochs ${o.warmup_epochs}, patience ${o.patience}` }),
);
