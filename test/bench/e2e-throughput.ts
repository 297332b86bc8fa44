/**
 * End-to-end engine throughput with the `noop` runner (a benchmark aid that trains nothing):
 * create → dispatch → run → report → store, through the real Store and Bus.
 * Targets (2 cores, NATS + PostgreSQL): ≥ 500 trials/s and ≥ 10,000 epoch reports/s.
 * Reference in the same run: Optuna 3.1 with PostgreSQL storage (../shared/anchors, `rdb`).
 */
import { execFileSync } from 'node:child_process';
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

async function runStudy(store: Store, bus: Bus, workerBus: Bus, opts: { trials: number; epochs: number; parallelism: number }): Promise<Omit<Figures, 'setup'>> {
  const engine = new StudyEngine({ store, bus });
  const runner = await noopRunnerPlugin.create({} as Record<string, never>, { cacheDir: tmpdir(), log: () => {} });
  const worker = await startWorker({ bus: workerBus, runner, concurrency: opts.parallelism });
  await engine.start();
  const spec = {
    name: 'throughput',
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    space: { learning_rate: { type: 'float', low: 1e-6, high: 1e-1, log: true }, optimizer: { type: 'categorical', choices: ['sgd', 'adam'] } },
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
  if (trials.length !== opts.trials || epochs !== opts.trials * opts.epochs) throw new Error(`lost work: ${trials.length} trials, ${epochs} epochs`);
  await worker.close();
  await engine.close();
  return { trials: opts.trials, epochs, seconds, trialsPerSecond: opts.trials / seconds, epochReportsPerSecond: epochs / seconds };
}

async function natsBuses(): Promise<{ daemon: Bus; worker: Bus } | undefined> {
  try {
    const { connectNatsBus } = await import('@sweepd/core/nats');
    const prefix = `bench${Date.now().toString(36)}`;
    const daemon = await connectNatsBus({ servers: NATS_URL, prefix });
    const worker = await connectNatsBus({ servers: NATS_URL, prefix });
    return { daemon, worker };
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
  execFileSync('/usr/bin/python3', [script, 'rdb', String(trials)], { env: { ...process.env, ANCHOR_OUT: out }, stdio: ['ignore', 'ignore', 'inherit'] });
  return (JSON.parse(readFileSync(path.join(out, 'rdb.json'), 'utf8')) as { results: Record<string, { trials_per_s: number }> }).results;
}

export async function runThroughputBench(options: { trials?: number; epochs?: number } = {}): Promise<Figures[]> {
  const trials = options.trials ?? 3000;
  const epochs = options.epochs ?? 5;
  const parallelism = 128;
  const rows: Figures[] = [];
  const measure = async (setup: string, store: Store, bus: Bus, workerBus: Bus = bus) => {
    const fig = await runStudy(store, bus, workerBus, { trials, epochs, parallelism });
    rows.push({ setup, ...fig });
    console.log(`${setup.padEnd(22)} ${fig.trials} trials × ${epochs} epochs in ${fig.seconds.toFixed(2)} s: ${fig.trialsPerSecond.toFixed(0)} trials/s, ${fig.epochReportsPerSecond.toFixed(0)} epoch reports/s`);
  };

  const pglite = await openStore({ dataDir: 'memory://' });
  await measure('local bus + PGlite', pglite, new LocalBus());
  await pglite.close();

  const db = await createTempDatabase('sweepd_bench');
  try {
    const pg = await openStore({ url: db.url });
    await measure('local bus + PostgreSQL', pg, new LocalBus());
    const nats = await natsBuses();
    if (nats) {
      await measure('NATS + PostgreSQL', pg, nats.daemon, nats.worker);
      await nats.worker.close();
      await nats.daemon.close();
    }
    await pg.close();
  } finally {
    await db.drop();
  }

  const optuna = optunaReference(500);
  const natsRow = rows.find((r) => r.setup === 'NATS + PostgreSQL');
  if (optuna) {
    for (const [k, v] of Object.entries(optuna)) console.log(`Optuna ${k.padEnd(18)} ${v.trials_per_s.toFixed(1)} trials/s (this run)`);
    const ref = optuna['tpe/postgres']?.trials_per_s;
    if (natsRow && ref) console.log(`sweepd NATS+PostgreSQL vs Optuna TPE+PostgreSQL: ${(natsRow.trialsPerSecond / ref).toFixed(1)}×`);
  }
  if (natsRow) {
    console.log(`target ≥ 500 trials/s: ${natsRow.trialsPerSecond >= 500 ? 'PASS' : 'FAIL'} (${natsRow.trialsPerSecond.toFixed(0)})`);
    console.log(`target ≥ 10,000 epoch reports/s: ${natsRow.epochReportsPerSecond >= 10_000 ? 'PASS' : 'FAIL'} (${natsRow.epochReportsPerSecond.toFixed(0)})`);
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await runThroughputBench();
