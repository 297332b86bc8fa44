import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBus, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { StudyEngine } from '@sweepd/search';
import '@sweepd/trainer';
import { createApp, MAX_BODY_BYTES } from './app.ts';

// No workers: trials stay queued, and the tests write results into the store themselves.
let store: Store;
let engine: StudyEngine;
let app: ReturnType<typeof createApp>;

const specYaml = `
name: api-test
objective: { metric: val_auc_macro, direction: maximize }
space:
  learning_rate: { type: float, low: 1.0e-6, high: 1.0e-1, log: true }
  optimizer: { type: categorical, choices: [sgd, adam] }
fixed: { batch_size: 32 }
strategy: { name: random, options: { seed: 3 } }
budget: { max_trials: 4, max_epochs: 2, parallelism: 2 }
trainer: { runner: tfjs, dataset: synthetic }
`;

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  engine = new StudyEngine({ store, bus: new LocalBus() });
  await engine.start();
  app = createApp({ store, engine });
});
afterAll(async () => {
  await engine.close();
  await store.close();
});

const post = (path: string, body: string, type = 'application/yaml') =>
  app.request(path, { method: 'POST', body, headers: { 'content-type': type } });

describe('HTTP API', () => {
  let studyId = '';

  it('201: creates a study from YAML and starts its first trials', async () => {
    const res = await post('/v1/studies', specYaml);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; state: string; counts: Record<string, number> };
    expect(body.state).toBe('running');
    expect(body.counts.queued).toBe(2);
    expect(res.headers.get('location')).toBe(`/v1/studies/${body.id}`);
    studyId = body.id;
  });

  it('201: accepts JSON too', async () => {
    const json = JSON.stringify({
      name: 'json-spec',
      objective: {},
      space: { learning_rate: { type: 'float', low: 0.001, high: 0.1 } },
      budget: { max_trials: 1, max_epochs: 1 },
    });
    expect((await post('/v1/studies', json, 'application/json')).status).toBe(201);
  });

  it('400: lists every problem of an invalid spec by path', async () => {
    const res = await post(
      '/v1/studies',
      'name: bad\nobjective: { direction: up }\nspace: { learning_rate: { type: float, low: 0, high: 1, log: true } }\nbudget: { max_trials: 0, max_epochs: 1 }\n',
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; problems: { path: string; message: string }[] };
    expect(body.error).toBe('invalid spec');
    expect(body.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['objective.direction', 'budget.max_trials']));
  });

  it('400: broken YAML, empty body, unknown strategy, bad options', async () => {
    for (const body of ['name: [unclosed', '', '   ']) {
      const res = await post('/v1/studies', body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBeTruthy();
    }
    const unknown = await post('/v1/studies', specYaml.replace('name: random', 'name: simulated-annealing'));
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain("no strategy named 'simulated-annealing'");
    const badRunner = await post('/v1/studies', specYaml.replace('runner: tfjs', 'runner: pytorch').replace(/fixed: .*\n/, ''));
    expect(badRunner.status).toBe(400);
    expect(JSON.stringify(await badRunner.json())).toContain('trainer.runner');
  });

  it('Idempotency-Key: 201 once, then 200 with the same study; 409 for another spec; 400 for a bad key', async () => {
    const submit = (body: string, key: string) =>
      app.request('/v1/studies', { method: 'POST', body, headers: { 'content-type': 'application/yaml', 'idempotency-key': key } });
    const before = (await store.listStudies()).length;
    const first = await submit(specYaml, 'f47ac10b-58cc-4372-a567-0e02b2c3d479');
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };
    const again = await submit(specYaml, 'f47ac10b-58cc-4372-a567-0e02b2c3d479');
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(id);
    expect((await store.listStudies()).length).toBe(before + 1);

    const other = await submit(specYaml.replace('name: api-test', 'name: other'), 'f47ac10b-58cc-4372-a567-0e02b2c3d479');
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ error: expect.stringContaining('different spec'), study: id });
    const bad = await submit(specYaml, 'x'.repeat(256));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/idempotency key must be 1 to 255 visible ASCII/);
    expect((await store.listStudies()).length).toBe(before + 1);
  });

  it('413: refuses a body over 1 MiB', async () => {
    const res = await post('/v1/studies', `name: big\n#${'x'.repeat(MAX_BODY_BYTES)}\n`);
    expect(res.status).toBe(413);
  });

  it('200: lists and shows studies; 404 for unknown ids', async () => {
    const list = (await (await app.request('/v1/studies')).json()) as { studies: { id: string }[]; total: number; offset: number };
    expect(list.studies.map((s) => s.id)).toContain(studyId);
    expect(list).toMatchObject({ total: list.studies.length, offset: 0 });
    // A page, oldest first, with the whole count.
    const page = (await (await app.request('/v1/studies?limit=1&offset=1')).json()) as typeof list;
    expect(page).toMatchObject({ total: list.total, offset: 1, studies: [{ id: list.studies[1]?.id }] });
    const bad = await app.request('/v1/studies?limit=-1');
    expect([bad.status, ((await bad.json()) as { error: string }).error]).toEqual([
      400,
      expect.stringMatching(/limit must be an integer from 0 to/),
    ]);
    expect((await app.request(`/v1/studies/${studyId}`)).status).toBe(200);
    for (const path of [
      '/v1/studies/st_nope',
      '/v1/studies/..%2F..%2Fetc',
      '/v1/studies/st_nope/leaderboard',
      `/v1/studies/${studyId}/trials/99`,
      '/v1/nothing',
    ]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: string }).error).toBeTruthy();
    }
    expect((await app.request(`/v1/studies/${studyId}/trials/-1`)).status).toBe(400);
    expect((await app.request(`/v1/studies/${studyId}/trials/abc`)).status).toBe(400);
    const tooLong = await app.request(`/v1/studies/${studyId}/trials/1000000000`);
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: string }).error).toBe(
      "n: trial number must be an integer from 0 to 999999999 (got '1000000000')",
    );
  });

  it('409 before any result; then leaderboard, trial and export in every format', async () => {
    expect((await app.request(`/v1/studies/${studyId}/export`)).status).toBe(409);
    const trials = await store.listTrials(studyId);
    const [a, b] = trials;
    if (!a || !b) throw new Error('expected two trials');
    await store.recordEpochs(
      [
        { trialId: a.id, epoch: 1, metrics: { val_auc_macro: 0.61 }, layers: [{ layer: 'conv1', trainable: true, kernelMovement: 0.01 }] },
        { trialId: a.id, epoch: 2, metrics: { val_auc_macro: 0.72 }, layers: [] },
        { trialId: b.id, epoch: 1, metrics: { val_auc_macro: 0.55 }, layers: [] },
      ],
      { metric: 'val_auc_macro', direction: 'maximize' },
    );
    const board = (await (await app.request(`/v1/studies/${studyId}/leaderboard`)).json()) as {
      rows: { rank: number | null; number: number; value: number | null; bestEpoch: number | null }[];
    };
    expect(board.rows.slice(0, 2)).toMatchObject([
      { rank: 1, number: a.number, value: 0.72, bestEpoch: 2 },
      { rank: 2, number: b.number, value: 0.55, bestEpoch: 1 },
    ]);
    const trial = (await (await app.request(`/v1/studies/${studyId}/trials/${a.number}`)).json()) as {
      epochs: { layers: { layer: string }[] }[];
    };
    expect(trial.epochs[0]?.layers[0]?.layer).toBe('conv1');

    const json = (await (await app.request(`/v1/studies/${studyId}/export?format=json`)).json()) as {
      trial: number;
      config: Record<string, unknown>;
    };
    expect(json.trial).toBe(a.number);
    expect(json.config).toEqual({ batch_size: 32, ...a.params });
    const flags = await (await app.request(`/v1/studies/${studyId}/export?format=flags`)).text();
    // In the spec's order (the store's jsonb keeps none: it would put optimizer first), then the fixed values.
    expect(flags).toBe(`--learning_rate=${a.params.learning_rate} --optimizer=${a.params.optimizer} --batch_size=32\n`);
    expect(Object.keys(json.config)).toEqual(['learning_rate', 'optimizer', 'batch_size']);
    const view = (await (await app.request(`/v1/studies/${studyId}`)).json()) as {
      answer: { verdict: string; best: { params: object } };
      learningRateParam: string | null;
      spec: { space: object };
    };
    // The dashboard draws the learning-rate chart over it, whatever the space calls it.
    expect(view.learningRateParam).toBe('learning_rate');
    expect(Object.keys(view.answer.best.params)).toEqual(['learning_rate', 'optimizer']);
    // The spec echoed as written: sent back, it searches its parameters in the same order.
    expect(Object.keys(view.spec.space)).toEqual(['learning_rate', 'optimizer']);
    expect(view.answer.verdict).toMatch(/learning_rate=.*, optimizer=/);
    expect(await (await app.request(`/v1/studies/${studyId}/export?format=yaml`)).text()).toContain('batch_size: 32');
    expect(await (await app.request(`/v1/studies/${studyId}/export?format=env`)).text()).toContain('BATCH_SIZE=32');
    expect((await app.request(`/v1/studies/${studyId}/export?format=xml`)).status).toBe(400);
  });

  it('stops a trial and a study; 409 when there is nothing to stop', async () => {
    const queued = (await store.listTrials(studyId)).find((t) => t.state === 'queued');
    expect(queued).toBeDefined();
    expect((await app.request(`/v1/studies/${studyId}/trials/${queued?.number}/stop`, { method: 'POST' })).status).toBe(200);
    expect((await store.getTrial(studyId, queued?.number ?? -1))?.state).toBe('stopped');
    expect((await app.request(`/v1/studies/${studyId}/trials/${queued?.number}/stop`, { method: 'POST' })).status).toBe(409);
    expect((await app.request(`/v1/studies/${studyId}/stop`, { method: 'POST' })).status).toBe(200);
    expect((await store.getStudy(studyId))?.state).toBe('stopped');
    expect((await app.request(`/v1/studies/${studyId}/stop`, { method: 'POST' })).status).toBe(409);
  });

  it('answers /healthz', async () => {
    expect(await (await app.request('/healthz')).json()).toMatchObject({ ok: true });
  });
});
