import type { Bus, Logger } from '@sweepd/core';
import type { NatsBusOptions } from '@sweepd/core/nats';

const MIN_ACK_WAIT_MS = 2_000;

/**
 * Bus settings the daemon and its workers must agree on, from the environment:
 * SWEEPD_NATS_PREFIX (subject and stream prefix; lets deployments or tests share one server) and
 * SWEEPD_NATS_ACK_WAIT_MS (how long a silent worker's job waits before it is delivered again).
 */
export function natsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<NatsBusOptions, 'prefix' | 'ackWaitMs'> {
  const options: Pick<NatsBusOptions, 'prefix' | 'ackWaitMs'> = {};
  if (env.SWEEPD_NATS_PREFIX) options.prefix = env.SWEEPD_NATS_PREFIX;
  const problem = natsEnvProblem(env);
  if (problem) throw new Error(problem);
  if (env.SWEEPD_NATS_ACK_WAIT_MS) options.ackWaitMs = Number(env.SWEEPD_NATS_ACK_WAIT_MS);
  return options;
}

/** What is wrong with the bus settings in the environment, or undefined: the CLI says it as bad usage before it connects. */
export function natsEnvProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const ackWait = env.SWEEPD_NATS_ACK_WAIT_MS;
  // A worker unheard for 0.75 of the ack wait gives its job up (NATS may have handed it on): below
  // 2 s, a pause of a second (garbage collection, a busy host) would train trials twice.
  if (ackWait && (!/^\d+$/.test(ackWait) || Number(ackWait) < MIN_ACK_WAIT_MS))
    return (
      `SWEEPD_NATS_ACK_WAIT_MS must be a whole number of milliseconds, at least ${MIN_ACK_WAIT_MS} (got '${ackWait}'): ` +
      'a worker unheard for most of it gives its job up, and a shorter one would do so on a pause of the worker process'
    );
  return undefined;
}

/** The prefix the daemon and its workers must share (logged by both: a mismatch leaves trials waiting in silence). */
export function natsPrefix(env: NodeJS.ProcessEnv = process.env): string {
  return env.SWEEPD_NATS_PREFIX || 'sweepd';
}

/** The NATS bus of a daemon or a worker, with the settings both read from the environment. */
export async function connectNats(url: string, log: Logger, overrides: Pick<NatsBusOptions, 'publishTimeoutMs'> = {}): Promise<Bus> {
  const { connectNatsBus } = await import('@sweepd/core/nats');
  const problem = natsUrlProblem(url);
  if (problem) throw new Error(problem);
  return connectNatsBus({
    servers: url,
    ...natsOptionsFromEnv(),
    ...overrides,
    log: (msg: string) => log.info({}, msg),
    logError: (msg: string) => log.error({}, msg),
  });
}

/**
 * What is wrong with a NATS URL (or comma-separated list), or undefined: the client would take
 * http://host:4222 or a bare host and talk NATS to it. Credentials are not echoed.
 */
export function natsUrlProblem(url: string): string | undefined {
  for (const server of url.split(',').map((s) => s.trim())) {
    if (!/^(nats|tls):\/\/[^/]/i.test(server)) {
      const shown = server.replace(/\/\/[^@/]*@/, '//***@');
      return `the NATS URL must start with nats:// or tls:// and name a host (got '${shown}')`;
    }
  }
  return undefined;
}
