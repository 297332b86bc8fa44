import { afterEach, describe, expect, it } from 'vitest';
import { type NatsBusesUnderTest, natsBuses } from './test-env.ts';

describe('NatsBus.knownPools', () => {
  let env: NatsBusesUnderTest | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it('lists the pools workers have joined on its prefix, and keeps them after the workers leave', async () => {
    env = await natsBuses();
    expect(await env.daemon.knownPools()).toEqual([]);
    const worker = await env.worker();
    const gpu = await worker.consumeJobs({ pool: 'gpu.a100', concurrency: 1 }, async () => {});
    await worker.consumeJobs({ pool: 'default', concurrency: 1 }, async () => {});
    // Another prefix on the same server is another bus: its pools are not this one's.
    const other = await natsBuses();
    try {
      await (await other.worker()).consumeJobs({ pool: 'cpu', concurrency: 1 }, async () => {});
      expect(await env.daemon.knownPools()).toEqual(['default', 'gpu.a100']);
    } finally {
      await other.cleanup();
    }
    expect(await env.daemon.livePools()).toEqual(['default', 'gpu.a100']);
    await gpu.close();
    expect(await env.daemon.knownPools()).toEqual(['default', 'gpu.a100']);
    // Gone from the pools served now once its last pull request has ended (at most 5 s).
    const deadline = Date.now() + 8_000;
    while ((await env.daemon.livePools()).includes('gpu.a100') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await env.daemon.livePools()).toEqual(['default']);
  }, 20_000);
});
