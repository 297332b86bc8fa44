/**
 * End-to-end engine throughput with the `noop` runner (a benchmark aid that trains nothing):
 * create → dispatch → run → report → store, through the real Store and Bus.
 * Targets (2 cores, NATS + PostgreSQL): ≥ 500 trials/s and ≥ 10,000 epoch reports/s.
 * Reference in the same run: Optuna 3.1 with PostgreSQL storage (../shared/anchors, `rdb`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Bus, LocalBus, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { StudyEngine } from '@sweepd/search';
import { noopRunnerPlugin, startWorker } from '@sweepd/trainer';
import { createTempDatabase } from '../support/postgres-db.ts';

const NATS_URL = process.env.SWEEPD_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

interface Figures {
  setup: string;
  trials: number;
  epochs: number;
  seconds: number;
  trialsPerSecond: number;
  epochReportsPerSecond: number;
}

async function runStudy(
  store: Store,
  bus: Bus,
  workerBus: Bus | undefined,
  opts: { trials: number; epochs: number; parallelism: number },
): Promise<Omit<Figures, 'setup'>> {
  const engine = new StudyEngine({ store, bus });
  const runner = await noopRunnerPlugin.create({} as Record<string, never>, { cacheDir: tmpdir(), log: () => {} });
  // Without a worker bus the workers run in another process (see natsWorkerProcess).
  const worker = workerBus ? await startWorker({ bus: workerBus, runner, concurrency: opts.parallelism }) : undefined;
  await engine.start();
  const spec = {
    name: 'throughput',
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    space: {
      learning_rate: { type: 'float', low: 1e-6, high: 1e-1, log: true },
      optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
    },
    strategy: { name: 'random', options: { seed: 1 } },
    budget: { max_trials: opts.trials, max_epochs: opts.epochs, parallelism: opts.parallelism },
    trainer: { runner: 'noop' },
  };
  const started = performance.now();
  const study = await engine.submit(JSON.stringify(spec));
  const done = new Promise<void>((resolve) => {
    engine.events.on('change', (e) => {
      if (e.studyId === study.id && e.type === 'study') resolve();
    });
  });
  await done;
  const seconds = (performance.now() - started) / 1000;
  const trials = await store.listTrials(study.id);
  const epochs = trials.reduce((n, t) => n + t.epochs.length, 0);
  if (trials.length !== opts.trials || epochs !== opts.trials * opts.epochs)
    throw new Error(`lost work: ${trials.length} trials, ${epochs} epochs`);
  await worker?.close();
  await engine.close();
  return { trials: opts.trials, epochs, seconds, trialsPerSecond: opts.trials / seconds, epochReportsPerSecond: epochs / seconds };
}

/** The daemon's NATS bus here, the worker in its own process, as in a real deployment. */
async function natsSetup(parallelism: number): Promise<{ daemon: Bus; stop(): Promise<void> } | undefined> {
  try {
    const { connectNatsBus } = await import('@sweepd/core/nats');
    const prefix = `bench${Date.now().toString(36)}`;
    const daemon = await connectNatsBus({ servers: NATS_URL, prefix });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'noop-worker.ts'), NATS_URL, prefix, String(parallelism)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
    return {
      daemon,
      async stop() {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
        await daemon.close();
      },
    };
  } catch (err) {
    console.log(`NATS bus unavailable (${(err as Error).message}); skipping the NATS rows`);
    return undefined;
  }
}

