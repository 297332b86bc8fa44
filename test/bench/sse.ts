/**
 * Live leaderboard cost: epoch reports per second through the engine (LocalBus, PGlite on disk or
 * PostgreSQL with SWEEPD_DATABASE_URL) with 0 and with 100 SSE watchers on the study being fed.
 * The watchers are real HTTP streams read to the end by this process; the hub coalesces changes,
 * so 100 watchers should cost one table read per ~150 ms, not one per report per watcher.
 *
 *   node --import tsx test/bench/sse.ts [--epochs N] [--watchers N]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Daemon, startDaemon } from '../../packages/api/src/daemon.ts';

export interface SseBenchResult {
  store: string;
  epochs: number;
  watchers: number;
  baseline: { reportsPerSecond: number };
  watched: { reportsPerSecond: number; eventsPerWatcher: number; bytesPerWatcher: number };
  /** watched / baseline: 1 means the watchers cost nothing. */
  ratio: number;
}

const TRIALS = 16;

function spec(name: string, maxEpochs: number) {
  return JSON.stringify({
    name,
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    space: {
      learning_rate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
      optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
    },
    budget: { max_trials: TRIALS, max_epochs: maxEpochs, parallelism: TRIALS },
    trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
  });
}

/** Feeds `epochs` epoch reports (round robin over the study's trials) and times until all are stored. */
async function feed(daemon: Daemon, studyId: string, epochs: number): Promise<number> {
  const trials = await daemon.store.listTrials(studyId);
  const perTrial = Math.ceil(epochs / trials.length);
  let ingested = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const onChange = (e: { studyId: string; type: string }) => {
    if (e.studyId === studyId && e.type === 'epoch' && ++ingested === epochs) done();
  };
  daemon.engine.events.on('change', onChange);
  for (const t of trials) await daemon.bus.publishReport({ kind: 'start', studyId, trialId: t.id, worker: 'bench' });
  const started = performance.now();
  let sent = 0;
  for (let epoch = 1; epoch <= perTrial && sent < epochs; epoch++) {
    // Reports reach a real daemon through I/O (worker processes, NATS); a loop that never yields
    // would starve the timers the live stream runs on, so each round of reports yields once.
    await new Promise((r) => setImmediate(r));
    for (const t of trials) {
      if (sent++ >= epochs) break;
      await daemon.bus.publishReport({
        kind: 'epoch',
        studyId,
        trialId: t.id,
        epoch,
        metrics: { val_auc_macro: 0.5 + 0.4 * (1 - Math.exp(-epoch / 20)) + t.number / 1000, train_loss: 1 / epoch },
        layers: [],
      });
    }
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  daemon.engine.events.off('change', onChange);
  return epochs / seconds;
}

async function submit(daemon: Daemon, name: string, maxEpochs: number): Promise<string> {
  const res = await fetch(`${daemon.url}/v1/studies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: spec(name, maxEpochs),
  });
  if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

export async function runSseBench(options: { epochs?: number; watchers?: number; databaseUrl?: string } = {}): Promise<SseBenchResult> {
  const epochs = options.epochs ?? 20_000;
  const watchers = options.watchers ?? 100;
  const daemon = await startDaemon({
    port: 0,
    workers: 0,
    dataDir: mkdtempSync(path.join(tmpdir(), 'sweepd-sse-bench-')),
    databaseUrl: options.databaseUrl ?? process.env.SWEEPD_DATABASE_URL,
  });
  try {
    const maxEpochs = Math.ceil(epochs / TRIALS) + 1;
    // Warm up (JIT, PGlite's caches) so neither phase pays for it.
    await feed(daemon, await submit(daemon, 'sse-bench-warmup', maxEpochs), Math.min(2000, epochs));
    const baselineRate = await feed(daemon, await submit(daemon, 'sse-bench-alone', maxEpochs), epochs);

    const watchedId = await submit(daemon, 'sse-bench-watched', maxEpochs);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(import.meta.dirname, 'sse-watchers.ts'),
        `${daemon.url}/v1/studies/${watchedId}/leaderboard/stream`,
        String(watchers),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    while (!output.includes('ready\n')) await new Promise((r) => setTimeout(r, 20));
    while (daemon.hub.clientCount < watchers) await new Promise((r) => setTimeout(r, 20));
    const watchedRate = await feed(daemon, watchedId, epochs);
    // Let the last table reach every watcher, then collect their counts.
    await new Promise((r) => setTimeout(r, 1_000));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const counts = JSON.parse(output.trim().split('\n').at(-1) ?? '[]') as { events: number; bytes: number }[];

    const result: SseBenchResult = {
      store: daemon.store.kind,
      epochs,
      watchers,
      baseline: { reportsPerSecond: baselineRate },
      watched: {
        reportsPerSecond: watchedRate,
        eventsPerWatcher: counts.reduce((n, c) => n + c.events, 0) / watchers,
        bytesPerWatcher: counts.reduce((n, c) => n + c.bytes, 0) / watchers,
      },
      ratio: watchedRate / baselineRate,
    };
    console.log(`SSE bench (${result.store}, LocalBus, ${epochs} epoch reports over ${TRIALS} trials)`);
    console.log(`  0 watchers:   ${baselineRate.toFixed(0)} reports/s`);
    console.log(
      `  ${watchers} watchers: ${watchedRate.toFixed(0)} reports/s  (${result.watched.eventsPerWatcher.toFixed(1)} events, ${(result.watched.bytesPerWatcher / 1024).toFixed(0)} KiB per watcher)`,
    );
    console.log(`  ratio watched/alone: ${result.ratio.toFixed(2)}`);
    return result;
  } finally {
    await daemon.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  await runSseBench({ epochs: arg('epochs'), watchers: arg('watchers') });
}
