import type { LayerStats } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { createDeadUnitsRule, deadUnitsRulePlugin } from './dead-units.ts';
import { createDivergenceRule, divergenceRulePlugin } from './divergence.ts';
import { flat, METRIC, trial, upTo } from './test-histories.ts';
import { createWeightStallRule, weightStallRulePlugin } from './weight-stall.ts';

const ctx = { direction: 'maximize' as const, metric: METRIC, maxEpochs: 20 };

/** Three layers: a frozen stem (never moves) and two trainable ones with the given update ratios. */
const layers =
  (ratio: (epoch: number) => number, dead: (epoch: number) => number = () => 0.1) =>
  (epoch: number): LayerStats[] => [
    { layer: 'stem', trainable: false, updateRatio: 0, deadFraction: 0.05 },
    { layer: 'conv2', trainable: true, updateRatio: ratio(epoch) / 2, deadFraction: dead(epoch) / 2 },
    { layer: 'head', trainable: true, updateRatio: ratio(epoch) },
  ];

describe('weight-stall rule', () => {
  const rule = (raw: unknown = {}) => createWeightStallRule(weightStallRulePlugin.parseOptions(raw), ctx);
  // Moves normally for 3 epochs, then 1e-5 per epoch; the objective creeps up by 0.0002 a stalled epoch.
  const stalls = trial(1, [0.6, 0.65, 0.7, 0.7002, 0.7004, 0.7006], { layers: layers((e) => (e <= 3 ? 1e-2 : 4e-5)) });

  it('stops after `patience` stalled epochs without progress, naming layers and numbers', () => {
    expect(rule().decide(upTo(stalls, 4), []).stop).toBe(false);
    expect(rule().decide(upTo(stalls, 5), [])).toEqual({
      stop: true,
      reason:
        'weight-stall: every trainable kernel (conv2, head) moved less than 1.00e-4 per epoch for 2 epoch(s) (epochs 4–5; largest updateRatio 4.00e-5 in head) while best val_auc improved by only 4.00e-4 (0.7 → 0.7004; min_delta 0.001)',
    });
    expect(rule({ patience: 3 }).decide(upTo(stalls, 5), []).stop).toBe(false);
    expect(rule({ patience: 3 }).decide(upTo(stalls, 6), []).stop).toBe(true);
  });

  it('keeps a trial whose objective still improves, or whose kernels move', () => {
    const improving = trial(2, [0.6, 0.65, 0.7, 0.72, 0.74], { layers: layers((e) => (e <= 3 ? 1e-2 : 4e-5)) });
    expect(rule().decide(improving, []).stop).toBe(false);
    const oneMoves = trial(3, flat(0.7, 5), {
      layers: (e) => [
        { layer: 'a', trainable: true, updateRatio: 1e-6 },
        { layer: 'b', trainable: true, updateRatio: e > 3 ? 2e-4 : 1e-6 },
      ],
    });
    expect(rule().decide(oneMoves, []).stop).toBe(false);
  });

  it('ignores frozen layers beside trainable ones, and never stops within warm-up', () => {
    const frozenBesideMoving = trial(4, flat(0.7, 3), {
      layers: () => [
        { layer: 'x', trainable: false, updateRatio: 0 },
        { layer: 'head', trainable: true, updateRatio: 1e-2 },
      ],
    });
    expect(rule().decide(frozenBesideMoving, []).stop).toBe(false);
    const stillFromStart = trial(5, flat(0.7, 4), { layers: layers(() => 0) });
    expect(rule({ patience: 1, warmup_epochs: 3 }).decide(upTo(stillFromStart, 3), []).stop).toBe(false);
    expect(rule({ patience: 1, warmup_epochs: 3 }).decide(stillFromStart, []).stop).toBe(true);
  });

  it('stops a trial none of whose layers with weights is trainable, while its objective stays flat', () => {
    // A ReLU's own entry (no weights) beside them changes nothing.
    const relu = { layer: 'relu', trainable: false, deadFraction: 0.1 };
    const allFrozen = trial(7, flat(0.75, 3), {
      layers: () => [
        { layer: 'conv', trainable: false, kernelMovement: 0, updateRatio: 0 },
        { layer: 'head', trainable: false, kernelMovement: 0 },
        relu,
      ],
    });
    expect(rule().decide(upTo(allFrozen, 2), []).stop).toBe(false);
    expect(rule().decide(allFrozen, [])).toEqual({
      stop: true,
      reason:
        'weight-stall: none of its 2 reported layer(s) with weights is trainable (all frozen) for 2 epoch(s) (epochs 2–3) while best val_auc improved by only 0 since epoch 1 (0.75 → 0.75; min_delta 0.001)',
    });
    // Frozen, yet the objective rises (something unreported trains): not a stall.
    const rising = trial(8, [0.75, 0.78, 0.8], { layers: () => [{ layer: 'conv', trainable: false, kernelMovement: 0 }] });
    expect(rule().decide(rising, []).stop).toBe(false);
    // Marked frozen, but moving (a flag changed without a recompile, an EMA teacher): it trains.
    const markedFrozen = trial(11, flat(0.75, 3), {
      layers: () => [{ layer: 'conv', trainable: false, kernelMovement: 0.2, updateRatio: 0.01 }],
    });
    expect(rule().decide(markedFrozen, []).stop).toBe(false);
  });

  it('reads histograms unchanged since the first from event files as still, never the first epoch itself', () => {
    const tb = (changedAt: number | undefined) => ({
      layers: (e: number) => [{ layer: 'conv', trainable: changedAt !== undefined && e >= changedAt, mean: 0, std: 0.1 }],
      notes: () => ({ tensorboard: { trainableInferred: true } }),
    });
    const unchanged = trial(9, flat(0.75, 3), tb(undefined));
    expect(rule().decide(upTo(unchanged, 2), []).stop).toBe(false);
    expect(rule({ patience: 1 }).decide(upTo(unchanged, 2), [])).toMatchObject({
      stop: true,
      reason: expect.stringMatching(
        /^weight-stall: not one weight histogram of its 1 reported layer\(s\) changed for 1 epoch\(s\) \(epoch 2\)/,
      ),
    });
    expect(rule().decide(unchanged, []).stop).toBe(true);
    expect(rule().decide(trial(10, flat(0.75, 3), tb(3)), []).stop).toBe(false);
    // A TF-slim end point's sparsity entry reads trainable and has no weights: the histograms still say it.
    const withSparsity = trial(12, flat(0.75, 3), {
      layers: () => [
        { layer: 'conv', trainable: false, mean: 0, std: 0.1 },
        { layer: 'Mixed_5b', trainable: true, sparsity: 0.4 },
      ],
      notes: () => ({ tensorboard: { trainableInferred: true } }),
    });
    expect(rule().decide(withSparsity, []).stop).toBe(true);
  });

  it("uses the runner's diagnostics.stalled flag when no layer reports updateRatio", () => {
    const flagged = trial(6, flat(0.7, 4), { notes: (e) => ({ diagnostics: { stalled: e >= 3, dying: false } }) });
    expect(rule().decide(upTo(flagged, 3), []).stop).toBe(false);
    expect(rule().decide(flagged, [])).toMatchObject({ stop: true, reason: expect.stringContaining('flagged the weights as stalled') });
  });
});

