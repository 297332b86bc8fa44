import path from 'node:path';
import { ProcessPoolRunner, startWorker } from '@sweepd/trainer';
import { connectNats } from '../nats.ts';
import { type LogLevel, pinoLogger } from '../ops/log.ts';
import { untilSignal } from './signal.ts';

/**
 * `sweepd worker`: joins a NATS pool and trains until SIGTERM/SIGINT, then hands the trials it is
 * running back to the pool (they are delivered again) and exits.
 */
export async function runWorkerProcess(options: { nats: string; pool: string; concurrency: number }): Promise<number> {
  const log = pinoLogger({
    level: (process.env.SWEEPD_LOG_LEVEL as LogLevel | undefined) ?? 'info',
    base: { service: 'sweepd-worker', pool: options.pool },
  });
  const bus = await connectNats(options.nats, log);
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
