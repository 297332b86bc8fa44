import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBus, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { StudyEngine } from '@sweepd/search';
import '@sweepd/trainer';
import { createApp } from './app.ts';
import { isLoopback } from './auth.ts';

let store: Store;
let engine: StudyEngine;
const TOKEN = 's3cret-token-for-tests';

const spec = JSON.stringify({
  name: 'surface',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true } },
  fixed: { optimizer: 'adam' },
  budget: { max_trials: 2, max_epochs: 2, parallelism: 2 },
  trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
});

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  engine = new StudyEngine({ store, bus: new LocalBus() });
  await engine.start();
});
afterAll(async () => {
  await engine.close();
  await store.close();
});

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists every route the app serves, with the spec schema for submissions', async () => {
    const app = createApp({ store, engine });
    const doc = (await (await app.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    const served = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:([A-Za-z_]+)/g, '{$1}') }));
    expect(served.length).toBeGreaterThanOrEqual(14);
    for (const { method, path } of served) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(doc.paths['/v1/studies/{id}/leaderboard/stream']?.get).toBeDefined();
    expect(doc.paths['/v1/studies']?.post?.requestBody?.content['application/json']?.schema.$ref).toBe('#/components/schemas/Spec');
    expect(Object.keys(doc.components.schemas.Spec?.properties ?? {})).toEqual(
      expect.arrayContaining(['name', 'space', 'budget', 'strategy', 'trainer']),
    );
    // The routes that never need the token say so (the document's default asks for it).
    const open = doc.paths as unknown as Record<string, Record<string, { security?: unknown[] }>>;
    for (const path of ['/healthz', '/openapi.json', '/', '/assets/{file}']) expect(open[path]?.get?.security, path).toEqual([]);
    expect(open['/metrics']?.get?.security).toBeUndefined();
    // A diverged run's NaN readings come as null, and the document says they may.
    const trial = JSON.stringify(doc.components.schemas.Trial);
    expect(trial).toContain('null where the value was NaN or infinite');
  });
});

describe('auth', () => {
  const app = () => createApp({ store, engine, token: TOKEN });
  const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });

  it('needs the bearer token on /v1 and /metrics; /healthz and the page stay open', async () => {
    const a = app();
    for (const path of ['/v1/studies', '/v1/studies/', '/v1/studies/st_x/leaderboard/stream', '/metrics', '/metrics/']) {
      const none = await a.request(path);
      expect(none.status, path).toBe(401);
      expect(((await none.json()) as { error: string }).error).toContain('Authorization: Bearer');
      expect((await a.request(path, bearer('wrong'))).status).toBe(401);
      expect((await a.request(path, bearer(`${TOKEN}x`))).status).toBe(401);
      expect((await a.request(path, { headers: { authorization: TOKEN } })).status).toBe(401);
    }
    expect((await a.request('/v1/studies', bearer(TOKEN))).status).toBe(200);
    expect((await a.request('/metrics', bearer(TOKEN))).status).toBe(200);
    expect((await a.request('/healthz')).status).toBe(200);
    expect((await a.request('/')).status).toBe(200);
    const post = await a.request('/v1/studies', { method: 'POST', body: spec, headers: { 'content-type': 'application/json' } });
    expect(post.status).toBe(401);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.5', 'example.com']) expect(isLoopback(h), h).toBe(false);
  });
});

describe('metrics, content types and methods', () => {
  it('counts trials by state, epochs and dispatch latency in Prometheus text format', async () => {
    const app = createApp({ store, engine });
    const res = await app.request('/v1/studies', { method: 'POST', body: spec, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const trials = await store.listTrials(id);
    engine.events.emit('change', { studyId: id, type: 'trial-started', trialNumber: trials[0]?.number ?? 0 });
    for (let i = 0; i < 3; i++) engine.events.emit('change', { studyId: id, type: 'epoch', trialNumber: 0 });
    const text = await (await app.request('/metrics')).text();
    expect(text).toMatch(/^sweepd_trials\{state="queued"\} [1-9]\d*$/m);
    expect(text).toMatch(/^sweepd_epochs_ingested_total 3$/m);
    expect(text).toMatch(/^sweepd_dispatch_latency_seconds_count 1$/m);
    expect(text).toMatch(/^sweepd_queue_depth \d+$/m);
    expect(text).toMatch(/^sweepd_sse_clients 0$/m);
    expect(text).toMatch(/^# TYPE sweepd_dispatch_latency_seconds histogram$/m);
  });

  it('415 for a spec in a content type it cannot be; 405 with Allow for a wrong method', async () => {
    const app = createApp({ store, engine });
    const res = await app.request('/v1/studies', { method: 'POST', body: spec, headers: { 'content-type': 'image/png' } });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: string }).error).toContain('image/png');
    const put = await app.request('/v1/studies', { method: 'PUT', body: spec });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toContain('GET');
    expect((await app.request('/assets/..%2F..%2Fpackage.json')).status).toBe(404);
    // A trailing slash names the same resource: not two 405s, each sending the client to the other.
    const list = await app.request('/v1/studies/');
    expect(list.status).toBe(200);
    expect(Array.isArray(((await list.json()) as { studies: unknown[] }).studies)).toBe(true);
    const health = await app.request('/healthz/');
    expect(health.status).toBe(200);
    const putSlash = await app.request('/v1/studies/', { method: 'PUT', body: spec });
    expect(putSlash.status).toBe(405);
    expect(putSlash.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'POST']);
    expect((await app.request('/assets/chart.js')).headers.get('content-type')).toContain('javascript');
  });
});

