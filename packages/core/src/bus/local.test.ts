import { describe, expect, it } from 'vitest';
import { busContractSuite, busSuiteJob, waitUntil as until } from '../testing/bus-suite.ts';
import type { Report } from '../types.ts';
import { LocalBus } from './local.ts';

// One instance is both the daemon and every worker, as in the embedded daemon.
busContractSuite('LocalBus', async () => {
  const bus = new LocalBus({ maxDeliver: 3, retryDelayMs: 20, log: () => {} });
  return { daemon: bus, worker: async () => bus, cleanup: () => bus.close() };
});

const epoch = (n: number): Report => ({
  kind: 'epoch',
  studyId: 'st_local',
  trialId: 'tr_a',
  epoch: n,
  metrics: { loss: 1 / n },
  layers: [],
});

describe('LocalBus report delivery', () => {
  it('logs a rejected batch, backs off up to a cap, and loses no report nor its order', async () => {
    const logged: string[] = [];
    const bus = new LocalBus({ retryDelayMs: 10, maxRetryDelayMs: 40, log: (m) => logged.push(m) });
    try {
      const accepted: number[] = [];
      let rejections = 5;
      await bus.consumeReports(async (batch) => {
        if (rejections-- > 0) throw new Error('store away');
        for (const r of batch) if (r.kind === 'epoch') accepted.push(r.epoch);
      });
      await bus.publishReport(epoch(1));
      await until(() => logged.length >= 2, 'two rejections');
      // Published while the first batch is being retried: it comes after, never instead.
      await bus.publishReport(epoch(2));
      await until(() => accepted.length === 2, 'both reports');
      expect(accepted).toEqual([1, 2]);
      expect(logged).toHaveLength(5);
      expect(logged[0]).toMatch(
        /report handler rejected \d+ report\(s\) \(1 time\(s\) in a row\); delivering them again in 10 ms: store away/,
      );
      expect(logged.map((m) => Number(/again in (\d+) ms/.exec(m)?.[1]))).toEqual([10, 20, 40, 40, 40]);
    } finally {
      await bus.close();
    }
  });

  it('logs each failed delivery of a job before it is retried', async () => {
    const logged: string[] = [];
    const bus = new LocalBus({ maxDeliver: 2, log: (m) => logged.push(m) });
    try {
      const finals: Report[] = [];
      await bus.consumeReports(async (batch) => {
        finals.push(...batch.filter((r) => r.kind === 'final'));
      });
      await bus.consumeJobs({ pool: 'default', concurrency: 1 }, async () => {
        throw new Error('worker broke');
      });
      await bus.dispatch([busSuiteJob('tr_b')]);
      await until(() => finals.length === 1, 'the trial to be reported failed');
      expect(logged).toEqual([expect.stringMatching(/job of trial tr_b failed on delivery 1 of 2; delivering it again: worker broke/)]);
      expect(finals[0]).toMatchObject({ state: 'failed', reason: 'delivery failed 2 times; last error: worker broke' });
    } finally {
      await bus.close();
    }
  });
});
