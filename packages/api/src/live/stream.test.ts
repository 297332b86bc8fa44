import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBus, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { StudyEngine } from '@sweepd/search';
import '@sweepd/trainer';
import { parseSse, type SseEvent } from '../cli/sse.ts';
import { createApp } from '../http/app.ts';
import { ClientQueue } from './client-queue.ts';
import { LeaderboardHub } from './hub.ts';

// No workers: the test writes epochs into the store and announces them as the engine would.
let store: Store;
let bus: LocalBus;
let engine: StudyEngine;
let hub: LeaderboardHub;
let app: ReturnType<typeof createApp>;
let studyId = '';

const spec = JSON.stringify({
  name: 'live',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: {
    learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
    optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
  },
  budget: { max_trials: 3, max_epochs: 100, parallelism: 3 },
  trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
});

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  bus = new LocalBus();
  engine = new StudyEngine({ store, bus });
  await engine.start();
  hub = new LeaderboardHub({ store, events: engine.events, coalesceMs: 100 });
  app = createApp({ store, engine, hub });
  const res = await app.request('/v1/studies', { method: 'POST', body: spec, headers: { 'content-type': 'application/json' } });
  studyId = ((await res.json()) as { id: string }).id;
});
afterAll(async () => {
  hub.close();
  await engine.close();
  await store.close();
});

/** Reads events from a stream into an array as they come. */
function collect(body: ReadableStream<Uint8Array>): SseEvent[] {
  const events: SseEvent[] = [];
  void (async () => {
    try {
      for await (const e of parseSse(body)) events.push(e);
    } catch {
      // cancelled
    }
  })();
  return events;
}

const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const stream = (headers: Record<string, string> = {}, signal?: AbortSignal, query = '') =>
  app.request(`/v1/studies/${studyId}/leaderboard/stream${query}`, { headers, ...(signal ? { signal } : {}) });

