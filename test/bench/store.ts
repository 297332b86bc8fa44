/**
 * Store throughput on both drivers: trials created per second, epoch rows (with 8 layer rows each)
 * upserted per second through batched recordEpochs, and the time to read a 10,000-trial study back.
 *
 *   node --import tsx test/bench/store.ts
 *
 * PGlite runs in a fresh temp directory; PostgreSQL in a throwaway database created through
 * SWEEPD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) and dropped after.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseSpec } from '@sweepd/core';
import { type EpochWrite, openStore, type Store } from '@sweepd/core/store';
import type { LayerStats } from '@sweepd/core';
import postgres from 'postgres';

const TRIALS = 10_000;
const TRIAL_BATCH = 1_000;
const EPOCH_TRIALS = 200;
const EPOCH_STUDIES = 4;
const EPOCHS_PER_TRIAL = 100; // 200 x 100 = 20,000 epochs
const LAYERS = 8;
const EPOCH_BATCH = 500;
const REPEATED = 2_500;

const spec = parseSpec({
  name: 'bench',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-4, high: 0.1, log: true } },
  budget: { max_trials: 100_000, max_epochs: EPOCHS_PER_TRIAL },
});

function layerStats(epoch: number): LayerStats[] {
  return Array.from({ length: LAYERS }, (_, i) => ({
    layer: `block${i}/conv`,
    trainable: i >= LAYERS / 2,
    kernelMovement: epoch * 1e-3 * (i + 1),
    updateRatio: 1e-3 / epoch,
    mean: 0.01 * i,
    std: 0.1,
    fractionNegative: 0.5,
    quantiles: [-1, -0.5, -0.1, 0, 0.1, 0.5, 1],
    sparsity: 0.3,
    deadFraction: 0.01,
  }));
}

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;

async function bench(label: string, store: Store): Promise<void> {
  // Trials created per second, in batches as a strategy would ask for them.
  const big = await store.createStudy({ spec, specText: 'bench' });
  let t0 = performance.now();
  for (let done = 0; done < TRIALS; done += TRIAL_BATCH) {
    await store.createTrials(
      big.id,
      Array.from({ length: TRIAL_BATCH }, (_, i) => ({ params: { learning_rate: 1e-4 * (done + i + 1) } })),
    );
  }
  const trialMs = performance.now() - t0;

  // Epochs with layer statistics, upserted in batches, for trials spread over a few studies.
  const studyIds: string[] = [];
  const trials: { id: string }[] = [];
  for (let s = 0; s < EPOCH_STUDIES; s++) {
    const study = await store.createStudy({ spec, specText: 'bench' });
    studyIds.push(study.id);
    const n = EPOCH_TRIALS / EPOCH_STUDIES;
    trials.push(
      ...(await store.createTrials(
        study.id,
        Array.from({ length: n }, (_, i) => ({ params: { learning_rate: 1e-4 * (i + 1) } })),
      )),
    );
  }
  const all: EpochWrite[] = [];
  for (let e = 1; e <= EPOCHS_PER_TRIAL; e++) {
    for (const t of trials)
      all.push({ trialId: t.id, epoch: e, metrics: { val_auc_macro: Math.random(), val_loss: Math.random() }, layers: layerStats(e) });
  }
  const objective = { metric: 'val_auc_macro', direction: 'maximize' } as const;
  t0 = performance.now();
  for (let i = 0; i < all.length; i += EPOCH_BATCH) await store.recordEpochs(all.slice(i, i + EPOCH_BATCH), objective);
  const epochMs = performance.now() - t0;
  // Repeating reports (redelivery) overwrite instead of adding rows.
  t0 = performance.now();
  for (let i = 0; i < REPEATED; i += EPOCH_BATCH) await store.recordEpochs(all.slice(i, i + EPOCH_BATCH), objective);
  const repeatMs = performance.now() - t0;

  t0 = performance.now();
  const listed = await store.listTrials(studyIds[0]!);
  const listEpochsMs = performance.now() - t0;
  const epochCount = listed.reduce((n, t) => n + t.epochs.length, 0);
  const perStudy = all.length / EPOCH_STUDIES;
  if (epochCount !== perStudy) throw new Error(`${label}: read back ${epochCount} epochs of one study, wrote ${perStudy}`);

  t0 = performance.now();
  const bigListed = await store.listTrials(big.id);
  const listTrialsMs = performance.now() - t0;
  if (bigListed.length !== TRIALS) throw new Error(`${label}: read back ${bigListed.length} trials, wrote ${TRIALS}`);

  t0 = performance.now();
  await store.listStudies();
  const studiesMs = performance.now() - t0;

  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`${label}:`);
  console.log(`  createTrials   ${TRIALS} trials in batches of ${TRIAL_BATCH}: ${fmt(trialMs)}, ${rate(TRIALS, trialMs)} trials`);
  console.log(
    `  recordEpochs   ${all.length} epochs x ${LAYERS} layers in batches of ${EPOCH_BATCH}: ${fmt(epochMs)}, ` +
      `${rate(all.length, epochMs)} epoch rows (${rate(all.length * (LAYERS + 1), epochMs)} rows incl. layers)`,
  );
  console.log(`  recordEpochs   ${REPEATED} repeated epochs (upsert): ${fmt(repeatMs)}, ${rate(REPEATED, repeatMs)} epoch rows`);
  console.log(
    `  listTrials     ${listed.length} trials with ${epochCount} epochs and ${epochCount * LAYERS} layer rows: ${fmt(listEpochsMs)}`,
  );
  console.log(`  listTrials     ${TRIALS} trials without epochs: ${fmt(listTrialsMs)}`);
  console.log(`  listStudies    ${fmt(studiesMs)}`);
}

/** Runs the store benchmark on PGlite, then on PostgreSQL, printing the figures. */
export async function runStoreBench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sweepd-bench-'));
  try {
    const store = await openStore({ dataDir: join(dir, 'db') });
    try {
      await bench('PGlite', store);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const adminUrl = process.env.SWEEPD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = `sweepd_bench_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  try {
    await admin.unsafe(`create database ${database}`);
    try {
      const url = new URL(adminUrl);
      url.pathname = `/${database}`;
      const store = await openStore({ url: url.toString() });
      try {
        await bench('PostgreSQL', store);
      } finally {
        await store.close();
      }
    } finally {
      await admin.unsafe(`drop database if exists ${database} with (force)`);
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
}

// Run directly (node --import tsx test/bench/store.ts) rather than imported by run.ts.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runStoreBench();
