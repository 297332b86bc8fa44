/**
 * `npm run bench`: every benchmark in one run, each printing its figures beside the reference
 * measured in the same run (Optuna, scikit-learn, PyTorch where Debian's packages are installed).
 * `npm run bench -- auc search` runs only the named ones. A benchmark fails when its reference is
 * missing (it installs missing Python packages first, unless `--no-install-references`) or a target it prints
 * is missed. Optuna's search figures are cached only with `--cached`, and the report then says so.
 *
 * With more than one benchmark, each runs in a process of its own: one run left the next with a
 * heap and timers of its own, and the TensorBoard collector, timed on CPU time after a dozen
 * others, measured at 9,959 records per CPU second what it reads at 26,000 alone.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
const unknown = names.filter((name) => !BENCHES[name]);
if (unknown.length > 0) {
  console.error(
    `unknown benchmark${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} (known: ${Object.keys(BENCHES).join(', ')})`,
  );
  process.exit(2);
}

if (names.length === 1) {
  const name = names[0] as string;
  console.log(`\n==================== ${name} ====================`);
  const started = Date.now();
  let ok = true;
  try {
    await (BENCHES[name] as () => Promise<unknown>)();
  } catch (err) {
    ok = false;
    console.error(`benchmark ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  // Exit even if a benchmark left a handle open: the next one starts in a fresh process.
  process.exit(ok ? 0 : 1);
}

const failed: string[] = [];
for (const name of names) {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name, ...flags], { stdio: 'inherit' });
  if (child.status !== 0) failed.push(child.status === null ? `${name} (killed by ${child.signal})` : name);
}
console.log(
  `\n${names.length - failed.length} of ${names.length} benchmarks met every target${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}`,
);
process.exit(failed.length > 0 ? 1 : 0);
