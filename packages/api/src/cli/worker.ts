import path from 'node:path';
import { jsonLogger } from '@sweepd/core';
import { ProcessPoolRunner, startWorker } from '@sweepd/trainer';
import { untilSignal } from './commands.ts';

/**
 * `sweepd worker`: joins a NATS pool and trains until SIGTERM/SIGINT, then hands the trials it is
 * running back to the pool (they are delivered again) and exits.
 */
export async function runWorkerProcess(options: { nats: string; pool: string; concurrency: number }): Promise<number> {
  const log = jsonLogger({ service: 'sweepd-worker', pool: options.pool });
  const { connectNatsBus } = await import('@sweepd/core/nats');
  const bus = await connectNatsBus({ servers: options.nats, log: (msg: string) => log.info({}, msg) });
  const runner = new ProcessPoolRunner({
    size: options.concurrency,
    env: { SWEEPD_CACHE_DIR: process.env.SWEEPD_CACHE_DIR ?? path.resolve('.sweepd', 'cache') },
    log: (m) => log.info({}, m),
  });
  const sub = await startWorker({ bus, runner, pool: options.pool, concurrency: options.concurrency, log });
  log.info({ nats: options.nats, concurrency: options.concurrency }, 'worker ready');
  const signal = await untilSignal();
  log.info({ signal }, 'draining: handing running trials back');
  await bus.close();
  await sub.close();
  await runner.close();
  return 0;
}
