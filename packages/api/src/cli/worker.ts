import path from 'node:path';
import { jsonLogger } from '@sweepd/core';
import type { NatsBusOptions } from '@sweepd/core/nats';
import { ProcessPoolRunner, startWorker } from '@sweepd/trainer';
import { untilSignal } from './commands.ts';

/**
 * `sweepd worker`: joins a NATS pool and trains until SIGTERM/SIGINT, then hands the trials it is
 * running back to the pool (they are delivered again) and exits.
 */
export async function runWorkerProcess(options: { nats: string; pool: string; concurrency: number }): Promise<number> {
  const log = jsonLogger({ service: 'sweepd-worker', pool: options.pool });
  const { connectNatsBus } = await import('@sweepd/core/nats');
  const bus = await connectNatsBus({ servers: options.nats, ...natsOptionsFromEnv(), log: (msg: string) => log.info({}, msg) });
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

/**
 * Bus settings the daemon and its workers must agree on, from the environment:
 * SWEEPD_NATS_PREFIX (subject and stream prefix; lets deployments or tests share one server) and
 * SWEEPD_NATS_ACK_WAIT_MS (how long a silent worker's job waits before it is delivered again).
 */
export function natsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<NatsBusOptions, 'prefix' | 'ackWaitMs'> {
  const options: Pick<NatsBusOptions, 'prefix' | 'ackWaitMs'> = {};
  if (env.SWEEPD_NATS_PREFIX) options.prefix = env.SWEEPD_NATS_PREFIX;
  const ackWait = env.SWEEPD_NATS_ACK_WAIT_MS;
  if (ackWait) {
    if (!/^\d+$/.test(ackWait) || Number(ackWait) < 300) {
      throw new Error(`SWEEPD_NATS_ACK_WAIT_MS must be a whole number of milliseconds, at least 300 (got '${ackWait}')`);
    }
    options.ackWaitMs = Number(ackWait);
  }
  return options;
}
