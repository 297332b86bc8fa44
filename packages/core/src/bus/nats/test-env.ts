import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import type { BusUnderTest } from '../../testing/bus-suite.ts';
import { connectNatsBus, type NatsBus, type NatsBusOptions } from './bus.ts';
import { BusNames } from './names.ts';

/** The shared NATS the tests use (CI and scripts/test-env.sh start it; see the README). */
export const TEST_NATS_URL = process.env.SWEEPD_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export function uniquePrefix(): string {
  return `t${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

export interface NatsBusesUnderTest extends BusUnderTest {
  daemon: NatsBus;
  worker: (extra?: Partial<NatsBusOptions>) => Promise<NatsBus>;
  prefix: string;
}

/** A daemon bus and worker buses on their own prefix; cleanup closes them all and deletes the prefix's streams. */
export async function natsBuses(options: Partial<NatsBusOptions> = {}): Promise<NatsBusesUnderTest> {
  const servers = options.servers ?? TEST_NATS_URL;
  const prefix = options.prefix ?? uniquePrefix();
  const buses: NatsBus[] = [];
  const open = async (extra: Partial<NatsBusOptions> = {}) => {
    try {
      const bus = await connectNatsBus({ retryDelayMs: 20, ...options, ...extra, servers: extra.servers ?? servers, prefix });
      buses.push(bus);
      return bus;
    } catch (err) {
      throw new Error(
        `NATS with JetStream is required for this test and is not usable at ${servers} (set SWEEPD_TEST_NATS_URL, or run scripts/test-env.sh, which starts it): ${(err as Error).message}`,
      );
    }
  };
  const daemon = await open();
  return {
    daemon,
    worker: open,
    prefix,
    cleanup: async () => {
      await Promise.allSettled(buses.map((b) => b.close()));
      await deleteStreams(servers, prefix);
    },
  };
}

export async function deleteStreams(servers: string | string[], prefix: string): Promise<void> {
  const names = new BusNames(prefix);
  let nc: Awaited<ReturnType<typeof connect>>;
  try {
    nc = await connect({ servers, maxReconnectAttempts: 0 });
  } catch {
    return; // A test-owned server that is gone already took its streams with it.
  }
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of [names.jobsStream, names.reportsStream, names.stopsStream, names.daemonStream]) {
      await jsm.streams.delete(stream).catch(() => {});
    }
  } finally {
    await nc.close();
  }
}