describe('dead-units rule', () => {
  const rule = (raw: unknown = {}) => createDeadUnitsRule(deadUnitsRulePlugin.parseOptions(raw), ctx);
  // conv2 reports half of `dead`: 0.2, 0.4, 0.6 … as max over layers 0.1, 0.2, 0.3, …
  const dying = trial(1, flat(0.6, 8), {
    layers: layers(
      () => 1e-2,
      (e) => Math.min(2, 0.2 * e + 0.6),
    ),
  });

  it('stops when the largest dead fraction is above the threshold and has risen for `patience` epochs', () => {
    // max dead = 0.4, 0.5, 0.6, 0.7, 0.8: above 0.5 first at epoch 3.
    expect(rule().decide(upTo(dying, 2), []).stop).toBe(false);
    expect(rule().decide(upTo(dying, 3), [])).toEqual({
      stop: true,
      reason:
        'dead-units: the largest dead-unit fraction rose from 0.4 to 0.6 over epochs 1–3 (0.4 → 0.5 → 0.6), above the threshold 0.5; worst layer at epoch 3: conv2',
    });
    expect(rule({ threshold: 0.65 }).decide(upTo(dying, 3), []).stop).toBe(false);
  });

  it('keeps a trial whose dead fraction is high but recovering, or flat below 1', () => {
    const recovering = trial(2, flat(0.6, 4), {
      layers: layers(
        () => 1e-2,
        (e) => [1.6, 1.4, 1.5, 1.3][e - 1]!,
      ),
    });
    expect(rule().decide(recovering, []).stop).toBe(false);
    const flatHigh = trial(3, flat(0.6, 4), {
      layers: layers(
        () => 1e-2,
        () => 1.4,
      ),
    });
    expect(rule().decide(flatHigh, []).stop).toBe(false);
    const allDead = trial(4, flat(0.6, 4), {
      layers: layers(
        () => 1e-2,
        () => 2,
      ),
    });
    expect(rule().decide(allDead, [])).toEqual({
      stop: true,
      reason:
        'dead-units: the largest dead-unit fraction stayed at 1 (every unit of conv2 dead) over epochs 2–4 (1 → 1 → 1), above the threshold 0.5; worst layer at epoch 4: conv2',
    });
  });

  it('never stops within warm-up, and uses diagnostics.dying without layer figures', () => {
    const d = trial(5, flat(0.6, 3), {
      layers: layers(
        () => 1e-2,
        () => 2,
      ),
    });
    expect(rule({ warmup_epochs: 3 }).decide(d, []).stop).toBe(false);
    const flagged = trial(6, flat(0.6, 3), { notes: () => ({ diagnostics: { dying: true } }) });
    expect(rule().decide(flagged, [])).toMatchObject({ stop: true, reason: expect.stringContaining('flagged dying units') });
    expect(rule().decide(upTo(flagged, 2), []).stop).toBe(false);
  });
});

