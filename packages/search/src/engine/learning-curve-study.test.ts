import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBus, registry, type Subscription } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { simulateRunnerPlugin, startWorker } from '@sweepd/trainer';
import '../index.ts';
import { StudyEngine } from './engine.ts';

// A whole study through the engine with the built-in registry: TPE draws, the simulate runner
// replays lr_auc curves, four trials run at once, and learning-curve judges each against peers
// that are still running.
const spec = {
  name: 'learning-curve-study',
  objective: { metric: 'val_auc', direction: 'maximize' },
  space: {
    learning_rate: { type: 'float', low: 1e-8, high: 1e-1, log: true },
    optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
    frozen_layers: { type: 'int', low: 0, high: 10 },
  },
  strategy: { name: 'tpe', options: { seed: 3 } },
  stopping: [{ name: 'learning-curve', options: { initial_value: 0.5, min_epochs: 1 } }],
  budget: { max_trials: 24, max_epochs: 12, parallelism: 4 },
  trainer: { runner: 'simulate', options: { curve: 'lr_auc', seed: 3, epoch_delay_ms: 20 } },
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('a study with the learning-curve rule', () => {
  it('stops trials that cannot reach the best, with the reason stored, and never the best', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    const bus = new LocalBus();
    const engine = new StudyEngine({ store, bus, registry });
    const worker: Subscription = await startWorker({
      bus,
      runner: await simulateRunnerPlugin.create({}, { cacheDir: os.tmpdir(), log: () => {} }),
      concurrency: 4,
    });
    await engine.start();
    cleanups.push(async () => {
      await engine.close();
      await worker.close();
      await bus.close();
      await store.close();
    });

    const study = await engine.submit(JSON.stringify(spec));
    const end = Date.now() + 30_000;
    while ((await store.getStudy(study.id))?.state !== 'completed') {
      if (Date.now() > end) throw new Error('the study did not complete in 30 s');
      await new Promise((r) => setTimeout(r, 20));
    }

    const trials = await store.listTrials(study.id);
    expect(trials).toHaveLength(24);
    const stopped = trials.filter((t) => t.state === 'stopped');
    const completed = trials.filter((t) => t.state === 'completed');
    expect(stopped.length).toBeGreaterThan(0);
    expect(completed.length).toBeGreaterThan(0);
    expect(stopped.length + completed.length).toBe(24);
    const best = Math.max(...trials.map((t) => t.value ?? Number.NEGATIVE_INFINITY));
    for (const t of stopped) {
      const judged =
        /^learning-curve: after (\d+) epochs, val_auc extrapolated to epoch 12 can reach [\d.]+ at best .* below the best [\d.]+ of \d+ other trials$/.exec(
          t.reason ?? '',
        );
      expect(judged, t.reason).not.toBeNull();
      // Judged before the last epoch (an epoch already under way when the stop arrived may still be stored).
      const at = Number(judged?.[1]);
      expect(at).toBeLessThan(12);
      // It stopped because another trial had already done better than it had, or ever could.
      const bestThen = Math.max(...t.epochs.filter((e) => e.epoch <= at).map((e) => e.metrics.val_auc ?? Number.NEGATIVE_INFINITY));
      expect(bestThen).toBeLessThan(best);
    }
    // Epochs take 20 ms here, so stops arrive in time to save most of the hopeless trials' epochs.
    const epochs = trials.reduce((n, t) => n + t.epochs.length, 0);
    expect(epochs).toBeLessThan(0.6 * 24 * 12);
    expect(completed.some((t) => t.value === best)).toBe(true);
  });
});