function optunaReference(trials: number): Record<string, { trials_per_s: number }> | undefined {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import optuna, psycopg2'], { stdio: 'ignore' });
  } catch {
    console.log('Optuna reference: not measured (apt-get install python3-optuna python3-psycopg2)');
    return undefined;
  }
  const out = mkdtempSync(path.join(tmpdir(), 'anchor-'));
  const script = path.resolve(import.meta.dirname, '../../../shared/anchors/optuna_bench.py');
  execFileSync('/usr/bin/python3', [script, 'rdb', String(trials)], {
    env: { ...process.env, ANCHOR_OUT: out },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return (JSON.parse(readFileSync(path.join(out, 'rdb.json'), 'utf8')) as { results: Record<string, { trials_per_s: number }> }).results;
}

/**
 * Epoch reports ingested per second from a backlog: the daemon is down while workers report
 * (start, `epochs` epochs and the end of each trial), then it starts and drains the stream into
 * the Store. This is the daemon's ingestion rate, free of how fast one worker process can publish.
 */
async function backlogIngestion(store: Store, trials: number, epochs: number): Promise<Figures | undefined> {
  const { connectNatsBus } = await import('@sweepd/core/nats');
  const { deleteStreams } = await import('../../packages/core/src/bus/nats/test-env.ts');
  const prefix = `backlog${Date.now().toString(36)}`;
  const first = await connectNatsBus({ servers: NATS_URL, prefix });
  const engine = new StudyEngine({ store, bus: first });
  await engine.start();
  const spec = {
    name: 'backlog',
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    space: { learning_rate: { type: 'float', low: 1e-6, high: 1e-1, log: true } },
    strategy: { name: 'random', options: { seed: 1 } },
    budget: { max_trials: trials, max_epochs: epochs, parallelism: trials },
    trainer: { runner: 'noop' },
  };
  const study = await engine.submit(JSON.stringify(spec));
  await engine.close();
  await first.close();

  const producer = await connectNatsBus({ servers: NATS_URL, prefix });
  const layers = [{ layer: 'conv1', trainable: true, kernelMovement: 0.01, biasMovement: 0.001, updateRatio: 1e-3 }];
  const publishes: Promise<void>[] = [];
  for (const t of await store.listTrials(study.id)) {
    publishes.push(producer.publishReport({ kind: 'start', studyId: study.id, trialId: t.id, worker: 'bench' }));
    for (let epoch = 1; epoch <= epochs; epoch++) {
      publishes.push(
        producer.publishReport({
          kind: 'epoch',
          studyId: study.id,
          trialId: t.id,
          epoch,
          metrics: { val_auc_macro: 0.5 + epoch / 1000, train_loss: 1 / epoch },
          layers,
        }),
      );
    }
    publishes.push(producer.publishReport({ kind: 'final', studyId: study.id, trialId: t.id, state: 'completed' }));
  }
  await Promise.all(publishes);
  await producer.close();

  const second = await connectNatsBus({ servers: NATS_URL, prefix });
  const restarted = new StudyEngine({ store, bus: second });
  const started = performance.now();
  const done = new Promise<void>((resolve) =>
    restarted.events.on('change', (e) => e.studyId === study.id && e.type === 'study' && resolve()),
  );
  await restarted.start();
  await done;
  const seconds = (performance.now() - started) / 1000;
  await restarted.close();
  await second.close();
  await deleteStreams(NATS_URL, prefix);
  const stored = (await store.listTrials(study.id)).reduce((n, t) => n + t.epochs.length, 0);
  if (stored !== trials * epochs) throw new Error(`backlog: ${stored} of ${trials * epochs} epochs stored`);
  return {
    setup: 'NATS backlog → PostgreSQL',
    trials,
    epochs: stored,
    seconds,
    trialsPerSecond: trials / seconds,
    epochReportsPerSecond: stored / seconds,
  };
}

export async function runThroughputBench(options: { trials?: number; epochs?: number } = {}): Promise<Figures[]> {
  const trials = options.trials ?? 3000;
  const epochs = options.epochs ?? 5;
  const parallelism = 128;
  const rows: Figures[] = [];
  const measure = async (setup: string, store: Store, bus: Bus, workerBus: Bus | undefined = bus) => {
    const fig = await runStudy(store, bus, workerBus, { trials, epochs, parallelism });
    rows.push({ setup, ...fig });
    console.log(
      `${setup.padEnd(22)} ${fig.trials} trials × ${epochs} epochs in ${fig.seconds.toFixed(2)} s: ${fig.trialsPerSecond.toFixed(0)} trials/s, ${fig.epochReportsPerSecond.toFixed(0)} epoch reports/s`,
    );
  };

  const pglite = await openStore({ dataDir: 'memory://' });
  await measure('local bus + PGlite', pglite, new LocalBus());
  await pglite.close();

  const db = await createTempDatabase('sweepd_bench');
  try {
    const pg = await openStore({ url: db.url });
    await measure('local bus + PostgreSQL', pg, new LocalBus());
    const nats = await natsSetup(parallelism);
    if (nats) {
      await measure('NATS + PostgreSQL', pg, nats.daemon, undefined);
      await nats.stop();
      const backlog = await backlogIngestion(pg, 200, 100);
      if (backlog) {
        rows.push(backlog);
        console.log(
          `${backlog.setup.padEnd(22)} ${backlog.epochs} epoch reports (1 layer each) drained in ${backlog.seconds.toFixed(2)} s: ${backlog.epochReportsPerSecond.toFixed(0)} epoch reports/s`,
        );
      }
    }
    await pg.close();
  } finally {
    await db.drop();
  }

  const optuna = optunaReference(500);
  const natsRow = rows.find((r) => r.setup === 'NATS + PostgreSQL');
  const backlogRow = rows.find((r) => r.setup.startsWith('NATS backlog'));
  if (optuna) {
    for (const [k, v] of Object.entries(optuna)) console.log(`Optuna ${k.padEnd(18)} ${v.trials_per_s.toFixed(1)} trials/s (this run)`);
    const ref = optuna['tpe/postgres']?.trials_per_s;
    if (natsRow && ref) console.log(`sweepd NATS+PostgreSQL vs Optuna TPE+PostgreSQL: ${(natsRow.trialsPerSecond / ref).toFixed(1)}×`);
  }
  if (natsRow) {
    console.log(`target ≥ 500 trials/s: ${natsRow.trialsPerSecond >= 500 ? 'PASS' : 'FAIL'} (${natsRow.trialsPerSecond.toFixed(0)})`);
  }
  if (backlogRow) {
    const rate = backlogRow.epochReportsPerSecond;
    console.log(`target ≥ 10,000 epoch reports/s ingested: ${rate >= 10_000 ? 'PASS' : 'FAIL'} (${rate.toFixed(0)})`);
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await runThroughputBench();
