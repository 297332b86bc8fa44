import { LocalBus, PluginRegistry, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from './context.ts';
import { startEngine, until, walkStrategy } from './engine.test-helpers.ts';

const spec = {
  name: 'orphans-test',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-8, high: 1, log: true } },
  strategy: { name: 'walk' },
  budget: { max_trials: 2, max_epochs: 4, parallelism: 2 },
  trainer: { runner: 'test' },
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/**
 * An engine checking for orphans every 50 ms, on an in-process bus that says which trials its
 * workers run as the test decides (as NATS workers answer a roll call). Its runner reports an
 * epoch and then hangs, deaf to stops, until the test ends: a worker that is there for the bus but
 * says nothing, or one that is gone.
 */
async function engineWithRollCall(store: Store) {
  let answer = (ids: string[]) => ids;
  const bus = Object.assign(new LocalBus(), {
    runningTrials: async () => new Set(answer(await runningIds())),
  });
  let release!: () => void;
  const hung = new Promise<void>((resolve) => {
    release = resolve;
  });
  const started = await startEngine(
    store,
    new PluginRegistry().register(walkStrategy()),
    {
      async run(_job, ctx) {
        await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.5 }, layers: [] });
        await hung;
        return { state: 'completed' };
      },
    },
    bus,
    { orphanCheckMs: 50 },
  );
  const events: EngineEvent[] = [];
  started.engine.events.on('change', (e) => events.push(e));
  cleanups.push(async () => {
    release();
    await started.close();
  });
  let studyId = '';
  async function runningIds(): Promise<string[]> {
    if (!studyId) return [];
    return (await store.listTrials(studyId)).filter((t) => t.state === 'running').map((t) => t.id);
  }
  return {
    engine: started.engine,
    events,
    setStudy: (id: string) => {
      studyId = id;
    },
    /** From now on the workers answer with what `pick` keeps of the trials they would run. */
    answerWith: (pick: (ids: string[]) => string[]) => {
      answer = pick;
    },
  };
}

/** A store, the engine on it and the study it runs (spec above), for one test. */
async function studyWithRollCall() {
  const store = await openStore({ dataDir: 'memory://' });
  cleanups.push(() => store.close());
  const t = await engineWithRollCall(store);
  const study = await t.engine.submit(JSON.stringify(spec));
  t.setStudy(study.id);
  return { store, t, study };
}

describe('OrphanWatch', () => {
  it('leaves running the trials the workers run, and queues again one whose worker has gone', async () => {
    const { store, t, study } = await studyWithRollCall();
    await until(async () => (await store.listTrials(study.id)).filter((x) => x.state === 'running' && x.epochs.length === 1).length === 2);
    await new Promise((r) => setTimeout(r, 300)); // six checks, every trial answered for
    expect((await store.listTrials(study.id)).map((x) => x.state)).toEqual(['running', 'running']);

    const [gone, kept] = await store.listTrials(study.id);
    t.answerWith((ids) => ids.filter((id) => id !== gone?.id));
    await until(async () => (await store.getTrial(study.id, gone?.number as number))?.state === 'queued', 5_000);
    expect(await store.getTrial(study.id, gone?.number as number)).toMatchObject({ state: 'queued' });
    expect((await store.getTrial(study.id, gone?.number as number))?.worker).toBeUndefined();
    expect(await store.getTrial(study.id, kept?.number as number)).toMatchObject({ state: 'running' });
    expect(t.events).toContainEqual({ studyId: study.id, type: 'trial-requeued', trialNumber: gone?.number });
  });

  it('ends stopped a trial being stopped whose worker has gone: no worker is left to say so', async () => {
    const { store, t, study } = await studyWithRollCall();
    await until(async () => (await store.listTrials(study.id)).filter((x) => x.state === 'running').length === 2);
    expect(await t.engine.stopTrial(study.id, 0, 'stopped by user')).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    // The runner is deaf to the stop: the trial waits for its end.
    expect(await store.getTrial(study.id, 0)).toMatchObject({ state: 'running' });
    t.answerWith(() => []);
    await until(async () => (await store.getTrial(study.id, 0))?.state === 'stopped', 5_000);
    expect(await store.getTrial(study.id, 0)).toMatchObject({ state: 'stopped', reason: 'stopped by user' });
    await until(async () => (await store.getTrial(study.id, 1))?.state === 'queued', 5_000);
  });
});
