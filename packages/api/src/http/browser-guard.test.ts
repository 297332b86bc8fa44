import { describe, expect, it } from 'vitest';
import { createApp } from './app.ts';
import { useTestApp } from './test-app.ts';

const api = useTestApp();

const spec = JSON.stringify({
  name: 'from-a-page',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-4, high: 1e-1, log: true } },
  budget: { max_trials: 1, max_epochs: 1, parallelism: 1 },
  trainer: { runner: 'command', options: { command: ['sh', '-c', 'id > /tmp/pwned'] } },
});
const post = (headers: Record<string, string>) => ({ method: 'POST', body: spec, headers: { 'content-type': 'text/plain', ...headers } });

describe('requests from other web sites', () => {
  it('refuses a page of another site (a study is a command to run), and lets the dashboard, the CLI and typed addresses through', async () => {
    const app = createApp({ store: api.store, engine: api.engine, loopbackHostsOnly: true });
    const host = { host: '127.0.0.1:8080' };
    const before = (await api.store.listStudies()).length;
    for (const headers of [
      { ...host, 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' },
      // Another port of the same host name is the same site to a browser, not the same origin.
      { host: 'localhost:8080', 'sec-fetch-site': 'same-site', origin: 'http://localhost:7992' },
      // A browser that sends no Sec-Fetch-Site: its Origin decides.
      { ...host, origin: 'http://evil.example' },
      { ...host, origin: 'null' },
    ]) {
      const res = await app.request('/v1/studies', post(headers));
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(((await res.json()) as { error: string }).error).toMatch(/^a request from another web site is refused/);
      expect((await app.request('/v1/studies', { headers })).status).toBe(403);
    }
    expect((await api.store.listStudies()).length).toBe(before);
    // The dashboard (same origin), a typed address and the CLI (neither header) are answered.
    expect((await app.request('/v1/studies', { headers: { ...host, 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
    expect((await app.request('/v1/studies', { headers: { ...host, 'sec-fetch-site': 'none' } })).status).toBe(200);
    expect((await app.request('/v1/studies', { headers: { ...host, origin: 'http://127.0.0.1:8080' } })).status).toBe(200);
    expect((await app.request('/v1/studies', { headers: host })).status).toBe(200);
    // Behind a proxy that rewrites Host, the dashboard's own POST carries an Origin other than the Host: the browser's same-origin wins.
    const proxied = { host: '127.0.0.1:8080', origin: 'https://sweepd.example.com', 'sec-fetch-site': 'same-origin' };
    expect((await app.request('/v1/studies/st_none/stop', { method: 'POST', headers: proxied })).status).toBe(404);
    // Following a link from another site to the dashboard still opens it.
    expect((await app.request('/', { headers: { ...host, 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
  });

  it('on loopback without a token, answers only loopback host names (DNS rebinding); with a token, any', async () => {
    const loopback = createApp({ store: api.store, engine: api.engine, loopbackHostsOnly: true });
    for (const host of ['attacker.example:8080', 'attacker.example', '10.0.0.5:8080']) {
      const res = await loopback.request('/v1/studies', { headers: { host } });
      expect(res.status, host).toBe(421);
      expect(((await res.json()) as { error: string }).error).toContain('listens on loopback without an API token');
      expect((await loopback.request('/', { headers: { host } })).status).toBe(421);
    }
    for (const host of ['127.0.0.1:8080', 'localhost:8080', 'localhost', '[::1]:8080'])
      expect((await loopback.request('/v1/studies', { headers: { host } })).status, host).toBe(200);
    const behindProxy = createApp({ store: api.store, engine: api.engine });
    expect((await behindProxy.request('/v1/studies', { headers: { host: 'sweepd.example.com' } })).status).toBe(200);
  });
});
