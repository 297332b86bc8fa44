import { afterEach, describe, expect, it } from 'vitest';
import { type Bus, PluginRegistry, type Runner } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { startEngine, until, walkStrategy } from './engine.test-helpers.ts';

const spec = {
  name: 'attempts-test',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-8, high: 1, log: true } },
  strategy: { name: 'walk' },
  budget: { max_trials: 1, max_epochs: 2, parallelism: 1 },
  trainer: { runner: 'test' },
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/**
 * The first delivery reports three epochs at 0.99 and crashes (the bus delivers the job again);
 * the second trains from scratch to 0.6 and 0.62, while the first delivery's worker, as if it had
 * run on, still sends its epoch 3 and a 'completed' end.
 */
function crashOnceRunner(busRef: { bus?: Bus }): Runner {
  let deliveries = 0;
  return {
    async run(job, ctx) {
      deliveries++;
      if (deliveries === 1) {
        for (const epoch of [1, 2, 3]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.99 }, layers: [] });
        throw new Error('trainer process crashed');
      }
      await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: [] });
      const bus = busRef.bus as Bus;
      const stale = { studyId: job.studyId, trialId: job.trialId, attempt: 1 };
      await bus.publishReport({ kind: 'epoch', ...stale, epoch: 3, metrics: { val_auc_macro: 0.999 }, layers: [] });
      await bus.publishReport({ kind: 'final', ...stale, state: 'completed' });
      await new Promise((r) => setTimeout(r, 100));
      await ctx.report({ epoch: 2, metrics: { val_auc_macro: 0.62 }, layers: [] });
      return { state: 'completed' };
    },
  };
}

describe('a trial delivered again', () => {
  it('trains from scratch: the first delivery’s epochs are discarded and its late reports ignored', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    const busRef: { bus?: Bus } = {};
    const { bus, engine, close } = await startEngine(store, new PluginRegistry().register(walkStrategy()), crashOnceRunner(busRef));
    busRef.bus = bus;
    cleanups.push(async () => {
      await close();
      await store.close();
    });
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const [trial] = await store.listTrials(study.id);
    expect(trial?.state).toBe('completed');
    expect(trial?.attempt).toBe(2);
    expect(trial?.epochs.map((e) => [e.epoch, e.metrics.val_auc_macro])).toEqual([
      [1, 0.6],
      [2, 0.62],
    ]);
    expect(trial?.value).toBe(0.62);
  });

  it('after a daemon restart on the in-process bus, the run sent again counts as a later delivery', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const registry = new PluginRegistry().register(walkStrategy());
    // The first daemon's run reports two epochs at 0.99 and is still running when the daemon goes.
    const first = await startEngine(store, registry, {
      async run(_job, ctx) {
        for (const epoch of [1, 2]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.99 }, layers: [] });
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return { state: 'stopped', reason: String(ctx.signal.reason) };
      },
    });
    const study = await first.engine.submit(JSON.stringify({ ...spec, budget: { max_trials: 1, max_epochs: 3, parallelism: 1 } }));
    await until(async () => (await store.getTrial(study.id, 0))?.epochs.length === 2);
    // The daemon goes away mid-trial: closing its bus aborts the run ('shutdown') before any end is stored.
    await first.engine.close();
    await first.bus.close();
    // The restarted daemon's run ends after one epoch (its runner's choice): nothing of the first run may remain.
    const second = await startEngine(store, registry, {
      async run(_job, ctx) {
        await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: [] });
        return { state: 'completed' };
      },
    });
    cleanups.push(second.close);
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trial = await store.getTrial(study.id, 0);
    expect(trial?.attempt).toBe(2);
    expect(trial?.epochs.map((e) => [e.epoch, e.metrics.val_auc_macro])).toEqual([[1, 0.6]]);
    expect(trial?.value).toBe(0.6);
  });
});
