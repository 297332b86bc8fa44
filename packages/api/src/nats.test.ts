import { describe, expect, it } from 'vitest';
import { natsOptionsFromEnv } from './nats.ts';

describe('NATS settings from the environment', () => {
  it('takes the prefix and an ack wait of at least 2 s', () => {
    expect(natsOptionsFromEnv({ SWEEPD_NATS_PREFIX: 'lab', SWEEPD_NATS_ACK_WAIT_MS: '2000' })).toEqual({ prefix: 'lab', ackWaitMs: 2_000 });
    expect(natsOptionsFromEnv({})).toEqual({});
  });

  it('refuses an ack wait a pause of the worker process would outlast, or one that is not a number, naming the variable', () => {
    expect(() => natsOptionsFromEnv({ SWEEPD_NATS_ACK_WAIT_MS: '500' })).toThrow(
      /^SWEEPD_NATS_ACK_WAIT_MS must be a whole number of milliseconds, at least 2000 \(got '500'\): a worker unheard/,
    );
    expect(() => natsOptionsFromEnv({ SWEEPD_NATS_ACK_WAIT_MS: '3s' })).toThrow(/got '3s'/);
  });
});
