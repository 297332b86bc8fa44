import { PluginRegistry, type Runner } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { describe, expect, it } from 'vitest';
import { curveRunner, incompressible, startEngine, until, walkStrategy } from './engine.test-helpers.ts';

describe('an epoch report the store cannot keep', () => {
  it('stops its trial with the reason, and every other report, of every study, is still stored', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    const curve = curveRunner();
    // Trial 0 (learning rate about 1) lists one layer twice, as two LayerStats trackers naming
    // their first layers '0' do: caught before the store is asked. Trial 1 (about 0.1) names a
    // layer past what the database's index takes: refused by the database itself. Either is
    // refused however often it is asked.
    const runner: Runner = {
      async run(job, ctx) {
        const rate = Number(job.params.learning_rate);
        if (rate < 0.05) return curve.run(job, ctx);
        const layers =
          rate > 0.5
            ? [
                { layer: '0', trainable: true },
                { layer: '0', trainable: true },
              ]
            : [{ layer: incompressible(3000), trainable: true }];
        await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.7 }, layers });
        await until(async () => ctx.signal.aborted, 10_000);
        return { state: 'stopped', reason: String(ctx.signal.reason) };
      },
    };
    const { engine, close } = await startEngine(store, new PluginRegistry().register(walkStrategy()), runner);
    try {
      const spec = (name: string) =>
        JSON.stringify({
          name,
          objective: { metric: 'val_auc_macro', direction: 'maximize' },
          space: { learning_rate: { type: 'float', low: 1e-8, high: 1, log: true } },
          strategy: { name: 'walk' },
          budget: { max_trials: 3, max_epochs: 2, parallelism: 2 },
          trainer: { runner: 'test' },
        });
      const first = await engine.submit(spec('poisoned'));
      const second = await engine.submit(spec('beside-it'));
      const ended = async (id: string) => (await store.getStudy(id))?.state === 'completed';
      await until(async () => (await ended(first.id)) && (await ended(second.id)));
      const trials = await store.listTrials(first.id);
      expect(trials[0]).toMatchObject({
        state: 'stopped',
        reason: expect.stringMatching(/^its epoch 1 report could not be stored: layer 0 is listed twice in epoch 1/),
      });
      expect(trials[1]).toMatchObject({
        state: 'stopped',
        reason: expect.stringMatching(/^its epoch 1 report could not be stored: recordEpochs .* failed: index row size/),
      });
      expect([trials[0]?.epochs, trials[1]?.epochs]).toEqual([[], []]);
      // The other trials of both studies kept every epoch.
      const others = [trials[2], (await store.listTrials(second.id))[2]];
      for (const t of others) expect([t?.state, t?.epochs.length]).toEqual(['completed', 2]);
    } finally {
      await close();
      await store.close();
    }
  }, 60_000);
});
