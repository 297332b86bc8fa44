/**
 * `npm run bench`: every benchmark in one run, each printing its figures beside the reference
 * measured in the same run (Optuna, scikit-learn, PyTorch where Debian's packages are installed).
 * `npm run bench -- auc search` runs only the named ones. A benchmark fails when its reference is
 * missing (it installs missing Python packages first, unless `--no-install-references`) or a target it prints
 * is missed. Optuna's search figures are cached only with `--cached`, and the report then says so.
 */
const BENCHES: Record<string, () => Promise<unknown>> = {
  auc: async () => {
    const { printAucBench, runAucBench } = await import('./auc.ts');
    printAucBench(await runAucBench());
  },
  store: async () => (await import('./store.ts')).runStoreBench(),
  bus: async () => (await import('./bus.ts')).runBusBench(),
  e2e: async () => (await import('./e2e-throughput.ts')).runThroughputBench(),
  sse: async () => {
    const { runSseBench } = await import('./sse.ts');
    const { createTempDatabase } = await import('../support/postgres-db.ts');
    const db = await createTempDatabase('sweepd_sse_bench');
    try {
      await runSseBench({ databaseUrl: db.url });
    } finally {
      await db.drop();
    }
    await runSseBench();
  },
  trainer: async () => (await import('./trainer.ts')).runTrainerBench(),
  'worker-memory': async () => (await import('./worker-memory.ts')).runWorkerMemoryBench(),
  'seed-config': async () => (await import('./seed-config.ts')).runSeedConfigBench(),
  search: async () => (await import('./search.ts')).runSearchBench({ cached: process.argv.includes('--cached') }),
  pruning: async () => (await import('./pruning.ts')).runPruningBench(),
  scale: async () => (await import('./scale.ts')).runScaleBench(),
  tensorboard: async () => (await import('./tensorboard.ts')).runTensorBoardBench(),
  'seed-story': async () => (await import('./seed-story.ts')).runSeedStoryBench(),
  'client-overhead': async () => (await import('./client-overhead.ts')).runClientOverheadBench(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
let failed = 0;
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark '${name}' (known: ${Object.keys(BENCHES).join(', ')})`);
    process.exitCode = 2;
    continue;
  }
  console.log(`\n==================== ${name} ====================`);
  const started = Date.now();
  try {
    await bench();
  } catch (err) {
    failed++;
    console.error(`benchmark ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
if (failed > 0) process.exitCode = 1;
