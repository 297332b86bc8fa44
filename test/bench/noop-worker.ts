/**
 * A worker process for the throughput benchmark: joins the NATS pool of the given prefix and runs
 * the `noop` runner in-process (no trainer child processes), as `sweepd worker` would with a
 * runner that trains nothing. Usage: noop-worker.ts NATS_URL PREFIX CONCURRENCY
 */
import { tmpdir } from 'node:os';
import { connectNatsBus } from '@sweepd/core/nats';
import { noopRunnerPlugin, startWorker } from '@sweepd/trainer';

const [url, prefix, concurrency] = process.argv.slice(2);
if (!url || !prefix) throw new Error('usage: noop-worker.ts NATS_URL PREFIX [CONCURRENCY]');
const bus = await connectNatsBus({ servers: url, prefix });
const runner = await noopRunnerPlugin.create({} as Record<string, never>, { cacheDir: tmpdir(), log: () => {} });
const sub = await startWorker({ bus, runner, concurrency: Number(concurrency ?? 128) });
process.stdout.write('ready\n');
process.once('SIGTERM', async () => {
  await sub.close();
  await bus.close();
  process.exit(0);
});