describe('divergence rule', () => {
  const rule = (raw: unknown = {}) => createDivergenceRule(divergenceRulePlugin.parseOptions(raw), ctx);
  const losses = (train: number[], val?: number[]) =>
    trial(
      1,
      train.map(() => 0.6),
      { metrics: (e) => ({ train_loss: train[e - 1]!, ...(val ? { val_loss: val[e - 1]! } : {}) }) },
    );

  it('stops on NaN or Infinity in either loss, at once', () => {
    expect(rule().decide(losses([Number.NaN]), [])).toEqual({ stop: true, reason: 'divergence: train_loss is NaN at epoch 1' });
    expect(rule().decide(losses([0.7, 0.6], [0.8, Number.POSITIVE_INFINITY]), [])).toEqual({
      stop: true,
      reason: 'divergence: val_loss is Infinity at epoch 2',
    });
  });

  it('stops on an epoch its runner flagged as diverged: weights gone NaN (named), or NaN outputs', () => {
    const weights = trial(2, [0.6, 0.5], { notes: (e) => (e === 2 ? { diverged: true, non_finite_layers: ['conv1'] } : {}) });
    expect(rule().decide(weights, [])).toEqual({
      stop: true,
      reason: 'divergence: the weights of conv1 are NaN or infinite at epoch 2',
    });
    const outputs = trial(1, [0.5], { notes: () => ({ diverged: true }) });
    expect(rule().decide(outputs, [])).toEqual({
      stop: true,
      reason: 'divergence: the runner flagged epoch 1 as diverged (NaN or infinite outputs)',
    });
  });

  it('stops when train_loss exceeds factor × its first value, not before', () => {
    expect(rule().decide(losses([0.7, 3, 6.9]), []).stop).toBe(false);
    expect(rule().decide(losses([0.7, 3, 7.5]), [])).toEqual({
      stop: true,
      reason: 'divergence: train_loss 7.5 at epoch 3 is more than 10 × its first value 0.7 (epoch 1)',
    });
    expect(rule({ factor: 4 }).decide(losses([0.7, 3]), []).stop).toBe(true);
  });

  it('with initial_loss, stops a loss that blew up within its first epoch (Keras clips it short of NaN)', () => {
    expect(rule().decide(losses([6.7e10]), []).stop).toBe(false);
    expect(rule({ initial_loss: Math.LN2 }).decide(losses([6.7e10]), [])).toEqual({
      stop: true,
      reason: 'divergence: train_loss 6.70e+10 at epoch 1 is more than 10 × the loss before training 0.6931 (initial_loss)',
    });
    expect(rule({ initial_loss: Math.LN2 }).decide(losses([0.9, 0.6]), []).stop).toBe(false);
    expect(() => rule({ initial_loss: 0 })).toThrow(/initial_loss/);
  });

  it('keeps healthy and loss-less trials, and honours warm-up', () => {
    expect(rule().decide(losses([0.7, 0.5, 0.4], [0.8, 0.6, 0.5]), []).stop).toBe(false);
    expect(rule().decide(trial(2, [0.6, 0.7]), []).stop).toBe(false);
    expect(rule({ warmup_epochs: 1 }).decide(losses([Number.NaN]), []).stop).toBe(false);
  });
});
