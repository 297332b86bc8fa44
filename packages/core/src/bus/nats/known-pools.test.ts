import { afterEach, describe, expect, it } from 'vitest';
import { startTestNatsServer } from '../../../../../test/support/nats-server.ts';
import { busSuiteJob as busJob } from '../../testing/bus-suite.ts';
import { type NatsBusesUnderTest, natsBuses } from './test-env.ts';

/**
 * A roll call again when this process was too busy to count its answers, as the product's callers
 * (the orphan watch, the pool warning) wait for the next one: a stall of a loaded test machine is
 * not what these tests are about (the last one is).
 */
async function counted<T>(rollCall: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await rollCall();
    } catch (err) {
      if (attempt >= 3 || !/too busy to count the answers/.test((err as Error).message)) throw err;
    }
  }
}

describe('NatsBus.knownPools, livePools and runningTrials', () => {
  let env: NatsBusesUnderTest | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it('lists the pools workers have joined on its prefix, and keeps them after the workers leave', async () => {
    env = await natsBuses();
    const { daemon } = env;
    expect(await daemon.knownPools()).toEqual([]);
    const worker = await env.worker();
    const gpu = await worker.consumeJobs({ pool: 'gpu.a100', concurrency: 1 }, async () => {});
    await worker.consumeJobs({ pool: 'default', concurrency: 1 }, async () => {});
    // Another prefix on the same server is another bus: its pools are not this one's.
    const other = await natsBuses();
    try {
      await (await other.worker()).consumeJobs({ pool: 'cpu', concurrency: 1 }, async () => {});
      expect(await daemon.knownPools()).toEqual(['default', 'gpu.a100']);
    } finally {
      await other.cleanup();
    }
    expect(await counted(() => daemon.livePools())).toEqual(['default', 'gpu.a100']);
    await gpu.close();
    expect(await daemon.knownPools()).toEqual(['default', 'gpu.a100']);
    // Gone from the pools served now once its last pull request has ended (at most 5 s).
    const deadline = Date.now() + 8_000;
    while ((await counted(() => daemon.livePools())).includes('gpu.a100') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(await counted(() => daemon.livePools())).toEqual(['default']);
  }, 20_000);

  it('counts a busy worker and its trial as there, and a worker killed under a trial as gone, though its job stays unacknowledged', async () => {
    env = await natsBuses({ ackWaitMs: 1_000, heartbeatMs: 200 });
    const { daemon } = env;
    const busy = await env.worker();
    let started = false;
    await busy.consumeJobs({ pool: 'gpu', concurrency: 1 }, async (_j, c) => {
      started = true;
      await new Promise((resolve) => c.signal.addEventListener('abort', resolve, { once: true }));
    });
    await daemon.dispatch([busJob('a', 'gpu')]);
    const deadline = Date.now() + 5_000;
    while (!started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Busy: no pull request waiting, one job unacknowledged; it answers the roll call.
    await new Promise((r) => setTimeout(r, 5_500)); // its last pull request has expired
    expect(await counted(() => daemon.livePools())).toEqual(['gpu']);
    expect([...(await counted(() => daemon.runningTrials()))]).toEqual(['a']);
    // Killed (kill -9): no goodbye, its job pending for ever with no other worker to take it.
    await busy.connection.close();
    await new Promise((r) => setTimeout(r, 1_500)); // past the ack wait
    expect(await counted(() => daemon.livePools())).toEqual([]);
    expect([...(await counted(() => daemon.runningTrials()))]).toEqual([]);
  }, 20_000);

  it('does not take silence for absence: a roll call while the server is away fails, and so does one this process was too busy to count', async () => {
    const server = await startTestNatsServer();
    try {
      env = await natsBuses({ servers: server.url, ackWaitMs: 1_000, heartbeatMs: 200 });
      const worker = await env.worker();
      let started = false;
      await worker.consumeJobs({ pool: 'default', concurrency: 1 }, async (_j, c) => {
        started = true;
        await new Promise((resolve) => c.signal.addEventListener('abort', resolve, { once: true }));
      });
      await env.daemon.dispatch([busJob('a')]);
      const deadline = Date.now() + 5_000;
      while (!started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect([...(await env.daemon.runningTrials())]).toEqual(['a']);
      // Busy: the event loop is held past the roll call's wait, so answers sit unread.
      const asked = env.daemon.runningTrials();
      await new Promise((r) => setTimeout(r, 100)); // the question is out
      const until = Date.now() + 900;
      while (Date.now() < until) {
        // a synchronous spin, as a heavy strategy's ask would be
      }
      await expect(asked).rejects.toThrow(/too busy to count the answers/);
      await server.kill();
      await expect(env.daemon.runningTrials()).rejects.toThrow();
    } finally {
      await server.stop();
    }
  }, 30_000);
});
