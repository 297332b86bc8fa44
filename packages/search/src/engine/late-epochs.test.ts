import { afterEach, describe, expect, it } from 'vitest';
import { type Bus, type LayerStats, PluginRegistry, type Runner, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { incompressible, startEngine, until, walkStrategy } from './engine.test-helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function specOf(maxTrials: number) {
  return {
    name: 'late-epochs-test',
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    space: { learning_rate: { type: 'float', low: 1e-8, high: 1, log: true } },
    strategy: { name: 'walk' },
    budget: { max_trials: maxTrials, max_epochs: 5, parallelism: 2 },
    trainer: { runner: 'test' },
  };
}

/** An epoch report of trial 0 sent after its end: of delivery `attempt` (default 1, its own). */
interface Late {
  epoch: number;
  value: number;
  attempt?: number;
  layers?: LayerStats[];
}

/**
 * Trial 0 reports epoch 1, then its end (as another delivery of the same job would send it)
 * overtakes the `late` epochs, sent after it. Trial 1, when there is one, runs until `released`
 * and then reports an epoch, so the study is still running meanwhile.
 */
function overtakenRunner(busOf: () => Bus, released: Promise<void>, store: Store, late: readonly Late[]): Runner {
  return {
    async run(job, ctx) {
      if (job.number !== 0) {
        await released;
        await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.1 }, layers: [] });
        return { state: 'completed' };
      }
      await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.5 }, layers: [] });
      const bus = busOf();
      const own = { studyId: job.studyId, trialId: job.trialId, attempt: 1 };
      await bus.publishReport({ kind: 'epoch', ...own, epoch: 4, metrics: { val_auc_macro: 0.7 }, layers: [] });
      await bus.publishReport({ kind: 'final', ...own, state: 'completed' });
      await until(async () => (await store.getTrial(job.studyId, 0))?.state === 'completed');
      for (const { epoch, value, attempt = 1, layers = [] } of late)
        await bus.publishReport({ kind: 'epoch', ...own, attempt, epoch, metrics: { val_auc_macro: value }, layers });
      return { state: 'completed' };
    },
  };
}

/** Runs the study until trial 0's last late report is read (reports are read in order). */
async function runStudy(maxTrials: number, late: readonly Late[]) {
  const store = await openStore({ dataDir: 'memory://' });
  cleanups.push(() => store.close());
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const ref: { bus?: Bus } = {};
  const started = await startEngine(
    store,
    new PluginRegistry().register(walkStrategy()),
    overtakenRunner(() => ref.bus as Bus, released, store, late),
  );
  ref.bus = started.bus;
  cleanups.push(async () => {
    release();
    await started.bus.close();
    await started.close();
  });
  const study = await started.engine.submit(JSON.stringify(specOf(maxTrials)));
  const epochsOf = async () => (await store.getTrial(study.id, 0))?.epochs.map((e) => [e.epoch, e.metrics.val_auc_macro]);
  const last = late.at(-1) as Late;
  await until(async () => JSON.stringify(await epochsOf()).includes(`[${last.epoch},${last.value}]`));
  return { store, study, epochsOf, release };
}

const LATE: Late[] = [
  { epoch: 3, value: 0.99, attempt: 2 }, // another delivery's
  { epoch: 5, value: 0.98 }, // past the last stored: trained after the end
  { epoch: 2, value: 0.9 },
  { epoch: 3, value: 0.6 },
];

describe('epochs that come after their trial ended', () => {
  it("fill the gaps below the trial's last epoch, of its own delivery only, and its value follows", async () => {
    const { store, study, epochsOf, release } = await runStudy(2, LATE);
    expect(await epochsOf()).toEqual([
      [1, 0.5],
      [2, 0.9],
      [3, 0.6],
      [4, 0.7],
    ]);
    const trial = await store.getTrial(study.id, 0);
    expect([trial?.state, trial?.value]).toEqual(['completed', 0.9]);
    release();
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
  });

  it('are stored after the study itself ended, too', async () => {
    const { store, study, epochsOf } = await runStudy(1, LATE);
    expect((await store.getStudy(study.id))?.state).toBe('completed');
    expect((await epochsOf())?.map(([epoch]) => epoch)).toEqual([1, 2, 3, 4]);
    expect((await store.getTrial(study.id, 0))?.value).toBe(0.9);
  });

  it('one the database refuses is dropped, and the reports behind it are still read', async () => {
    const refused: Late = { epoch: 2, value: 0.9, layers: [{ layer: incompressible(3000), trainable: true }] };
    const { store, study, epochsOf, release } = await runStudy(2, [refused, { epoch: 3, value: 0.6 }]);
    expect((await epochsOf())?.map(([epoch]) => epoch)).toEqual([1, 3, 4]);
    release();
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    expect((await store.getTrial(study.id, 1))?.epochs.map((e) => e.epoch)).toEqual([1]);
  });
});
