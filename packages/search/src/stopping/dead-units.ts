import type { EpochRecord, StopDecision, StoppingContext, StoppingRule, TrialView } from '@sweepd/core';
import { z } from 'zod';
import { fmt, lastEpoch, recordAt } from './history.ts';
import { stoppingPlugin } from './plugin.ts';

/**
 * Stops a trial whose ReLU units are dying: the largest `deadFraction` over the layers that
 * report one (the runner reports it for ReLU layers: units that are zero on the whole probe
 * batch) exceeds `threshold` and has risen over the last `patience` epochs — it did not fall
 * in any of them and ended higher than `patience` epochs before (or sits at 1, all units dead,
 * which cannot rise further).
 *
 * The maximum, not the mean: one layer whose units are mostly dead blocks the gradient to every
 * layer below it, however healthy the others are. When no layer reports deadFraction, the
 * runner's `notes.diagnostics.dying` flag on each of the last patience + 1 epochs is used.
 */
export const deadUnitsOptionsSchema = z.strictObject({
  threshold: z.number().min(0).max(1).default(0.5),
  patience: z.number().int().min(1).default(2),
  /** Never stops at epoch ≤ warmup_epochs. */
  warmup_epochs: z.number().int().min(0).default(1),
});
export type DeadUnitsOptions = z.infer<typeof deadUnitsOptionsSchema>;

function maxDead(record: EpochRecord | undefined): { layer: string; value: number } | undefined {
  let top: { layer: string; value: number } | undefined;
  for (const l of record?.layers ?? []) {
    const v = l.deadFraction;
    if (typeof v === 'number' && Number.isFinite(v) && (top === undefined || v > top.value)) top = { layer: l.layer, value: v };
  }
  return top;
}

function flaggedDying(record: EpochRecord | undefined): boolean {
  const diagnostics = record?.notes?.diagnostics as { dying?: unknown } | undefined;
  return !!diagnostics && typeof diagnostics === 'object' && diagnostics.dying === true;
}

export function createDeadUnitsRule(options: DeadUnitsOptions, _ctx: StoppingContext): StoppingRule {
  const { threshold, patience } = options;
  return {
    decide(trial: TrialView, _peers: readonly TrialView[]): StopDecision {
      const e = lastEpoch(trial);
      if (e <= options.warmup_epochs || e <= patience) return { stop: false };
      const series: Array<{ layer: string; value: number } | undefined> = [];
      for (let epoch = e - patience; epoch <= e; epoch++) series.push(maxDead(recordAt(trial, epoch)));
      const span = `epochs ${e - patience}–${e}`;
      if (series.every((s) => s === undefined)) {
        for (let epoch = e - patience; epoch <= e; epoch++) if (!flaggedDying(recordAt(trial, epoch))) return { stop: false };
        return { stop: true, reason: `dead-units: the runner flagged dying units on every epoch of ${span}` };
      }
      if (series.some((s) => s === undefined)) return { stop: false };
      const values = series.map((s) => (s as { value: number }).value);
      const now = values[values.length - 1] as number;
      const first = values[0] as number;
      if (!(now > threshold)) return { stop: false };
      for (let i = 1; i < values.length; i++) if ((values[i] as number) < (values[i - 1] as number)) return { stop: false };
      if (!(now > first) && now < 1) return { stop: false };
      const last = series[series.length - 1] as { layer: string; value: number };
      // At 1 from the start of the span it did not rise: every unit of a layer stayed dead.
      const course = now > first ? `rose from ${fmt(first)} to ${fmt(now)}` : `stayed at ${fmt(now)} (every unit of ${last.layer} dead)`;
      return {
        stop: true,
        reason:
          `dead-units: the largest dead-unit fraction ${course} over ${span} ` +
          `(${values.map(fmt).join(' → ')}), above the threshold ${fmt(threshold)}; worst layer at epoch ${e}: ${last.layer}`,
      };
    },
  };
}

export const deadUnitsRulePlugin = stoppingPlugin(
  'dead-units',
  'Stops a trial whose largest per-layer dead-ReLU fraction exceeds a threshold and keeps rising.',
  deadUnitsOptionsSchema,
  createDeadUnitsRule,
  (o) => ({ epoch: Math.max(o.warmup_epochs, o.patience) + 1, because: `warmup_epochs ${o.warmup_epochs}, patience ${o.patience}` }),
);