describe('live leaderboard stream', () => {
  it('sends the current table first, then one event per burst of changes, with increasing ids', async () => {
    const first$ = new AbortController();
    const res = await stream({}, first$.signal);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const body = res.body as ReadableStream<Uint8Array>;
    const events = collect(body);
    await until(() => events.length === 1);
    const first = JSON.parse(events[0]?.data ?? '{}') as {
      rows: { number: number; epochs: number }[];
      study: { id: string };
      changes: unknown[];
    };
    expect(first.study.id).toBe(studyId);
    expect(first.rows).toHaveLength(3);
    expect(first.changes).toEqual([]);

    // 60 epoch reports in about 300 ms: at 100 ms coalescing that is a handful of events, not 60.
    const [trial] = await store.listTrials(studyId);
    if (!trial) throw new Error('no trial');
    const started = Date.now();
    for (let epoch = 1; epoch <= 60; epoch++) {
      await store.recordEpochs([{ trialId: trial.id, epoch, metrics: { val_auc_macro: 0.5 + epoch / 1000 }, layers: [] }], {
        metric: 'val_auc_macro',
        direction: 'maximize',
      });
      engine.events.emit('change', { studyId, type: 'epoch', trialNumber: trial.number });
      await new Promise((r) => setTimeout(r, 5));
    }
    const elapsed = Date.now() - started;
    await until(() => {
      const last = events.at(-1);
      return last !== undefined && (JSON.parse(last.data) as { rows: { epochs: number }[] }).rows.some((r) => r.epochs === 60);
    });
    const updates = events.slice(1);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
    const changes = updates.flatMap((e) => (JSON.parse(e.data) as { changes: { type: string; trial: number }[] }).changes);
    // Each update names the trial's epoch change once, however many epochs it covers.
    expect(changes).toHaveLength(updates.length);
    expect(changes.every((c) => c.type === 'epoch' && c.trial === trial.number)).toBe(true);
    const ids = events.map((e) => Number(e.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1] as number);
    expect(JSON.parse(events.at(-1)?.data ?? '{}').rows[0]).toMatchObject({ rank: 1, number: trial.number, value: 0.56 });

    // Resuming from the latest id repeats nothing; an old id gets a fresh table.
    const latest = events.at(-1)?.id as string;
    const resumed = collect((await stream({ 'last-event-id': latest })).body as ReadableStream<Uint8Array>);
    const old = collect((await stream({ 'last-event-id': String(ids[0]) })).body as ReadableStream<Uint8Array>);
    // A polyfill that sends headers resumes with ?lastEventId=N: read as the header.
    const resumedByQuery = collect((await stream({}, undefined, `?lastEventId=${latest}`)).body as ReadableStream<Uint8Array>);
    await until(() => old.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(resumed).toHaveLength(0);
    expect(resumedByQuery).toHaveLength(0);
    expect(Number(old[0]?.id)).toBeGreaterThanOrEqual(Number(latest));

    first$.abort();
    await until(() => hub.clientCount === 3);
  });

  it('sends a page of rows when asked (rows=N) with the total, the column order and progress', async () => {
    const controller = new AbortController();
    const res = await stream({}, controller.signal, '?rows=1');
    const events = collect(res.body as ReadableStream<Uint8Array>);
    await until(() => events.length === 1);
    const first = JSON.parse(events[0]?.data ?? '{}');
    expect(first.rows).toHaveLength(1);
    expect(first.total).toBe(3);
    // The spec's order, as written (jsonb would have put `optimizer`, the shorter key, first).
    expect(Object.keys((await store.getStudy(studyId))?.spec.space ?? {})).toEqual(['learning_rate', 'optimizer']);
    expect(first.columns).toEqual(['learning_rate', 'optimizer']);
    expect(first.progress).toEqual({ finished: 0, epochsDone: 60, planned: 3 });
    expect(first.history).toEqual([{ number: first.rows[0].number, value: 0.56 }]);
    expect((await stream({}, undefined, '?rows=-1')).status).toBe(400);
    expect((await stream({}, undefined, '?rows=x')).status).toBe(400);
    controller.abort();
  });

  it('ends the stream after the final table of a study that finished, and a late reader gets that table and the end', async () => {
    const res = await app.request('/v1/studies', { method: 'POST', body: spec, headers: { 'content-type': 'application/json' } });
    const id = ((await res.json()) as { id: string }).id;
    const follow = async (headers: Record<string, string> = {}) => {
      const events: SseEvent[] = [];
      const body = (await app.request(`/v1/studies/${id}/leaderboard/stream`, { headers })).body as ReadableStream<Uint8Array>;
      for await (const e of parseSse(body)) {
        events.push(e);
        if (events.length === 1 && !headers['last-event-id']) void app.request(`/v1/studies/${id}/stop`, { method: 'POST' });
      }
      return events.map((e) => ({ id: e.id, state: JSON.parse(e.data).study.state as string }));
    };
    // The loop above ends only because the daemon closed the stream.
    const live = await follow();
    expect(live[0]?.state).toBe('running');
    expect(live.at(-1)?.state).toBe('stopped');
    expect(live.slice(0, -1).every((e) => e.state === 'running')).toBe(true);
    const late = await follow({ 'last-event-id': live.at(-1)?.id as string });
    expect(late.map((e) => e.state)).toEqual(['stopped']);
  });

  it('keeps the stream of a stopped study open, not final, until its running trials have ended', async () => {
    const res = await app.request('/v1/studies', { method: 'POST', body: spec, headers: { 'content-type': 'application/json' } });
    const id = ((await res.json()) as { id: string }).id;
    const [running] = await store.listTrials(id);
    // One trial starts and reports an epoch; the others stay queued, and a stop ends those at once.
    await bus.publishReport({ kind: 'start', studyId: id, trialId: running?.id as string, worker: 'w1' });
    await bus.publishReport({
      kind: 'epoch',
      studyId: id,
      trialId: running?.id as string,
      epoch: 1,
      metrics: { val_auc_macro: 0.6 },
      layers: [],
    });
    await until(() => engine.view(id)?.trials.some((t) => t.state === 'running') === true);
    const events: { final: boolean; state: string; running: number }[] = [];
    const body = (await app.request(`/v1/studies/${id}/leaderboard/stream`)).body as ReadableStream<Uint8Array>;
    const done = (async () => {
      for await (const e of parseSse(body)) {
        const board = JSON.parse(e.data);
        events.push({ final: board.final, state: board.study.state, running: board.study.counts.running });
      }
    })();
    await until(() => events.length === 1);
    await app.request(`/v1/studies/${id}/stop`, { method: 'POST' });
    await until(() => events.some((e) => e.state === 'stopped'));
    await new Promise((r) => setTimeout(r, 300));
    expect(events.at(-1)).toEqual({ final: false, state: 'stopped', running: 1 });
    // The worker answers the stop: the trial ends, and with it the stream.
    await bus.publishReport({ kind: 'final', studyId: id, trialId: running?.id as string, state: 'stopped', reason: 'asked' });
    await done;
    expect(events.at(-1)).toEqual({ final: true, state: 'stopped', running: 0 });
    expect(events.filter((e) => e.final)).toHaveLength(1);
  });

  it('forgets a client that went away and ends every stream on close', async () => {
    const before = hub.clientCount;
    const controller = new AbortController();
    const res = await app.request(`/v1/studies/${studyId}/leaderboard/stream`, { signal: controller.signal });
    const events = collect(res.body as ReadableStream<Uint8Array>);
    await until(() => events.length === 1);
    expect(hub.clientCount).toBe(before + 1);
    controller.abort();
    await until(() => hub.clientCount === before);

    const reader = ((await stream()).body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    hub.close();
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(hub.clientCount).toBe(0);
  });

  it('404 for an unknown study', async () => {
    expect((await app.request('/v1/studies/st_nope/leaderboard/stream')).status).toBe(404);
  });
});

describe('leaderboard pages', () => {
  it('GET /leaderboard?limit&offset answers one page of ranked rows with the total and the column order', async () => {
    const page = async (query: string) => {
      const res = await app.request(`/v1/studies/${studyId}/leaderboard${query}`);
      return {
        status: res.status,
        body: (await res.json()) as { total: number; offset: number; columns: string[]; rows: { number: number }[] },
      };
    };
    const whole = await page('');
    expect(whole.status).toBe(200);
    expect(whole.body.total).toBe(3);
    expect(whole.body.rows).toHaveLength(3);
    expect(whole.body.columns).toEqual(['learning_rate', 'optimizer']);
    const second = await page('?limit=1&offset=1');
    expect(second.body).toMatchObject({ total: 3, offset: 1 });
    expect(second.body.rows.map((r) => r.number)).toEqual([whole.body.rows[1]?.number]);
    expect((await page('?offset=5')).body.rows).toEqual([]);
    for (const bad of ['?limit=-1', '?limit=abc', '?offset=1.5', '?limit=100001', '?limit=', '?limit=%20', '?limit=0x10', '?offset=1e3']) {
      const res = await page(bad);
      expect(res.status, bad).toBe(400);
      expect(JSON.stringify(res.body), bad).toMatch(/(limit|offset) must be an integer from 0 to 100000/);
    }
  });

  it('refuses a query parameter a request does not take, naming it and the ones it takes', async () => {
    const refused = async (path: string) => {
      const res = await app.request(path);
      expect(res.status, path).toBe(400);
      return ((await res.json()) as { error: string }).error;
    };
    // A misspelt limit would otherwise answer every row.
    expect(await refused(`/v1/studies/${studyId}/leaderboard?limt=5`)).toBe(
      "unknown query parameter 'limt': this request takes limit, offset",
    );
    expect(await refused(`/v1/studies/${studyId}/leaderboard/stream?row=5&x=1`)).toBe(
      "unknown query parameters 'row', 'x': this request takes lastEventId, rows",
    );
    expect(await refused(`/v1/studies/${studyId}/export?fromat=yaml`)).toBe("unknown query parameter 'fromat': this request takes format");
    // A cache-buster is taken everywhere and ignored.
    for (const path of ['/v1/studies?_=1700000000', `/v1/studies/${studyId}/leaderboard?limit=1&_=17`, `/v1/studies/${studyId}?_=1`])
      expect((await app.request(path)).status, path).toBe(200);
    expect(await refused('/v1/studies?state=running')).toBe("unknown query parameter 'state': this request takes limit, offset");
    for (const path of [`/v1/studies/${studyId}?verbose=1`, `/v1/studies/${studyId}/trials/0?epochs=2`]) {
      expect(await refused(path)).toMatch(/^unknown query parameter '\w+': this request takes no query parameters$/);
    }
  });
});

describe('client queue', () => {
  it('drops its backlog for a snapshot when a client falls behind, and never grows past its limit', async () => {
    const q = new ClientQueue(4);
    const event = (id: number) => ({ id, final: false, text: () => String(id) });
    for (let i = 1; i <= 3; i++) q.push(event(i));
    expect((await q.next()) as { id: number }).toMatchObject({ id: 1 });
    for (let i = 4; i <= 100; i++) q.push(event(i));
    expect(q.length).toBe(0);
    expect(q.overflows).toBe(1);
    expect(await q.next()).toBe('snapshot');
    q.push(event(101));
    expect((await q.next()) as { id: number }).toMatchObject({ id: 101 });
    const pending = q.next();
    q.close();
    expect(await pending).toBeUndefined();
  });
});
