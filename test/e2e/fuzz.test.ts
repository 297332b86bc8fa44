import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../packages/api/src/daemon.ts';

// 10,000+ malformed or hostile requests against a running daemon (in-process, no workers, so the
// stored studies cannot change by themselves): every answer must be a 4xx with a JSON `error`,
// never a 5xx; memory stays bounded; the two studies stored first are byte-identical afterwards.
const REQUESTS = 10_500;
const CONCURRENCY = 6;

const valid = {
  name: 'fuzz-valid',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: {
    learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
    optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
  },
  budget: { max_trials: 3, max_epochs: 2, parallelism: 2 },
  trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
};
// `space` is missing, so no mutation of a few bytes can make this a valid spec; every hostile spec below starts from it.
const broken = { ...valid, space: undefined, name: 'fuzz-broken' };
const invalidBase = JSON.stringify(broken);
const invalidYaml =
  'name: fuzz-broken\nobjective: { metric: val_auc_macro }\nbudget: { max_trials: 3, max_epochs: 2 }\nstrategy: { name: random }\n';

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Attack {
  kind: string;
  method: string;
  path: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

const billionLaughs = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n${Array.from(
  { length: 9 },
  (_, i) =>
    `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
      .fill(`*${String.fromCharCode(97 + i)}`)
      .join(',')}]`,
).join('\n')}\n`;
const wrongTypes: unknown[] = [null, true, 0, -1, 1e308, 'x', [], {}, [1, 2], { a: 1 }, '1', Number.MAX_SAFE_INTEGER + 2];

/** The attacks, made one at a time as they are sent: made up front, their bodies alone would be ~700 MiB. */
function attacks(random: () => number, ids: string[]): () => Attack {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const id = () => pick(ids);
  const json = { 'content-type': 'application/json' };
  const yaml = { 'content-type': 'application/yaml' };
  const generators: Array<() => Attack> = [
    // broken JSON and YAML: truncations and byte flips of an invalid spec
    () => ({
      kind: 'truncated',
      method: 'POST',
      path: '/v1/studies',
      body: invalidBase.slice(0, Math.floor(random() * invalidBase.length)) || '{',
      headers: json,
    }),
    () => {
      const bytes = Buffer.from(random() < 0.5 ? invalidBase : invalidYaml);
      for (let k = 0; k < 1 + random() * 8; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      return { kind: 'mutated', method: 'POST', path: '/v1/studies', body: new Uint8Array(bytes), headers: yaml };
    },
    () => ({
      kind: 'yaml-syntax',
      method: 'POST',
      path: '/v1/studies',
      body: pick([
        'name: [unclosed',
        'a: b: c',
        '{"a": }',
        '- a\nb: c',
        ': :',
        '"\\u',
        '\t\tname: x',
        '%YAML 9.9\n---\na: 1',
        '!!binary x',
        'a: !!js/function "f"',
        '&a [*a]',
        'a: *undefined',
      ]),
      headers: yaml,
    }),
    // YAML bombs, anchors and aliases
    () => ({ kind: 'billion-laughs', method: 'POST', path: '/v1/studies', body: billionLaughs, headers: yaml }),
    () => ({
      kind: 'aliases',
      method: 'POST',
      path: '/v1/studies',
      body: `base: &b { type: float, low: 0, high: 1 }\nname: x\nspace: { ${Array.from({ length: 200 }, (_, i) => `p${i}: *b`).join(', ')} }\n`,
      headers: yaml,
    }),
    // huge numbers
    () => ({
      kind: 'huge-number',
      method: 'POST',
      path: '/v1/studies',
      body: JSON.stringify({
        ...broken,
        budget: { max_trials: pick(['1e400', '-1e400', '99999999999999999999999', 'NaN', '.inf']), max_epochs: 1 },
      }).replace(/"(1e400|-1e400|99999999999999999999999|NaN|\.inf)"/, '$1'),
      headers: yaml,
    }),
    () => ({
      kind: 'huge-number',
      method: 'POST',
      path: '/v1/studies',
      body: JSON.stringify({
        ...broken,
        // `space` stays missing: low/high this extreme may well be a valid range
        budget: { max_trials: pick([1e308, -1e308, 2 ** 53 + 1]), max_epochs: pick([5e-324, 1e300]), parallelism: -1e308 },
      }),
      headers: json,
    }),
    // deep nesting
    () => ({
      kind: 'deep-array',
      method: 'POST',
      path: '/v1/studies',
      body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      headers: json,
    }),
    () => ({
      kind: 'deep-map',
      method: 'POST',
      path: '/v1/studies',
      body: `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
      headers: json,
    }),
    () => ({
      kind: 'deep-block',
      method: 'POST',
      path: '/v1/studies',
      body: Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      headers: yaml,
    }),
    // wrong types in every field
    () => {
      const field = pick(['name', 'objective', 'space', 'budget', 'strategy', 'stopping', 'trainer', 'fixed', 'plugins']);
      return {
        kind: 'wrong-type',
        method: 'POST',
        path: '/v1/studies',
        body: JSON.stringify({ ...broken, [field]: pick(wrongTypes) }),
        headers: json,
      };
    },
    () => ({ kind: 'wrong-type', method: 'POST', path: '/v1/studies', body: JSON.stringify(pick(wrongTypes)), headers: json }),
    () => ({
      kind: 'bad-plugin',
      method: 'POST',
      path: '/v1/studies',
      body: JSON.stringify({
        ...broken,
        plugins: [pick(['../../../etc/passwd', '/dev/zero', 'node:fs', 'data:text/javascript,process.exit(1)', '\0'])],
      }),
      headers: json,
    }),
    // unknown ids, bad trial numbers, bad queries
    () => ({
      kind: 'unknown-id',
      method: 'GET',
      path: `/v1/studies/st_${Math.floor(random() * 1e9).toString(36)}${pick(['', '/leaderboard', '/export', '/trials/0', '/leaderboard/stream'])}`,
    }),
    () => ({
      kind: 'unknown-trial',
      method: pick(['GET', 'POST']),
      path: `/v1/studies/${id()}/trials/${pick(['999999', '123456789', '-1', '1e3', '0x10', '1.5', '٣', 'abc', '9999999999', '%20'])}${pick(['', '/stop'])}`,
    }),
    () => ({
      kind: 'bad-query',
      method: 'GET',
      path: `/v1/studies/${id()}/export?format=${pick(['xml', '..%2F..%2Fetc', '', 'JSON', 'yaml%00', 'flags&format=env'])}`,
    }),
    // path tricks
    () => ({
      kind: 'path',
      method: 'GET',
      path: pick([
        '/v1/studies/..%2F..%2Fetc%2Fpasswd',
        '/v1/studies/%2e%2e',
        '/v1/studies/a%2Fb/leaderboard',
        '/v1/studies/%00',
        '/v1/studies/st_x%00/export',
        '/v1/studies/%252e%252e%252f',
        '/assets/..%2F..%2Fpackage.json',
        '/assets/%2e%2e/package.json',
        '/assets/chart.js%00.html',
        '/v1/studies/' + 'a'.repeat(5000),
        '/v1//studies',
        '/v1/studies/%ff%fe',
        '/v2/studies',
        // (the client resolves the dots: this asks for /v1/, which is no route)
        '/v1/studies/st_x/trials/0/../../../..',
      ]),
    }),
    // oversized bodies and bad content types
    () => ({ kind: 'oversized', method: 'POST', path: '/v1/studies', body: `name: big\n#${'x'.repeat(1024 * 1024 + 10)}`, headers: yaml }),
    () => ({
      kind: 'content-type',
      method: 'POST',
      path: '/v1/studies',
      body: JSON.stringify(valid),
      headers: {
        'content-type': pick([
          'image/png',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
          'text/html',
          'application/octet-stream',
          'application/xml',
        ]),
      },
    }),
    // bad methods
    () => ({
      kind: 'method',
      method: pick(['PUT', 'DELETE', 'PATCH']),
      path: pick(['/v1/studies', `/v1/studies/${id()}`, `/v1/studies/${id()}/leaderboard`, '/healthz', '/metrics', '/openapi.json']),
    }),
    () => ({
      kind: 'method',
      method: 'POST',
      path: pick([`/v1/studies/${id()}`, `/v1/studies/${id()}/leaderboard`, '/healthz', `/v1/studies/${id()}/export`]),
      body: '{}',
      headers: json,
    }),
  ];
  let i = 0;
  return () => (generators[i++ % generators.length] as () => Attack)();
}

