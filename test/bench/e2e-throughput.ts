/**
 * End-to-end engine throughput with the `noop` runner (a benchmark aid that trains nothing):
 * create → dispatch → run → report → store, through the real Store and Bus.
 *
 * Like for like, in the same run: sweepd's TPE against Optuna's TPE and random against random,
 * the same trials of the same epochs at the same parallelism — sweepd with NATS and PostgreSQL
 * and a worker process running `parallelism` trials at once, Optuna with `parallelism` processes
 * sharing one study in PostgreSQL (references/optuna_throughput.py). Then sweepd's own best
 * figure (random at parallelism 128) and its ingestion rate from a backlog.
 * Targets: sweepd ≥ Optuna in both like-for-like pairs; ≥ 500 trials/s at its best; ≥ 10,000
 * epoch reports/s ingested. NATS, PostgreSQL and Optuna with psycopg2 are required.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Bus, LocalBus, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { StudyEngine } from '@sweepd/search';
import { noopRunnerPlugin, startWorker } from '@sweepd/trainer';
import { createTempDatabase } from '../support/postgres-db.ts';
import { referenceVersions, runReference } from './references.ts';
import { type Target, checkTargets } from './targets.ts';

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
  opts: { trials: number; epochs: number; parallelism: number; strategy?: 'random' | 'tpe' },
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
    strategy: { name: opts.strategy ?? 'random', options: { seed: 1 } },
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
async function natsSetup(parallelism: number): Promise<{ daemon: Bus; stop(): Promise<void> }> {
  {
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
  }
}

const OPTUNA = ['optuna', 'psycopg2'] as const;

/** Optuna with `processes` processes on one study in a fresh PostgreSQL database. */
async function optunaThroughput(sampler: 'random' | 'tpe', trials: number, processes: number, epochs: number) {
  const db = await createTempDatabase('sweepd_optuna_bench');
  try {
    const url = db.url.replace(/^postgres(ql)?:/, 'postgresql+psycopg2:');
    const out = runReference('optuna_throughput.py', [url, sampler, String(trials), String(processes), String(epochs)], OPTUNA);
    return JSON.parse(out) as { trials: number; epochs: number; seconds: number; trials_per_s: number; epoch_reports_per_s: number };
  } finally {
    await db.drop();
  }
}

/**
 * Epoch reports ingested per second from a backlog: the daemon is down while workers report
 * (start, `epochs` epochs and the end of each trial), then it starts and drains the stream into
 * the Store. This is the daemon's ingestion rate, free of how fast one worker process can publish.
 */
async function backlogIngestion(store: Store, trials: number, epochs: number): Promise<Figures> {
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

export interface ThroughputOptions {
  /** sweepd's best-figure study: trials and epochs (defaults 3000 × 5) at parallelism 128. */
  trials?: number;
  epochs?: number;
  /** Like-for-like: parallelism (processes on the Optuna side; default 4) and trials per sampler. */
  parallelism?: number;
  tpeTrials?: number;
  randomTrials?: number;
}

export async function runThroughputBench(options: ThroughputOptions = {}): Promise<Figures[]> {
  const trials = options.trials ?? 3000;
  const epochs = options.epochs ?? 5;
  const peers = options.parallelism ?? 4;
  const pairs = [
    { sampler: 'tpe' as const, trials: options.tpeTrials ?? 400 },
    { sampler: 'random' as const, trials: options.randomTrials ?? 1000 },
  ];
  // Found before the work: a missing reference fails the benchmark at once.
  const versions = referenceVersions(OPTUNA);
  const rows: Figures[] = [];
  const line = (fig: Figures) =>
    console.log(
      `${fig.setup.padEnd(40)} ${fig.trials} trials × ${epochs} epochs in ${fig.seconds.toFixed(2)} s: ${fig.trialsPerSecond.toFixed(0)} trials/s, ${fig.epochReportsPerSecond.toFixed(0)} epoch reports/s`,
    );
  const measure = async (
    setup: string,
    store: Store,
    bus: Bus,
    workerBus: Bus | undefined,
    opts: { trials: number; parallelism: number; strategy: 'random' | 'tpe' },
  ) => {
    const fig = { setup, ...(await runStudy(store, bus, workerBus, { ...opts, epochs })) };
    rows.push(fig);
    line(fig);
    return fig;
  };
  const targets: Target[] = [];

  const db = await createTempDatabase('sweepd_bench');
  try {
    const pg = await openStore({ url: db.url });
    console.log(`like for like at parallelism ${peers} (Optuna: ${peers} processes on one PostgreSQL study; ${versions}):`);
    for (const pair of pairs) {
      const nats = await natsSetup(peers);
      const ours = await measure(`sweepd ${pair.sampler}, NATS + PostgreSQL, ×${peers}`, pg, nats.daemon, undefined, {
        trials: pair.trials,
        parallelism: peers,
        strategy: pair.sampler,
      });
      await nats.stop();
      const o = await optunaThroughput(pair.sampler, pair.trials, peers, epochs);
      const theirs: Figures = {
        setup: `Optuna ${pair.sampler}, PostgreSQL, ${peers} processes`,
        trials: o.trials,
        epochs: o.epochs,
        seconds: o.seconds,
        trialsPerSecond: o.trials_per_s,
        epochReportsPerSecond: o.epoch_reports_per_s,
      };
      rows.push(theirs);
      line(theirs);
      targets.push({
        target: `sweepd ${pair.sampler} ≥ Optuna ${pair.sampler} at parallelism ${peers} (trials/s)`,
        pass: ours.trialsPerSecond >= theirs.trialsPerSecond,
        detail: `${ours.trialsPerSecond.toFixed(1)} vs ${theirs.trialsPerSecond.toFixed(1)} (${(ours.trialsPerSecond / theirs.trialsPerSecond).toFixed(1)}×)`,
      });
    }

    console.log('\nsweepd at its best (random, parallelism 128):');
    const nats = await natsSetup(128);
    const best = await measure('sweepd random, NATS + PostgreSQL, ×128', pg, nats.daemon, undefined, {
      trials,
      parallelism: 128,
      strategy: 'random',
    });
    await nats.stop();
    const local = new LocalBus(); // daemon and workers in this process, on one in-process bus
    await measure('sweepd random, local bus + PostgreSQL, ×128', pg, local, local, { trials, parallelism: 128, strategy: 'random' });
    targets.push({
      target: 'sweepd ≥ 500 trials/s (NATS + PostgreSQL, random ×128)',
      pass: best.trialsPerSecond >= 500,
      detail: `${best.trialsPerSecond.toFixed(0)} trials/s`,
    });
    const backlog = await backlogIngestion(pg, 200, 100);
    rows.push(backlog);
    console.log(
      `${backlog.setup.padEnd(40)} ${backlog.epochs} epoch reports (1 layer each) drained in ${backlog.seconds.toFixed(2)} s: ${backlog.epochReportsPerSecond.toFixed(0)} epoch reports/s`,
    );
    targets.push({
      target: 'sweepd ingests ≥ 10,000 epoch reports/s (NATS backlog → PostgreSQL)',
      pass: backlog.epochReportsPerSecond >= 10_000,
      detail: `${backlog.epochReportsPerSecond.toFixed(0)} epoch reports/s`,
    });
    await pg.close();
  } finally {
    await db.drop();
  }
  checkTargets(targets);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await runThroughputBench();
