import { LocalBus } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { describe, expect, it } from 'vitest';
import '../index.ts';
import { StudyEngine } from './engine.ts';

/** A bus that says which pools workers have joined and which have workers now, as NATS does. */
function busWith(known: () => Promise<readonly string[]>, live: () => Promise<readonly string[]>) {
  return Object.assign(new LocalBus(), { knownPools: known, livePools: live });
}

describe('StudyEngine.poolWarning', () => {
  it('tells a pool never joined from one whose workers have gone, and names the pools served now', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    const engine = new StudyEngine({
      store,
      bus: busWith(
        async () => ['cpu', 'gpu'],
        async () => ['cpu'],
      ),
    });
    try {
      expect(await engine.poolWarning('cpu')).toBeUndefined();
      expect(await engine.poolWarning('gpu')).toBe(
        "no worker serves pool 'gpu' now (the workers it had have gone; pools with workers now: 'cpu'): its trials wait until one joins (sweepd worker --pool gpu, on the same NATS server and SWEEPD_NATS_PREFIX as the daemon)",
      );
      expect(await engine.poolWarning('gpu-typo')).toMatch(
        /^no worker has joined pool 'gpu-typo' on this bus yet \(pools with workers now: 'cpu'\)/,
      );
    } finally {
      await store.close();
    }
  });

  it('answers within its bound when the broker does not, or fails: the bus is away, said rather than a hung submit or a silent queue', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    const never = () => new Promise<readonly string[]>(() => {});
    const away = "the message bus did not answer (is NATS down?): the trials of pool 'gpu' wait until it is back and a worker takes them";
    const engine = new StudyEngine({ store, bus: busWith(never, never) });
    const failing = async (): Promise<readonly string[]> => {
      throw new Error('connection closed');
    };
    try {
      const started = Date.now();
      expect(await engine.poolWarning('gpu')).toBe(away);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await new StudyEngine({ store, bus: busWith(failing, failing) }).poolWarning('gpu')).toBe(away);
    } finally {
      await store.close();
    }
  });
});