/**
 * A request that yields the answer even when the server closes the connection before the whole
 * body was sent, which is what it does with an oversized body: it answers 413 at once and does
 * not read a megabyte it will refuse (fetch reports that as a failed request and drops the answer).
 */
function rawRequest(url: string, init: { method: string; headers: Record<string, string>; body?: string | Uint8Array }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method, headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: res.headers as Record<string, string> })),
      );
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!req.writableEnded || !req.destroyed) reject(err);
    });
    req.end(init.body);
  });
}

// A full collection, so that what is measured is what is kept rather than garbage not yet collected.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
function retained(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

let daemon: Daemon;
const stored: Record<string, string> = {};

beforeAll(async () => {
  daemon = await startDaemon({ port: 0, dataDir: mkdtempSync(path.join(tmpdir(), 'sweepd-fuzz-')), workers: 0 });
  for (const name of ['fuzz-a', 'fuzz-b']) {
    const res = await fetch(`${daemon.url}/v1/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...valid, name }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    stored[id] = await snapshot(id);
  }
}, 60_000);
afterAll(async () => {
  await daemon?.close();
});

async function snapshot(id: string): Promise<string> {
  const parts = await Promise.all(
    [`/v1/studies/${id}`, `/v1/studies/${id}/leaderboard`, `/v1/studies/${id}/trials/0`].map(async (p) =>
      (await fetch(daemon.url + p)).text(),
    ),
  );
  return parts.join('\n');
}

describe('fuzzing the HTTP API', () => {
  it(`answers ${REQUESTS} hostile requests with 4xx JSON errors, stays small, and changes nothing stored`, async () => {
    const nextAttack = attacks(rng(20240607), Object.keys(stored));
    const baseline = retained();
    let peak = process.memoryUsage().rss;
    const failures: string[] = [];
    const kinds = new Map<string, number>();
    const slow: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next++ < REQUESTS) {
        const attack = nextAttack();
        const t0 = performance.now();
        let res: Response;
        try {
          res = await (attack.kind === 'oversized' ? rawRequest : fetch)(daemon.url + attack.path, {
            method: attack.method,
            headers: attack.headers ?? {},
            ...(attack.body === undefined ? {} : { body: attack.body }),
          });
        } catch (err) {
          failures.push(`${attack.kind} ${attack.method} ${attack.path.slice(0, 80)} → no answer: ${(err as Error).cause ?? err}`);
          continue;
        }
        const text = await res.text();
        const ms = performance.now() - t0;
        if (ms > 1000) slow.push(`${attack.kind} ${attack.method} ${attack.path.slice(0, 80)}: ${ms.toFixed(0)} ms`);
        kinds.set(attack.kind, (kinds.get(attack.kind) ?? 0) + 1);
        let error: unknown;
        try {
          error = (JSON.parse(text) as { error?: unknown }).error;
        } catch {
          error = undefined;
        }
        if (
          res.status < 400 ||
          res.status >= 500 ||
          typeof error !== 'string' ||
          error.length === 0 ||
          !res.headers.get('content-type')?.includes('application/json')
        ) {
          failures.push(`${attack.kind} ${attack.method} ${attack.path.slice(0, 80)} → ${res.status} ${text.slice(0, 200)}`);
        }
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures.slice(0, 20)).toEqual([]);
    expect([...kinds.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);
    // Every hostile body is refused quickly: a billion laughs or 100,000 nested arrays is a fast 400.
    expect(slow).toEqual([]);
    // What the daemon keeps after a collection must not grow with the number of requests (a leak
    // would: 10,000 requests of up to 1 MiB each). The peak RSS is reported, not asserted: it
    // mostly measures when the collector ran.
    const after = retained();
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    expect(after - baseline, `retained heap+external ${mib(baseline)} → ${mib(after)}; peak rss ${mib(peak)}`).toBeLessThan(64 * 2 ** 20);
    for (const [id, before] of Object.entries(stored)) expect(await snapshot(id), id).toBe(before);
    const { studies } = (await (await fetch(`${daemon.url}/v1/studies`)).json()) as { studies: unknown[] };
    expect(studies).toHaveLength(2);
  }, 120_000);
});
