import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBus, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { StudyEngine } from '@sweepd/search';
import { createApp } from '../http/app.ts';
import { ApiClient, ApiError } from './client.ts';

// The real API behind a proxy that, once armed, lets a request reach the daemon and then cuts the
// connection before the reply gets back: the study is created, the client never hears of it.
let store: Store;
let engine: StudyEngine;
let daemon: ReturnType<typeof serve>;
let proxy: http.Server;
let proxyUrl = '';
/** What the proxy does to the next reply: pass it, cut the connection, cut it after the headers, or turn it into a 500. */
let nextReply: 'pass' | 'cut' | 'cut-after-headers' | '500' = 'pass';

const specYaml = `
name: lost-reply
objective: { metric: val_auc_macro, direction: maximize }
space: { learning_rate: { type: float, low: 1.0e-6, high: 1.0e-1, log: true } }
strategy: { name: random, options: { seed: 1 } }
budget: { max_trials: 2, max_epochs: 1, parallelism: 1 }
`;

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  engine = new StudyEngine({ store, bus: new LocalBus() });
  await engine.start();
  const app = createApp({ store, engine });
  const daemonPort = await new Promise<number>((resolve) => {
    daemon = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
  });
  proxy = http.createServer((req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: daemonPort, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        const mode = nextReply;
        nextReply = 'pass';
        if (mode === 'cut') {
          answer.resume();
          req.socket.destroy();
        } else if (mode === 'cut-after-headers') {
          answer.resume();
          res.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json', 'content-length': '1000' });
          res.write('{"id":');
          setTimeout(() => req.socket.destroy(), 20);
        } else if (mode === '500') {
          answer.resume();
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
        } else {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        }
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
  await new Promise((resolve) => daemon.close(resolve));
  await engine.close();
  await store.close();
});

describe('ApiClient.submitStudy', () => {
  for (const mode of ['cut', 'cut-after-headers', '500'] as const) {
    it(`creates one study when the reply to the first request is lost (${mode})`, async () => {
      const before = (await store.listStudies()).length;
      nextReply = mode;
      const study = await new ApiClient(proxyUrl).submitStudy<{ id: string; name: string }>(specYaml);
      expect(study.name).toBe('lost-reply');
      expect(nextReply).toBe('pass'); // the first reply was indeed spoilt
      const studies = await store.listStudies();
      expect(studies).toHaveLength(before + 1);
      expect(studies.map((s) => s.id)).toContain(study.id);
    });
  }

  it('without a key, the same lost reply would have left a study the client cannot know of', async () => {
    const before = (await store.listStudies()).length;
    nextReply = 'cut';
    const error = await new ApiClient(proxyUrl).json('POST', '/v1/studies', specYaml).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(0);
    expect((await store.listStudies()).length).toBe(before + 1);
  });

  it('does not retry a refused connection or a rejected spec', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const started = Date.now();
    await expect(new ApiClient(`http://127.0.0.1:${port}`).submitStudy(specYaml)).rejects.toMatchObject({ status: 0 });
    await expect(new ApiClient(proxyUrl).submitStudy('name: [unclosed')).rejects.toMatchObject({ status: 400 });
    expect(Date.now() - started).toBeLessThan(400); // the first retry would wait 500 ms
  });
});
