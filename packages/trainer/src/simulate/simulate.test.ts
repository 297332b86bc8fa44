import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type EpochRecord, parseSpec, type Runner, type TrialJob, type TrialOutcome } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { lrAucAtEpoch, lrAucTrue, NOISE_SD, tauOf } from './curves.ts';
import { checkSimulateSpec, simulateRunnerPlugin } from './index.ts';

const job = (over: Partial<TrialJob> = {}, options: Record<string, unknown> = { curve: 'lr_auc' }): TrialJob => ({
  studyId: 'study-1',
  trialId: 'trial-1',
  number: 1,
  params: { learning_rate: 1e-3, optimizer: 'rmsprop', frozen_layers: 6 },
  maxEpochs: 20,
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  trainer: { runner: 'simulate', options },
  pool: 'default',
  ...over,
});

async function run(runner: Runner, j: TrialJob, stopAfter?: number): Promise<{ outcome: TrialOutcome; epochs: EpochRecord[] }> {
  const epochs: EpochRecord[] = [];
  const abort = new AbortController();
  const outcome = await runner.run(j, {
    signal: abort.signal,
    log: () => {},
    report: async (e) => {
      epochs.push(e);
      if (stopAfter !== undefined && e.epoch >= stopAfter) abort.abort(`told to stop after epoch ${e.epoch}`);
    },
  });
  return { outcome, epochs };
}

const runner = () => simulateRunnerPlugin.create({}, { cacheDir: os.tmpdir(), log: () => {} }) as Runner;

describe('lr_auc curve', () => {
  // Figures printed by test/bench/references/pruning_optuna.py's lr_auc_final, lr_auc_tau and lr_auc (noise-free).
  const anchor: Array<[number, string, number, number, number, number[]]> = [
    [1e-3, 'rmsprop', 6, 0.945, 2.0, [0.6750938564278781, 0.908472175612365, 0.9449797970312557]],
    [1e-4, 'adam', 6, 0.95, 6.324555320336759, [0.5658113531645164, 0.7458861007440394, 0.9309518511695577]],
    [3e-7, 'sgd', 0, 0.428000049862488, 50.0, [0.4985743054654298, 0.4931482988436322, 0.4762630597532288]],
    [0.05, 'momentum', 10, 0.6111231058465653, 0.5, [0.5960842288426883, 0.6111180608653648, 0.6111231058465653]],
    [1e-8, 'adam', 3, 0.4820016769939274, 50.0, [0.4996436093262262, 0.49828723311171935, 0.49406631369992227]],
  ];
  it('reproduces the reference script exactly', () => {
    for (const [lr, opt, frozen, final, tau, atEpochs] of anchor) {
      expect(lrAucTrue(lr, opt, frozen)).toBeCloseTo(final, 12);
      expect(tauOf(lr)).toBeCloseTo(tau, 12);
      for (const [i, epoch] of [1, 5, 20].entries()) expect(lrAucAtEpoch(lr, opt, frozen, epoch)).toBeCloseTo(atEpochs[i]!, 12);
    }
  });
});

