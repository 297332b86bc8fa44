import { divergedNote, type StopDecision, type StoppingContext, type StoppingRule, type TrialView } from '@sweepd/core';
import { z } from 'zod';
import { fmt, lastEpoch } from './history.ts';
import { stoppingPlugin } from './plugin.ts';

/**
 * Stops a diverging trial: a NaN or ±Infinity in any of `metrics` (train_loss, val_loss) at any
 * reported epoch, an epoch its runner flagged as diverged (`notes.diverged`: NaN outputs, or
 * weights gone non-finite), or a train_loss above `factor` × the first finite positive train_loss
 * — or, given `initial_loss` (the loss before training), above `factor` × that at any epoch: a
 * loss that blew up within the first epoch is its own first value, and Keras clips binary
 * cross-entropy so that it never turns NaN (6.7e10 at epoch 1, then 250, 150 …).
 * NaN is fatal at once (warmup_epochs 0 by default): no later epoch can repair the weights.
 */
export const divergenceOptionsSchema = z.strictObject({
  factor: z.number().gt(1).default(10),
  metrics: z.array(z.string().min(1)).min(1).default(['train_loss', 'val_loss']),
  /** The loss whose growth is measured against its first value. */
  loss_metric: z.string().min(1).default('train_loss'),
  /** The loss before any training (ln 2 ≈ 0.693 for binary cross-entropy from an untrained head, ln C for a C-way softmax). */
  initial_loss: z.number().gt(0).optional(),
  /** Never stops at epoch ≤ warmup_epochs. */
  warmup_epochs: z.number().int().min(0).default(0),
});
export type DivergenceOptions = z.infer<typeof divergenceOptionsSchema>;

export function createDivergenceRule(options: DivergenceOptions, _ctx: StoppingContext): StoppingRule {
  return {
    decide(trial: TrialView, _peers: readonly TrialView[]): StopDecision {
      const e = lastEpoch(trial);
      if (e === 0 || e <= options.warmup_epochs) return { stop: false };
      const ordered = [...trial.epochs].sort((a, b) => a.epoch - b.epoch);
      for (const record of ordered) {
        for (const metric of options.metrics) {
          const v = record.metrics[metric];
          if (typeof v === 'number' && !Number.isFinite(v))
            return { stop: true, reason: `divergence: ${metric} is ${v} at epoch ${record.epoch}` };
        }
        if (record.notes?.diverged === true) return { stop: true, reason: `divergence: ${divergedNote(record)}` };
      }
      const first = ordered.find((r) => {
        const v = r.metrics[options.loss_metric];
        return typeof v === 'number' && Number.isFinite(v) && v > 0;
      });
      const latest = ordered[ordered.length - 1];
      const now = latest?.metrics[options.loss_metric];
      if (options.initial_loss !== undefined && latest && typeof now === 'number' && now > options.factor * options.initial_loss) {
        return {
          stop: true,
          reason: `divergence: ${options.loss_metric} ${fmt(now)} at epoch ${latest.epoch} is more than ${fmt(options.factor)} × the loss before training ${fmt(options.initial_loss)} (initial_loss)`,
        };
      }
      const base = first?.metrics[options.loss_metric];
      if (first && latest && base !== undefined && now !== undefined && latest.epoch > first.epoch && now > options.factor * base) {
        return {
          stop: true,
          reason: `divergence: ${options.loss_metric} ${fmt(now)} at epoch ${latest.epoch} is more than ${fmt(options.factor)} × its first value ${fmt(base)} (epoch ${first.epoch})`,
        };
      }
      return { stop: false };
    },
  };
}

export const divergenceRulePlugin = stoppingPlugin(
  'divergence',
  'Stops a trial whose losses become NaN/Inf or whose training loss grows beyond a factor of its first value.',
  divergenceOptionsSchema,
  createDivergenceRule,
  (o) => ({ epoch: o.warmup_epochs + 1, because: `warmup_epochs ${o.warmup_epochs}` }),
);
