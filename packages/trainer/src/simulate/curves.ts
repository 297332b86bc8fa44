import type { Params, Rng } from '@sweepd/core';

/**
 * Learning curves the simulate runner replays: `(params, epoch, rng) => value` where epoch is
 * 1-based and rng is the trial's own seeded generator (draw from it in epoch order).
 */
export type CurveFn = (params: Params, epoch: number, rng: Rng) => number;

/**
 * The synthetic fine-tuning response of the public curve problem (`lr_auc` in
 * test/bench/references/pruning_optuna.py, `lr_auc_true` in problems.py):
 * a gaussian in log10(lr) around each optimizer's best rate, minus a penalty for freezing more
 * or fewer than 6 layers. Noise-free global maximum 0.950 (adam, lr 1e-4, 6 frozen).
 */
export const LR_CENTER: Readonly<Record<string, number>> = { sgd: -2.0, momentum: -2.5, rmsprop: -3.0, adam: -4.0 };
export const LR_PEAK: Readonly<Record<string, number>> = { sgd: 0.935, momentum: 0.94, rmsprop: 0.945, adam: 0.95 };
const LR_WIDTH = 0.8;
const FROZEN_BEST = 6;
const FROZEN_PEN = 0.002;
export const NOISE_SD = 0.005;

export function lrAucTrue(lr: number, optimizer: string, frozen: number): number {
  const center = LR_CENTER[optimizer];
  const peak = LR_PEAK[optimizer];
  if (center === undefined || peak === undefined)
    throw new Error(`unknown optimizer '${optimizer}' (known: ${Object.keys(LR_CENTER).join(', ')})`);
  const z = (Math.log10(lr) - center) / LR_WIDTH;
  return 0.5 + (peak - 0.5) * Math.exp(-0.5 * z * z) - FROZEN_PEN * (frozen - FROZEN_BEST) ** 2;
}

/** Convergence time constant in epochs: 2 at lr 1e-3, √10 times slower per decade lower, clipped to [0.5, 50]. */
export function tauOf(lr: number): number {
  return Math.min(50, Math.max(0.5, 2.0 * 10 ** (0.5 * (-3.0 - Math.log10(lr)))));
}

/** The anchor's `curve()` without noise: AUC after `epoch` epochs. */
export function lrAucAtEpoch(lr: number, optimizer: string, frozen: number, epoch: number): number {
  const final = lrAucTrue(lr, optimizer, frozen);
  return final - (final - 0.5) * Math.exp(-epoch / tauOf(lr));
}

/** Reads lr / optimizer / frozen under the anchor's names or the spec's (learning_rate, frozen_layers). */
export function lrAucParams(params: Params): { lr: number; optimizer: string; frozen: number } {
  const lr = params.learning_rate ?? params.lr;
  const optimizer = params.optimizer;
  const frozen = params.frozen_layers ?? params.frozen ?? FROZEN_BEST;
  if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr)) {
    throw new Error(`curve lr_auc needs params.learning_rate (or lr) as a positive number; got ${JSON.stringify(lr)}`);
  }
  if (typeof optimizer !== 'string' || !(optimizer in LR_CENTER)) {
    throw new Error(`curve lr_auc needs params.optimizer, one of ${Object.keys(LR_CENTER).join(', ')}; got ${JSON.stringify(optimizer)}`);
  }
  if (typeof frozen !== 'number' || !Number.isFinite(frozen)) {
    throw new Error(`curve lr_auc needs params.frozen_layers (or frozen) as a number; got ${JSON.stringify(frozen)}`);
  }
  return { lr, optimizer, frozen };
}

/** The anchor's learning-curve variant: noise-free curve + N(0, 0.005²) drawn from the trial's rng. */
export const lrAucCurve: CurveFn = (params, epoch, rng) => {
  const { lr, optimizer, frozen } = lrAucParams(params);
  return lrAucAtEpoch(lr, optimizer, frozen, epoch) + NOISE_SD * rng.normal();
};

export const builtinCurves: Readonly<Record<string, CurveFn>> = { lr_auc: lrAucCurve };
