import { LocalBus, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { StudyEngine } from '@sweepd/search';
import '@sweepd/trainer';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.ts';

/**
 * The app over an engine on a local bus with no worker (a trial stays queued until a test plays
 * one, publishing its reports), and a study of `maxTrials` simulate trials submitted through it.
 */
async function withStudy(
  name: string,
  maxTrials: number,
  test: (t: { store: Store; bus: LocalBus; engine: StudyEngine; app: ReturnType<typeof createApp>; id: string }) => Promise<void>,
) {
  const store = await openStore({ dataDir: 'memory://' });
  const bus = new LocalBus();
  const engine = new StudyEngine({ store, bus });
  await engine.start();
  try {
    const app = createApp({ store, engine });
    const spec = {
      name,
      objective: { metric: 'val_auc_macro', direction: 'maximize' },
      space: { learning_rate: { type: 'float', low: 1e-4, high: 1e-1, log: true } },
      fixed: { optimizer: 'adam' },
      budget: { max_trials: maxTrials, max_epochs: 4, parallelism: 1 },
      trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
    };
    const created = await app.request('/v1/studies', {
      method: 'POST',
      body: JSON.stringify(spec),
      headers: { 'content-type': 'application/json' },
    });
    const { id } = (await created.json()) as { id: string };
    await test({ store, bus, engine, app, id });
  } finally {
    await engine.close();
    await store.close();
  }
}

describe('POST /v1/studies/:id/trials/:n/stop', () => {
  it('a queued trial (no worker has it) ends at once, says so, and a study it was the last of ends too', async () => {
    await withStudy('stop-queued', 1, async ({ store, app, id }) => {
      const res = await app.request(`/v1/studies/${id}/trials/0/stop`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ study: id, trial: 0, stopping: false, state: 'stopped' });
      // Not left running with nothing in flight: it ends, and says why it has no answer.
      expect(await store.getStudy(id)).toMatchObject({
        state: 'failed',
        reason: 'its one trial reported no finite val_auc_macro: stopped by user',
      });
    });
  });

  it('a running trial of a stopped study is stopping already: said so, not "is running, not queued or running"', async () => {
    await withStudy('stop-stopped', 2, async ({ store, bus, engine, app, id }) => {
      const [trial] = await store.listTrials(id);
      // A worker takes it: it runs until the worker hears the stop.
      await bus.publishReport({ kind: 'start', studyId: id, trialId: trial?.id as string, worker: 'w1' });
      for (let i = 0; i < 200 && engine.view(id)?.trials[0]?.state !== 'running'; i++) await new Promise((r) => setTimeout(r, 10));
      expect((await app.request(`/v1/studies/${id}/stop`, { method: 'POST' })).status).toBe(200);
      const res = await app.request(`/v1/studies/${id}/trials/0/stop`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ study: id, trial: 0, stopping: true, state: 'running' });
      // Once it has ended, a stop is refused with its state.
      await bus.publishReport({ kind: 'final', studyId: id, trialId: trial?.id as string, state: 'stopped', reason: 'asked' });
      for (let i = 0; i < 200 && (await store.getTrial(id, 0))?.state === 'running'; i++) await new Promise((r) => setTimeout(r, 10));
      const again = await app.request(`/v1/studies/${id}/trials/0/stop`, { method: 'POST' });
      expect(again.status).toBe(409);
      expect(await again.json()).toEqual({ error: 'trial 0 is stopped, not queued or running' });
    });
  });
});
