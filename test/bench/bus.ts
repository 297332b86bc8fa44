/**
 * Benchmark: the Bus, over NATS JetStream (127.0.0.1:4222, or SWEEPD_TEST_NATS_URL) and in process.
 * - jobs/s: dispatched → handed to a worker → acknowledged (the handler does nothing);
 * - trials/s end to end: dispatched → worker publishes 'start' and 'final' → daemon ingested the final;
 * - reports/s live: epoch reports (with 8 layers of statistics) published by 64 trials at once, each
 *   trial in order and awaiting every publish, → ingested by the daemon's report handler; here the
 *   publishing workers share this process (and the machine) with the daemon;
 * - reports/s backlog: the daemon's ingest rate alone, over reports published while it was away
 *   (what a restarted daemon catches up at, and the rate many remote workers can feed it at).
 * Targets: ≥ 500 trials/s end to end and ≥ 10,000 epoch reports/s ingested.
 *
 * Run: node --import tsx test/bench/bus.ts [--jobs N] [--reports N]
 */

import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { type Bus, LocalBus, type Report, type TrialJob } from '@sweepd/core';
import { connectNatsBus } from '@sweepd/core/nats';

export interface BusBenchFigures {
  bus: string;
  jobs: number;
  jobsPerSecond: number;
  trials: number;
  trialsPerSecond: number;
  reports: number;
  reportsPerSecond: number;
  backlogReportsPerSecond: number;
}

export interface BusBenchOptions {
  natsUrl?: string;
  jobs?: number;
  trials?: number;
  reports?: number;
}

const TARGET_TRIALS_PER_SECOND = 500;
const TARGET_REPORTS_PER_SECOND = 10_000;
const POOL = 'bench';

interface Pair {
  daemon: Bus;
  worker: Bus;
  close(): Promise<void>;
}

export async function runBusBench(options: BusBenchOptions = {}): Promise<BusBenchFigures[]> {
  const natsUrl = options.natsUrl ?? process.env.SWEEPD_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  const sizes = { jobs: options.jobs ?? 5_000, trials: options.trials ?? 3_000, reports: options.reports ?? 30_000 };
  const results: BusBenchFigures[] = [];
  results.push(await measure('nats', () => natsPair(natsUrl), sizes));
  results.push(await measure('local', async () => localPair(), sizes));
  print(results, natsUrl);
  return results;
}

async function measure(
  bus: string,
  open: () => Promise<Pair>,
  sizes: { jobs: number; trials: number; reports: number },
): Promise<BusBenchFigures> {
  // A fresh pair per phase, so one phase's leftovers cannot help or slow the next.
  let pair = await open();
  const jobs = await timeIt(() => jobsPhase(pair, sizes.jobs));
  await pair.close();
  pair = await open();
  const trials = await timeIt(() => trialsPhase(pair, sizes.trials));
  await pair.close();
  pair = await open();
  const reports = await timeIt(() => reportsPhase(pair, sizes.reports));
  await pair.close();
  pair = await open();
  const backlog = await backlogPhase(pair, sizes.reports);
  await pair.close();
  return {
    bus,
    jobs: sizes.jobs,
    jobsPerSecond: sizes.jobs / jobs,
    trials: sizes.trials,
    trialsPerSecond: sizes.trials / trials,
    reports: sizes.reports,
    reportsPerSecond: sizes.reports / reports,
    backlogReportsPerSecond: sizes.reports / backlog,
  };
}

/** Dispatched → handled → acknowledged: on NATS, until the work-queue stream is empty again. */
async function jobsPhase(pair: Pair, n: number): Promise<void> {
  let handled = 0;
  const allHandled = counter(n, () => handled);
  await pair.worker.consumeJobs({ pool: POOL, concurrency: 64 }, async () => {
    handled++;
    allHandled.check();
  });
  await dispatchInBatches(pair.daemon, n, 'j');
  await allHandled.done;
  await waitForAcks(pair);
}

async function trialsPhase(pair: Pair, n: number): Promise<void> {
  let finals = 0;
  const allFinal = counter(n, () => finals);
  await pair.daemon.consumeReports(async (batch) => {
    for (const r of batch) if (r.kind === 'final') finals++;
    allFinal.check();
  });
  await pair.worker.consumeJobs({ pool: POOL, concurrency: 64 }, async (job) => {
    await pair.worker.publishReport({ kind: 'start', studyId: job.studyId, trialId: job.trialId, worker: 'bench' });
    await pair.worker.publishReport({ kind: 'final', studyId: job.studyId, trialId: job.trialId, state: 'completed' });
  });
  await dispatchInBatches(pair.daemon, n, 't');
  await allFinal.done;
}

async function reportsPhase(pair: Pair, n: number): Promise<void> {
  let ingested = 0;
  const all = counter(n, () => ingested);
  await pair.daemon.consumeReports(async (batch) => {
    ingested += batch.length;
    all.check();
  });
  await publishFromTrials(pair.worker, n);
  await all.done;
}

