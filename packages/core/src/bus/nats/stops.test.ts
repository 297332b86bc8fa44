import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { BusNames } from './names.ts';
import { type RunningTrial, StopWatch } from './stops.ts';

/** abort() alone touches no connection. */
const watch = () => new StopWatch({} as NatsConnection, {} as JetStreamManager, new BusNames('t'), () => {});
const run = (attempt: number): RunningTrial => ({ controller: new AbortController(), reason: undefined, attempt });

describe('StopWatch.abort', () => {
  it('a stop scoped to earlier deliveries leaves a later one running', () => {
    const w = watch();
    const later = run(2);
    w.running.set('a', later);
    w.abort('a', 'a later delivery of its job (2) runs the trial', 1);
    expect(later.controller.signal.aborted).toBe(false);
    expect(later.superseded).toBeUndefined();
  });

  it('marks a delivery a scoped stop covers as superseded, even one a whole-trial stop reached first', () => {
    const w = watch();
    const earlier = run(1);
    w.running.set('a', earlier);
    w.abort('a', 'stopped by user');
    w.abort('a', 'a later delivery of its job (2) runs the trial', 1);
    // It keeps the first reason, and still leaves the job to the later delivery.
    expect(earlier).toMatchObject({ reason: 'stopped by user', superseded: true });
    expect(earlier.controller.signal.aborted).toBe(true);
  });
});
