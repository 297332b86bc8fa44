import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { connectNatsBus, type NatsBus } from './bus.ts';
import { BusNames } from './names.ts';
import { deleteStreams, TEST_NATS_URL, uniquePrefix } from './test-env.ts';

// Stream names are the prefix in capitals: a worker started with the prefix typed in another case
// rewrote the first deployment's streams to its own subjects, and that deployment's trials stayed queued.
describe('NATS prefixes that differ only in case', () => {
  const buses: NatsBus[] = [];
  const prefixes: string[] = [];
  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((b) => b.close()));
    for (const p of prefixes.splice(0)) await deleteStreams(TEST_NATS_URL, p);
  });

  it('are refused, naming the clash, and leave the first deployment its streams', async () => {
    const first = `${uniquePrefix()}A`;
    const second = first.toLowerCase();
    prefixes.push(first);
    buses.push(await connectNatsBus({ servers: TEST_NATS_URL, prefix: first }));
    await expect(connectNatsBus({ servers: TEST_NATS_URL, prefix: second })).rejects.toThrow(
      /belongs to another sweepd prefix .*prefixes that differ only in case share them/,
    );
    const nc = await connect({ servers: TEST_NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      const names = new BusNames(first);
      expect((await jsm.streams.info(names.jobsStream)).config.subjects).toEqual([names.jobsSubjects]);
      expect((await jsm.streams.info(names.reportsStream)).config.subjects).toEqual([names.reportsSubjects]);
    } finally {
      await nc.close();
    }
  }, 20_000);
});
