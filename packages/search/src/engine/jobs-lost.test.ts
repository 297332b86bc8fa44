import { LocalBus, type ReportConsumerOptions, type TrialJob } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { describe, expect, it } from 'vitest';
import '../index.ts';
import { StudyEngine } from './engine.ts';

describe('jobs lost by the bus', () => {
  it("sends every unfinished trial's job again, and no finished trial's", async () => {
    const store = await openStore({ dataDir: 'memory://' });
    const bus = new LocalBus();
    const sent: TrialJob[] = [];
    const dispatch = bus.dispatch.bind(bus);
    bus.dispatch = async (jobs) => {
      sent.push(...jobs);
      return dispatch(jobs);
    };
    let jobsLost: (() => void) | undefined;
    const consume = bus.consumeReports.bind(bus);
    bus.consumeReports = (handler, options?: ReportConsumerOptions) => {
      jobsLost = options?.onJobsLost;
      return consume(handler);
    };
    const engine = new StudyEngine({ store, bus });
    await engine.start();
    try {
      const study = await engine.submit(
        JSON.stringify({
          name: 'jobs-lost',
          objective: { metric: 'val_auc_macro', direction: 'maximize' },
          space: { learning_rate: { type: 'float', low: 1e-4, high: 1e-1, log: true } },
          fixed: { optimizer: 'adam' },
          budget: { max_trials: 4, max_epochs: 2, parallelism: 3 },
          trainer: { runner: 'simulate', options: { curve: 'lr_auc' } },
        }),
      );
      const waitFor = async (n: number) => {
        const deadline = Date.now() + 5_000;
        while (sent.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      };
      await waitFor(3);
      const first = sent.map((j) => j.trialId);
      expect(first).toHaveLength(3);
      // One of them finishes: its job must not go out again.
      await engine.stopTrial(study.id, 0);
      expect(jobsLost).toBeDefined();
      jobsLost?.();
      await waitFor(6);
      const again = sent.slice(3).map((j) => j.trialId);
      const trials = await store.listTrials(study.id);
      const unfinished = trials.filter((t) => t.state === 'queued' || t.state === 'running').map((t) => t.id);
      expect(unfinished).toHaveLength(3); // the stopped trial's slot went to trial 3
      expect(again.filter((id) => first.includes(id)).sort()).toEqual(first.slice(1).sort());
      expect(again).not.toContain(first[0]);
    } finally {
      await engine.close();
      await store.close();
    }
  });
});