/** Seconds the daemon takes to ingest n reports that were all published before it started consuming. */
async function backlogPhase(pair: Pair, n: number): Promise<number> {
  await publishFromTrials(pair.worker, n);
  let ingested = 0;
  const all = counter(n, () => ingested);
  return timeIt(async () => {
    await pair.daemon.consumeReports(async (batch) => {
      ingested += batch.length;
      all.check();
    });
    await all.done;
  });
}

/** n epoch reports from 64 trials publishing at once, each in order, awaiting each publish (as workers do). */
async function publishFromTrials(bus: Bus, n: number): Promise<void> {
  const trials = 64;
  const perTrial = Math.ceil(n / trials);
  await Promise.all(
    Array.from({ length: trials }, async (_, t) => {
      for (let e = 1; e <= perTrial && t * perTrial + e <= n; e++) await bus.publishReport(epochReport(`tr_bench${t}`, e));
    }),
  );
}

async function dispatchInBatches(bus: Bus, n: number, tag: string): Promise<void> {
  const run = randomBytes(3).toString('hex');
  for (let start = 0; start < n; start += 500) {
    const jobs = Array.from({ length: Math.min(500, n - start) }, (_, i) => benchJob(`tr_${tag}${run}_${start + i}`, start + i));
    await bus.dispatch(jobs);
  }
}

async function waitForAcks(pair: Pair): Promise<void> {
  if (!('names' in pair.daemon)) return;
  const nats = pair.daemon as Awaited<ReturnType<typeof connectNatsBus>>;
  const jsm = await jetstreamManager(nats.connection);
  for (;;) {
    const info = await jsm.streams.info(nats.names.jobsStream);
    if (info.state.messages === 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function natsPair(url: string): Promise<Pair> {
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const daemon = await connectNatsBus({ servers: url, prefix });
  const worker = await connectNatsBus({ servers: url, prefix });
  return {
    daemon,
    worker,
    async close() {
      await worker.close();
      const jsm = await jetstreamManager(daemon.connection);
      for (const stream of [daemon.names.jobsStream, daemon.names.reportsStream, daemon.names.stopsStream])
        await jsm.streams.delete(stream);
      await daemon.close();
    },
  };
}

function localPair(): Pair {
  const bus = new LocalBus();
  return { daemon: bus, worker: bus, close: () => bus.close() };
}

function benchJob(trialId: string, number: number): TrialJob {
  return {
    studyId: 'st_bench',
    trialId,
    number,
    params: { learning_rate: 0.01, optimizer: 'adam', frozen_layers: 3 },
    maxEpochs: 10,
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    trainer: { runner: 'tfjs', model: './models/backbone', dataset: './data/target' },
    pool: POOL,
  };
}

function epochReport(trialId: string, epoch: number): Report {
  const layers = Array.from({ length: 8 }, (_, i) => ({
    layer: `conv${i}`,
    trainable: i > 2,
    kernelMovement: 0.01 * epoch,
    updateRatio: 0.001,
    mean: 0.002,
    std: 0.05,
    fractionNegative: 0.49,
    quantiles: [-0.2, -0.08, -0.03, 0, 0.03, 0.08, 0.2],
    sparsity: 0.4,
    deadFraction: 0.01,
  }));
  return {
    kind: 'epoch',
    studyId: 'st_bench',
    trialId,
    epoch,
    metrics: {
      val_auc_macro: 0.7 + epoch / 1000,
      val_auc_micro: 0.72,
      train_loss: 0.3,
      val_loss: 0.35,
      learning_rate: 0.01,
      epoch_seconds: 12,
    },
    layers,
  };
}

function counter(target: number, value: () => number): { done: Promise<void>; check(): void } {
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const check = () => {
    if (value() >= target) resolve();
  };
  return { done, check };
}

async function timeIt(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

function print(results: readonly BusBenchFigures[], natsUrl: string): void {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
  const mark = (value: number, target: number) =>
    value >= target ? `≥ ${target.toLocaleString('en-US')} ✓` : `< ${target.toLocaleString('en-US')} ✗`;
  console.log(`Bus throughput (NATS at ${natsUrl}; daemon and worker in this one process, separate connections)`);
  console.log(`bus    | jobs/s dispatch→ack | trials/s end to end   | epoch reports/s live  | epoch reports/s ingested from a backlog`);
  for (const r of results) {
    console.log(
      [
        r.bus.padEnd(6),
        `${fmt(r.jobsPerSecond)}          `,
        `${fmt(r.trialsPerSecond)} ${mark(r.trialsPerSecond, TARGET_TRIALS_PER_SECOND).padEnd(11)}`,
        `${fmt(r.reportsPerSecond)}            `,
        `${fmt(r.backlogReportsPerSecond)} ${mark(r.backlogReportsPerSecond, TARGET_REPORTS_PER_SECOND)}`,
      ].join(' | '),
    );
  }
  const sizes = results[0];
  if (sizes) console.log(`(${sizes.jobs} jobs, ${sizes.trials} trials, ${sizes.reports} reports of ~1.4 kB per run)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  await runBusBench({ jobs: arg('jobs'), trials: arg('trials'), reports: arg('reports') });
}