describe('simulate runner', () => {
  it('reports the objective and train_loss every epoch up to maxEpochs, then completes', async () => {
    const { outcome, epochs } = await run(runner(), job());
    expect(outcome).toEqual({ state: 'completed' });
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const e of epochs) {
      const v = e.metrics.val_auc_macro!;
      expect(Math.abs(v - lrAucAtEpoch(1e-3, 'rmsprop', 6, e.epoch))).toBeLessThan(6 * NOISE_SD);
      expect(e.metrics.train_loss).toBeCloseTo(1 - v, 12);
      // No layer statistics and no diagnostics flag: what its check refuses weight-stall and dead-units for.
      expect(e.layers).toEqual([]);
      expect(e.notes?.diagnostics).toBeUndefined();
    }
  });

  it('seeds the noise per trial: the same trial replays the same curve, another trial differs', async () => {
    const a = (await run(runner(), job())).epochs.map((e) => e.metrics.val_auc_macro);
    const b = (await run(runner(), job())).epochs.map((e) => e.metrics.val_auc_macro);
    const other = (await run(runner(), job({ number: 2 }))).epochs.map((e) => e.metrics.val_auc_macro);
    const seeded = (await run(runner(), job({}, { curve: 'lr_auc', seed: 5 }))).epochs.map((e) => e.metrics.val_auc_macro);
    expect(b).toEqual(a);
    expect(other).not.toEqual(a);
    expect(seeded).not.toEqual(a);
  });

  it('draws noise with the anchor standard deviation 0.005', async () => {
    // lr 0.1: tau is clipped to 0.5, so from epoch 20 on the curve is flat and only noise remains.
    const params = { lr: 0.1, optimizer: 'sgd', frozen: 6 };
    const { epochs } = await run(runner(), job({ params, maxEpochs: 4000 }));
    const residuals = epochs.slice(20).map((e) => e.metrics.val_auc_macro! - lrAucAtEpoch(0.1, 'sgd', 6, e.epoch));
    const mean = residuals.reduce((s, r) => s + r, 0) / residuals.length;
    const sd = Math.sqrt(residuals.reduce((s, r) => s + (r - mean) ** 2, 0) / (residuals.length - 1));
    expect(Math.abs(mean)).toBeLessThan(0.0005);
    expect(sd).toBeGreaterThan(0.0047);
    expect(sd).toBeLessThan(0.0053);
  });

  it('honours the abort signal between epochs and returns stopped with its reason', async () => {
    const { outcome, epochs } = await run(runner(), job(), 3);
    expect(outcome).toEqual({ state: 'stopped', reason: 'told to stop after epoch 3' });
    expect(epochs).toHaveLength(3);
  });

  it('waits epoch_delay_ms per epoch, and an abort cuts the wait short', async () => {
    const started = Date.now();
    const { epochs } = await run(runner(), job({ maxEpochs: 3 }, { curve: 'lr_auc', epoch_delay_ms: 40 }));
    expect(epochs).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    const abort = new AbortController();
    const t0 = Date.now();
    const pending = runner().run(job({}, { curve: 'lr_auc', epoch_delay_ms: 10_000 }), {
      signal: abort.signal,
      log: () => {},
      report: async () => {},
    });
    setTimeout(() => abort.abort('user'), 30);
    expect(await pending).toEqual({ state: 'stopped', reason: 'user' });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('loads a curve module (default export (params, epoch, rng) => number)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'simulate-curve-'));
    const file = path.join(dir, 'linear.mjs');
    await writeFile(file, 'export default (params, epoch, rng) => params.slope * epoch + 0 * rng.next();\n');
    const { outcome, epochs } = await run(
      runner(),
      job({ params: { slope: 0.5 }, maxEpochs: 4, objective: { metric: 'loss', direction: 'minimize' } }, { curve: file }),
    );
    expect(outcome.state).toBe('completed');
    expect(epochs.map((e) => e.metrics)).toEqual([1, 2, 3, 4].map((ep) => ({ loss: 0.5 * ep, train_loss: 0.5 * ep })));
  });

  it('fails with a reason naming the option or parameter that is wrong', async () => {
    const r = runner();
    expect((await run(r, job({}, {}))).outcome).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('trainer.options.curve'),
    });
    expect((await run(r, job({}, { curve: 'lr_auc', epoch_dely_ms: 3 }))).outcome).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('epoch_dely_ms'),
    });
    expect((await run(r, job({}, { curve: 'cosine' }))).outcome).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('neither a built-in curve (lr_auc)'),
    });
    expect((await run(r, job({}, { curve: './missing/curve.ts' }))).outcome).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('could not be imported'),
    });
    expect((await run(r, job({ params: { learning_rate: 1e-3, optimizer: 'lion' } }))).outcome).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('params.optimizer'),
    });
  });

  it('checks its options and curve at submit, by path', async () => {
    const spec = (options: unknown, withOptimizer = true) =>
      parseSpec({
        name: 's',
        objective: { metric: 'val_auc_macro', direction: 'maximize' },
        space: {
          learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
          ...(withOptimizer ? { optimizer: { type: 'categorical', choices: ['sgd', 'adam'] } } : {}),
        },
        budget: { max_trials: 2, max_epochs: 2 },
        trainer: { runner: 'simulate', ...(options === undefined ? {} : { options }) },
      });
    const check = (options: unknown, ctx = {}) => checkSimulateSpec(spec(options), ctx).map((p) => `${p.path}: ${p.message}`);
    expect(check({ curve: 'lr_auc' })).toEqual([]);
    // lr_auc reads the optimizer: a spec without one would fail every trial, one by one.
    expect(checkSimulateSpec(spec({ curve: 'lr_auc' }, false)).map((p) => `${p.path}: ${p.message}`)).toEqual([
      "space: the simulate runner's lr_auc curve needs optimizer, in space or fixed",
    ]);
    expect(check(undefined)).toEqual(['trainer.options.curve: is required']);
    // The divergence rule watching a metric it never reports would never fire.
    const watching = parseSpec({
      name: 's',
      objective: { metric: 'val_auc_macro', direction: 'maximize' },
      space: { learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true }, optimizer: { type: 'categorical', choices: ['sgd'] } },
      stopping: [{ name: 'divergence', options: { metrics: ['train_loss', 'val_losss'], loss_metric: 'train_loss' } }],
      budget: { max_trials: 2, max_epochs: 2 },
      trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
    });
    expect(checkSimulateSpec(watching).map((p) => `${p.path}: ${p.message}`)).toEqual([
      "stopping.0.options.metrics.1: the simulate runner never reports 'val_losss': it reports val_auc_macro (the objective) and train_loss",
    ]);
    // Rules that read layer statistics (or the runner's notes.diagnostics flag) never act: it reports neither.
    const layerRules = parseSpec({
      name: 's',
      objective: { metric: 'val_auc_macro', direction: 'maximize' },
      space: { learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true }, optimizer: { type: 'categorical', choices: ['sgd'] } },
      stopping: [{ name: 'median' }, { name: 'weight-stall' }, { name: 'dead-units', options: { patience: 2 } }],
      budget: { max_trials: 8, max_epochs: 6 },
      trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
    });
    expect(checkSimulateSpec(layerRules).map((p) => `${p.path}: ${p.message}`)).toEqual([
      "stopping.1: the simulate runner reports no layer statistics: weight-stall never acts on it (it reads each layer's updateRatio, else notes.diagnostics.stalled, and this runner reports neither); remove the rule",
      "stopping.2: the simulate runner reports no layer statistics: dead-units never acts on it (it reads each layer's deadFraction, else notes.diagnostics.dying, and this runner reports neither); remove the rule",
    ]);
    // Values lr_auc refuses at every epoch: refused at submit, each where it is written.
    const withValues = (space: Record<string, unknown>, fixed: Record<string, unknown> = {}) =>
      checkSimulateSpec(
        parseSpec({
          name: 's',
          objective: { metric: 'val_auc_macro', direction: 'maximize' },
          space,
          fixed,
          budget: { max_trials: 2, max_epochs: 2 },
          trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
        }),
      ).map((p) => `${p.path}: ${p.message}`);
    expect(withValues({ lr: { type: 'float', low: 0, high: 0.1 } }, { optimizer: 'lion' })).toEqual([
      'fixed.optimizer: the lr_auc curve models sgd, momentum, rmsprop, adam only, not "lion"',
      'space.lr.low: must be > 0: the lr_auc curve takes positive learning rates only',
    ]);
    expect(withValues({ optimizer: { type: 'int', low: 0, high: 3 } }, { learning_rate: -1 })).toEqual([
      'space.optimizer: must be categorical for the lr_auc curve (choices among sgd, momentum, rmsprop, adam)',
      'fixed.learning_rate: must be a positive number: the lr_auc curve takes positive learning rates only',
    ]);
    expect(check({ curve: 'lr_auc', epoch_dely_ms: 3 })).toEqual([expect.stringMatching(/^trainer.options: .*epoch_dely_ms/)]);
    expect(check({ curve: 'cosine' })).toEqual(["trainer.options.curve: 'cosine' is neither a built-in curve (lr_auc) nor a module path"]);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'simulate-check-'));
    expect(check({ curve: './missing/curve.ts' }, { baseDir: dir })).toEqual([
      `trainer.options.curve: no module at ${path.join(dir, 'missing/curve.ts')}`,
    ]);
    // Remote workers may have the file where the daemon does not.
    expect(check({ curve: './missing/curve.ts' }, { baseDir: dir, workersShareFiles: false })).toEqual([]);
    await writeFile(path.join(dir, 'c.mjs'), 'export default () => 0.5;\n');
    expect(check({ curve: './c.mjs' }, { baseDir: dir })).toEqual([]);
    expect(simulateRunnerPlugin.checkSpec).toBe(checkSimulateSpec);
  });

  it('is registered as a runner plugin named simulate with no worker options', () => {
    expect(simulateRunnerPlugin).toMatchObject({ kind: 'runner', name: 'simulate' });
    expect(() => simulateRunnerPlugin.parseOptions({ curve: 'lr_auc' })).toThrow(/curve/);
  });
});
