import type { Bus, Logger } from '@sweepd/core';
import type { NatsBusOptions } from '@sweepd/core/nats';

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
