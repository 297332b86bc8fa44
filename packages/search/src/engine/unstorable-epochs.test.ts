import { PluginRegistry, type Runner } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { describe, expect, it } from 'vitest';
import { curveRunner, startEngine, until, walkStrategy } from './engine.test-helpers.ts';

describe('an epoch report the store cannot keep', () => {
  it('stops its trial with the reason, and every other report, of every study, is still stored', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    const curve = curveRunner();
    // Trial 0 (learning rate about 1) lists one layer twice, as two LayerStats trackers naming
    // their first layers '0' do; the store refuses that epoch however often it is asked.
    const runner: Runner = {
      async run(job, ctx) {
        if (Number(job.params.learning_rate) < 0.5) return curve.run(job, ctx);
        await ctx.report({
          epoch: 1,
          metrics: { val_auc_macro: 0.7 },
          layers: [
            { layer: '0', trainable: true },
            { layer: '0', trainable: true },
          ],
        });
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
        reason: expect.stringMatching(
          /^its epoch 1 report could not be stored \(layer 0 is listed twice in epoch 1\), so it was stopped there/,
        ),
      });
      expect(trials[0]?.epochs).toEqual([]);
      // The other trials of both studies (the second's trial 0 too: it ran after the first's) kept every epoch.
      for (const t of [...trials.slice(1), ...(await store.listTrials(second.id)).slice(1)]) expect(t.state).toBe('completed');
    } finally {
      await close();
      await store.close();
    }
  }, 60_000);
});
