import { LocalBus, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { StudyEngine } from '@sweepd/search';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@sweepd/trainer';
import { createApp } from './app.ts';

// No workers: the study's trials stay queued until it is stopped, which ends them at once.
let store: Store;
let engine: StudyEngine;
let listed = 0;

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  const listTrials = store.listTrials.bind(store);
  store.listTrials = (id) => {
    listed++;
    return listTrials(id);
  };
  engine = new StudyEngine({ store, bus: new LocalBus() });
  await engine.start();
});
afterAll(async () => {
  await engine.close();
  await store.close();
});

describe('reads of a settled study', () => {
  it("read its trials from the store once: the study, a trial's diagnosis and the export share them", async () => {
    const app = createApp({ store, engine });
    const spec = `
name: settled
objective: { metric: val_auc_macro, direction: maximize }
space: { learning_rate: { type: float, low: 1.0e-6, high: 1.0e-1, log: true } }
budget: { max_trials: 3, max_epochs: 2, parallelism: 3 }
trainer: { runner: tfjs, dataset: synthetic }
`;
    const created = await app.request('/v1/studies', { method: 'POST', body: spec, headers: { 'content-type': 'application/yaml' } });
    const { id } = (await created.json()) as { id: string };
    const [first] = await store.listTrials(id);
    await store.recordEpochs([{ trialId: first?.id as string, epoch: 1, metrics: { val_auc_macro: 0.7 }, layers: [] }], {
      metric: 'val_auc_macro',
      direction: 'maximize',
    });
    // Running: every read reads it again (its trials change).
    listed = 0;
    await app.request(`/v1/studies/${id}`);
    await app.request(`/v1/studies/${id}`);
    expect(listed).toBe(2);
    listed = 0;
    // The stop's answer is the first read of the settled study; every later one is served from it.
    expect((await app.request(`/v1/studies/${id}/stop`, { method: 'POST' })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await app.request(`/v1/studies/${id}`)).status).toBe(200);
    expect((await app.request(`/v1/studies/${id}/trials/0`)).status).toBe(200);
    expect((await app.request(`/v1/studies/${id}/export?format=json`)).status).toBe(200);
    expect(listed).toBe(1);
  });
});
