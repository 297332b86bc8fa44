import os from 'node:os';
import { type EpochRecord, parseSpec, type Runner, type TrialJob } from '@sweepd/core';
import { describe, expect, it } from 'vitest';
import { checkNoopSpec, noopRunnerPlugin } from './noop.ts';

const job = (options: Record<string, unknown> = {}): TrialJob => ({
  studyId: 's',
  trialId: 't',
  number: 0,
  params: {},
  maxEpochs: 5,
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  trainer: { runner: 'noop', options },
  pool: 'default',
});

describe('noop runner', () => {
  const runner = noopRunnerPlugin.create({}, { cacheDir: os.tmpdir(), log: () => {} }) as Runner;

  it('reports N epochs at once with a constant metric', async () => {
    const epochs: EpochRecord[] = [];
    const outcome = await runner.run(job({ value: 0.7, epochs: 3 }), {
      signal: new AbortController().signal,
      log: () => {},
      report: async (e) => void epochs.push(e),
    });
    expect(outcome).toEqual({ state: 'completed' });
    expect(epochs).toEqual([1, 2, 3].map((epoch) => ({ epoch, metrics: { val_auc_macro: 0.7 }, layers: [] })));
  });

  it('defaults to maxEpochs at 0.5, and stops when aborted', async () => {
    const epochs: EpochRecord[] = [];
    const abort = new AbortController();
    const outcome = await runner.run(job(), {
      signal: abort.signal,
      log: () => {},
      report: async (e) => {
        epochs.push(e);
        if (e.epoch === 2) abort.abort('enough');
      },
    });
    expect(outcome).toEqual({ state: 'stopped', reason: 'enough' });
    expect(epochs.map((e) => e.metrics.val_auc_macro)).toEqual([0.5, 0.5]);
  });

  it('fails on unknown options, naming them', async () => {
    const outcome = await runner.run(job({ valu: 1 }), { signal: new AbortController().signal, log: () => {}, report: async () => {} });
    expect(outcome).toMatchObject({ state: 'failed', reason: expect.stringContaining('valu') });
  });

  it('refuses bad options at submit, by path', () => {
    const spec = (options: Record<string, unknown>, stopping: unknown[] = []) =>
      parseSpec({
        name: 'n',
        objective: { metric: 'val_auc_macro', direction: 'maximize' },
        space: { x: { type: 'float', low: 0, high: 1 } },
        budget: { max_trials: 1, max_epochs: 3 },
        trainer: { runner: 'noop', options },
        stopping,
      });
    expect(checkNoopSpec(spec({ value: 0.7, epochs: 2 }))).toEqual([]);
    expect(checkNoopSpec(spec({ epochs: -1 })).map((p) => p.path)).toEqual(['trainer.options.epochs']);
    // No epoch at all: every trial would fail with no value.
    expect(checkNoopSpec(spec({ epochs: 0 })).map((p) => p.path)).toEqual(['trainer.options.epochs']);
    // A rule told to watch a loss it never reports would never act.
    expect(checkNoopSpec(spec({}, [{ name: 'divergence', options: { loss_metric: 'train_loss' } }]))).toEqual([
      {
        path: 'stopping.0.options.loss_metric',
        message: "the noop runner never reports 'train_loss': it reports val_auc_macro (the objective) only",
      },
    ]);
    expect(noopRunnerPlugin.checkSpec).toBe(checkNoopSpec);
  });
});
