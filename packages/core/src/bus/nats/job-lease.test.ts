import { describe, expect, it } from 'vitest';
import { JobLease } from './job-lease.ts';

/** A lease on a hand-moved clock whose confirmations resolve when the test says. */
function leaseUnderTest(ackWaitMs = 1_000) {
  let clock = 0;
  let touches = 0;
  const waiting: (() => void)[] = [];
  const lease = new JobLease(
    () => {
      touches++;
    },
    () => new Promise<void>((resolve) => waiting.push(resolve)),
    ackWaitMs,
    () => clock,
  );
  return {
    lease,
    touches: () => touches,
    advance: (ms: number) => {
      clock += ms;
    },
    /** Confirms every heartbeat on its way, after `ms`. */
    confirmAfter: async (ms: number) => {
      clock += ms;
      for (const resolve of waiting.splice(0)) resolve();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('JobLease', () => {
  it('holds while heartbeats are confirmed within the ack wait', async () => {
    const t = leaseUnderTest();
    for (let i = 0; i < 5; i++) {
      t.advance(300);
      void t.lease.beat();
      await t.confirmAfter(10);
    }
    expect(t.lease.lapsed).toBe(false);
    expect(t.touches()).toBe(5);
  });

  it('lapses when a heartbeat is confirmed most of an ack wait after the last confirmed one was sent (a stalled or cut-off worker)', async () => {
    const t = leaseUnderTest();
    t.advance(300);
    void t.lease.beat();
    await t.confirmAfter(10);
    t.advance(200);
    void t.lease.beat();
    // The connection is cut: this heartbeat is confirmed only when it comes back, 1.5 s on.
    await t.confirmAfter(1_500);
    expect(t.lease.lapsed).toBe(true);
    expect(t.lease.lapsedFor).toBe(1_710);
    // It stays lapsed: the server may have handed the job on meanwhile.
    t.advance(100);
    void t.lease.beat();
    await t.confirmAfter(10);
    expect(t.lease.lapsed).toBe(true);
  });

  it('lapses when the process stalled between two heartbeats, however fast the next one is confirmed', async () => {
    const t = leaseUnderTest();
    t.advance(900); // no timer fired for 0.9 s of an ack wait of 1 s
    void t.lease.beat();
    await t.confirmAfter(5);
    expect(t.lease.lapsed).toBe(true);
  });

  it('sends one heartbeat at a time: a beat while one is on its way waits for it', async () => {
    const t = leaseUnderTest();
    const first = t.lease.beat();
    const second = t.lease.beat();
    expect(second).toBe(first);
    expect(t.touches()).toBe(1);
    await t.confirmAfter(10);
    await first;
  });

  it('check() counts a heartbeat still unconfirmed after an ack wait as a lapse', async () => {
    const t = leaseUnderTest(50);
    t.advance(10);
    // Never confirmed: check() gives up after the ack wait (real time, 50 ms here).
    const checking = t.lease.check();
    t.advance(60);
    expect(await checking).toBe(true);
  });

  it('check() of a held lease beats once more and says it holds', async () => {
    const t = leaseUnderTest();
    const checking = t.lease.check();
    await t.confirmAfter(20);
    expect(await checking).toBe(false);
    expect(t.touches()).toBe(1);
  });

  it('check() sends heartbeats again while the connection refuses them, and judges by the one confirmed (an outage that ate the ack wait)', async () => {
    let clock = 0;
    let calls = 0;
    const lease = new JobLease(
      () => {},
      async () => {
        calls++;
        clock += 400; // each refusal comes 0.4 s on, as a reconnect attempt does
        if (calls < 3) throw new Error('connection closed');
      },
      1_000,
      () => clock,
    );
    expect(await lease.check()).toBe(true);
    expect(calls).toBe(3);
    expect(lease.lapsedFor).toBe(1_200);
  });
});