describe('query parameters a request does not take', () => {
  it('are refused by every route, the POSTs included, before anything is done', async () => {
    const app = createApp({ store, engine });
    const studies = (await store.listStudies({})).length;
    const refused = await app.request('/v1/studies?dry_run=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: spec,
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      error: "unknown query parameter 'dry_run': this request takes no query parameters",
      problems: [{ path: '', message: "unknown query parameter 'dry_run': this request takes no query parameters" }],
    });
    expect((await store.listStudies({})).length).toBe(studies);

    const created = await app.request('/v1/studies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: spec });
    const { id } = (await created.json()) as { id: string };
    expect((await app.request(`/v1/studies/${id}/stop?dry_run=1`, { method: 'POST' })).status).toBe(400);
    expect((await app.request(`/v1/studies/${id}/trials/0/stop?dry_run=1`, { method: 'POST' })).status).toBe(400);
    expect((await store.getStudy(id))?.state).toBe('running');
    for (const path of ['/metrics?x=1', '/openapi.json?x=1', '/healthz?x=1']) expect((await app.request(path)).status, path).toBe(400);
    // The cache-buster every GET takes stays taken.
    expect((await app.request('/openapi.json?_=123')).status).toBe(200);
    await engine.stopStudy(id);
  });

  it('a parameter given twice is refused as such, and the stream refuses as the other routes do', async () => {
    const app = createApp({ store, engine });
    const twice = await app.request('/v1/studies?limit=1&limit=2');
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { error: string }).error).toBe("limit: given 2 times ('1', '2'): give it once");
    const created = await app.request('/v1/studies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: spec });
    const { id } = (await created.json()) as { id: string };
    const stream = await app.request(`/v1/studies/${id}/leaderboard/stream?rows=-1`);
    expect(stream.status).toBe(400);
    expect(await stream.json()).toEqual({
      error: "rows: rows must be an integer from 0 to 100000 (got '-1')",
      problems: [{ path: 'rows', message: "rows must be an integer from 0 to 100000 (got '-1')" }],
    });
    await engine.stopStudy(id);
  });
});

describe('the text of a submitted spec', () => {
  it('is refused when it is not UTF-8 (whatever charset was declared), and never stored mangled', async () => {
    const app = createApp({ store, engine });
    const studies = (await store.listStudies({})).length;
    const described = spec.replace('"name":"surface"', '"name":"surface","description":"caf\u00e9 r\u00e9sum\u00e9"');
    const latin1 = Buffer.from(described, 'latin1');
    const post = (body: Uint8Array, type = 'application/json') =>
      app.request('/v1/studies', { method: 'POST', headers: { 'content-type': type }, body });
    const refused = await post(latin1);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toMatch(/^request body is not UTF-8 text: send the spec as UTF-8/);
    // Declared Latin-1 and Latin-1 it is: still refused, the declared charset named as the cause.
    const declared = await post(latin1, 'application/json; charset=ISO-8859-1');
    expect(declared.status).toBe(400);
    expect(((await declared.json()) as { error: string }).error).toMatch(
      /^request body is not UTF-8 text \(it was declared iso-8859-1\): send the spec as UTF-8/,
    );
    expect((await store.listStudies({})).length).toBe(studies);
    // ASCII declared ISO-8859-1 (Spring RestTemplate's text/plain default) is UTF-8 as well: taken.
    const ascii = await post(Buffer.from(spec), 'text/plain; charset=ISO-8859-1');
    expect(ascii.status).toBe(201);
    await engine.stopStudy(((await ascii.json()) as { id: string }).id);
    // UTF-8, with a byte-order mark or a declared charset: taken, the name as sent.
    const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(described, 'utf8')]);
    const taken = await post(utf8, 'application/json; charset=UTF-8');
    expect(taken.status).toBe(201);
    const { id } = (await taken.json()) as { id: string };
    expect((await store.getStudy(id))?.spec.description).toBe('caf\u00e9 r\u00e9sum\u00e9');
    await engine.stopStudy(id);
  });
});
