import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, JobControl } from '../bus/contract.ts';
import type { Report, TrialJob } from '../types.ts';

export interface BusUnderTest {
  /** The daemon's side: dispatch, stop, consumeReports. */
  daemon: Bus;
  /** A new worker's side (for an in-process bus, the daemon itself). */
  worker: () => Promise<Bus>;
  /** Closes every bus made and removes what the test left on the server. */
  cleanup(): Promise<void>;
}

/** The suite expects buses made with these settings (LocalBus and NatsBus both default to 3 deliveries). */
export const BUS_SUITE_MAX_DELIVER = 3;

/**
 * Checks every guarantee of the Bus contract (bus/contract.ts) against one implementation.
 * `makeBus` is called once per test and must give an isolated bus (e.g. a fresh stream prefix)
 * delivering each job at most BUS_SUITE_MAX_DELIVER times.
 */
export function busContractSuite(name: string, makeBus: () => Promise<BusUnderTest>): void {
  describe(`Bus contract: ${name}`, () => {
    let made: BusUnderTest | undefined;
    const setup = async () => {
      made = await makeBus();
      return made;
    };
    afterEach(async () => {
      await made?.cleanup();
      made = undefined;
    });

    it('delivers each job once, to a worker of its pool only', async () => {
      const { daemon, worker } = await setup();
      const gpu = await worker();
      const cpu = await worker();
      const seen: Array<[string, string]> = [];
      await gpu.consumeJobs({ pool: 'gpu', concurrency: 4 }, async (job) => {
        seen.push(['gpu', job.trialId]);
      });
      await cpu.consumeJobs({ pool: 'cpu', concurrency: 4 }, async (job) => {
        seen.push(['cpu', job.trialId]);
      });
      await daemon.dispatch([
        busSuiteJob('g1', 'gpu'),
        busSuiteJob('c1', 'cpu'),
        busSuiteJob('g2', 'gpu'),
        busSuiteJob('c2', 'cpu'),
        busSuiteJob('g3', 'gpu'),
      ]);
      await waitUntil(() => seen.length >= 5, 'five jobs handled');
      await pause(300);
      expect([...seen].sort()).toEqual([
        ['cpu', 'c1'],
        ['cpu', 'c2'],
        ['gpu', 'g1'],
        ['gpu', 'g2'],
        ['gpu', 'g3'],
      ]);
    });

    it('delivers a job dispatched twice while pending only once', async () => {
      const { daemon, worker } = await setup();
      await daemon.dispatch([busSuiteJob('a'), busSuiteJob('b')]);
      await daemon.dispatch([busSuiteJob('a')]);
      await daemon.dispatch([busSuiteJob('b'), busSuiteJob('c'), busSuiteJob('c')]);
      const w = await worker();
      const seen: string[] = [];
      let release!: () => void;
      const hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      await w.consumeJobs({ pool: 'default', concurrency: 4 }, async (j) => {
        seen.push(j.trialId);
        await hold;
      });
      await waitUntil(() => seen.length >= 3, 'three jobs started');
      // Running counts as pending too: a re-dispatch now must not start it a second time.
      await daemon.dispatch([busSuiteJob('a')]);
      await pause(300);
      release();
      await pause(300);
      expect([...seen].sort()).toEqual(['a', 'b', 'c']);
    });

    it('never runs more handlers at once than the concurrency', async () => {
      const { daemon, worker } = await setup();
      const w = await worker();
      let active = 0;
      let peak = 0;
      const done: string[] = [];
      await w.consumeJobs({ pool: 'default', concurrency: 2 }, async (j) => {
        active++;
        peak = Math.max(peak, active);
        await pause(80);
        active--;
        done.push(j.trialId);
      });
      await daemon.dispatch(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => busSuiteJob(id)));
      await waitUntil(() => done.length >= 6, 'six jobs handled');
      expect(peak).toBe(2);
    });

    it('delivers a job again after its handler throws, counting attempts', async () => {
      const { daemon, worker } = await setup();
      const reports = await collectReports(daemon);
      const w = await worker();
      const attempts: number[] = [];
      await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, control) => {
        attempts.push(control.attempt);
        if (control.attempt === 1) throw new Error('first attempt fails');
        await w.publishReport(final(j, 'completed'));
      });
      await daemon.dispatch([busSuiteJob('a')]);
      await waitUntil(() => reports.some((r) => r.kind === 'final'), 'the final report');
      await pause(200);
      expect(attempts).toEqual([1, 2]);
      expect(reports.filter((r) => r.kind === 'final').map((r) => (r as { state: string }).state)).toEqual(['completed']);
    });

    it(`reports the trial failed after ${BUS_SUITE_MAX_DELIVER} failed deliveries, and delivers it no more`, async () => {
      const { daemon, worker } = await setup();
      const reports = await collectReports(daemon);
      const w = await worker();
      const attempts: number[] = [];
      await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (_j, control) => {
        attempts.push(control.attempt);
        throw new Error(`boom on attempt ${control.attempt}`);
      });
      await daemon.dispatch([busSuiteJob('doomed')]);
      await waitUntil(() => reports.some((r) => r.kind === 'final'), 'the failed final report');
      await pause(300);
      expect(attempts).toEqual(Array.from({ length: BUS_SUITE_MAX_DELIVER }, (_, i) => i + 1));
      const finals = reports.filter((r) => r.kind === 'final');
      expect(finals).toHaveLength(1);
      expect(finals[0]).toMatchObject({ kind: 'final', studyId: 'st_suite', trialId: 'doomed', state: 'failed' });
      const reason = (finals[0] as { reason?: string }).reason ?? '';
      expect(reason).toMatch(new RegExp(`\\b${BUS_SUITE_MAX_DELIVER} times\\b`));
      expect(reason).toContain(`boom on attempt ${BUS_SUITE_MAX_DELIVER}`);
    });

    it('delivers reports at least once and in publish order per trial', async () => {
      const { daemon, worker } = await setup();
      const reports = await collectReports(daemon);
      const w = await worker();
      const trials = ['t1', 't2', 't3', 't4'];
      const epochs = 25;
      // Trials publish concurrently, each in its own order: start, epochs 1..n, final.
      await Promise.all(
        trials.map(async (trialId) => {
          await w.publishReport({ kind: 'start', studyId: 'st_suite', trialId, worker: 'w' });
          for (let e = 1; e <= epochs; e++) await w.publishReport(epoch(trialId, e));
          await w.publishReport({ kind: 'final', studyId: 'st_suite', trialId, state: 'completed' });
        }),
      );
      await waitUntil(() => reports.filter((r) => r.kind === 'final').length >= trials.length, 'every final report');
      for (const trialId of trials) {
        expect(firstOccurrences(reports, trialId)).toEqual([
          'start',
          ...Array.from({ length: epochs }, (_, i) => `epoch ${i + 1}`),
          'final',
        ]);
      }
    });

    it('delivers a rejected report batch again, keeping the order', async () => {
      const { daemon, worker } = await setup();
      const accepted: Report[] = [];
      let rejections = 0;
      await daemon.consumeReports(async (batch) => {
        if (rejections < 2 && batch.some((r) => r.kind === 'epoch' && r.epoch === 2)) {
          rejections++;
          throw new Error('store unavailable');
        }
        accepted.push(...batch);
      });
      const w = await worker();
      for (let e = 1; e <= 5; e++) await w.publishReport(epoch('t1', e));
      await w.publishReport({ kind: 'final', studyId: 'st_suite', trialId: 't1', state: 'completed' });
      await waitUntil(() => accepted.some((r) => r.kind === 'final'), 'the final report accepted');
      expect(rejections).toBe(2);
      expect(firstOccurrences(accepted, 't1')).toEqual(['epoch 1', 'epoch 2', 'epoch 3', 'epoch 4', 'epoch 5', 'final']);
    });

    it('caughtUp() resolves once the reports published before the subscription started are taken (a restarted daemon)', async () => {
      const { daemon, worker } = await setup();
      const w = await worker();
      for (let e = 1; e <= 30; e++) await w.publishReport(epoch('t-backlog', e));
      const taken: Report[] = [];
      const sub = await daemon.consumeReports(async (batch) => {
        await pause(20); // a store write per batch
        taken.push(...batch);
      });
      expect(await sub.caughtUp(10_000)).toBe(true);
      expect(firstOccurrences(taken, 't-backlog')).toHaveLength(30);
      // Nothing queued: at once.
      expect(await sub.caughtUp(1_000)).toBe(true);
    });

    it('carries NaN and ±Infinity in a report (a diverged trial’s loss), not null', async () => {
      const { daemon, worker } = await setup();
      const reports = await collectReports(daemon);
      const w = await worker();
      await w.publishReport({
        kind: 'epoch',
        studyId: 'st_suite',
        trialId: 't-nan',
        epoch: 1,
        metrics: { val_loss: Number.NaN, train_loss: Number.POSITIVE_INFINITY },
        layers: [{ layer: 'fc', trainable: true, kernelMovement: Number.NaN }],
      });
      await waitUntil(() => reports.some((r) => r.trialId === 't-nan'), 'the NaN report');
      const got = reports.find((r) => r.trialId === 't-nan');
      if (got?.kind !== 'epoch') throw new Error('expected the epoch report');
      expect(Number.isNaN(got.metrics.val_loss)).toBe(true);
      expect(got.metrics.train_loss).toBe(Number.POSITIVE_INFINITY);
      expect(Number.isNaN(got.layers[0]?.kernelMovement)).toBe(true);
    });

    it('stop aborts the running handler within a second, with the reason, and the job is not delivered again', async () => {
      const { daemon, worker } = await setup();
      const w = await worker();
      let control: JobControl | undefined;
      let calls = 0;
      let abortedAt = 0;
      await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (_j, c) => {
        calls++;
        control = c;
        await new Promise<void>((resolve) => c.signal.addEventListener('abort', () => resolve(), { once: true }));
        abortedAt = Date.now();
        throw new Error('aborted');
      });
      await daemon.dispatch([busSuiteJob('a')]);
      await waitUntil(() => control !== undefined, 'the job to start');
      const stoppedAt = Date.now();
      await daemon.stop('a', 'median rule: below the median at epoch 3');
      await waitUntil(() => abortedAt > 0, 'the handler to see the abort', 2_000);
      expect(abortedAt - stoppedAt).toBeLessThan(1_000);
      expect(control?.signal.aborted).toBe(true);
      expect(control?.stopReason).toBe('median rule: below the median at epoch 3');
      await pause(500);
      expect(calls).toBe(1);
    });

    it('a stop scoped to earlier deliveries aborts one of them, and leaves a later delivery running and a queued job queued', async () => {
      const { daemon, worker } = await setup();
      const w = await worker();
      const runs: { trialId: string; attempt: number; aborted?: boolean; reason?: string | undefined }[] = [];
      await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, c) => {
        const run: (typeof runs)[number] = { trialId: j.trialId, attempt: (j.priorAttempts ?? 0) + c.attempt };
        runs.push(run);
        if (j.trialId === 'later' && run.attempt === 1) throw new Error('trainer crashed'); // delivered again
        await Promise.race([new Promise((resolve) => c.signal.addEventListener('abort', resolve, { once: true })), pause(1_000)]);
        run.aborted = c.signal.aborted;
        run.reason = c.stopReason;
      });
      // Delivery 2 of 'later' runs; a stop of deliveries up to 1 leaves it be.
      await daemon.dispatch([busSuiteJob('later')]);
      await waitUntil(() => runs.some((r) => r.trialId === 'later' && r.attempt === 2), "the later delivery's start");
      await daemon.stop('later', 'an earlier delivery', { upToAttempt: 1 });
      await waitUntil(() => runs.at(-1)?.aborted !== undefined, 'the later delivery to end', 3_000);
      expect(runs.at(-1)).toMatchObject({ trialId: 'later', attempt: 2, aborted: false });
      // Delivery 3 of 'earlier' (two before it) runs; a stop of deliveries up to 3 ends it.
      await daemon.dispatch([{ ...busSuiteJob('earlier'), priorAttempts: 2 }]);
      await waitUntil(() => runs.some((r) => r.trialId === 'earlier'), "the third delivery's start");
      await daemon.stop('earlier', 'an earlier delivery', { upToAttempt: 3 });
      await waitUntil(() => runs.at(-1)?.aborted !== undefined, 'the third delivery to end', 3_000);
      expect(runs.at(-1)).toMatchObject({ trialId: 'earlier', attempt: 3, aborted: true, reason: 'an earlier delivery' });
      // A stop of deliveries up to 2, recorded while the trial's next delivery is queued, does not keep it from running.
      await daemon.stop('queued', 'an earlier delivery', { upToAttempt: 2 });
      await daemon.dispatch([{ ...busSuiteJob('queued'), priorAttempts: 2 }]);
      await waitUntil(() => runs.at(-1)?.trialId === 'queued' && runs.at(-1)?.aborted !== undefined, 'the queued job to run', 5_000);
      expect(runs.at(-1)).toMatchObject({ attempt: 3, aborted: false });
    });

    it('a job stopped while queued never reaches a handler, even one that starts later', async () => {
      const { daemon, worker } = await setup();
      // Nobody consumes yet.
      await daemon.dispatch([busSuiteJob('early')]);
      await daemon.stop('early', 'user stop');
      const w = await worker();
      const seen: string[] = [];
      let releaseBlocker!: () => void;
      const blocker = new Promise<void>((resolve) => {
        releaseBlocker = resolve;
      });
      await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (j) => {
        seen.push(j.trialId);
        if (j.trialId === 'blocker') await blocker;
      });
      await daemon.dispatch([busSuiteJob('blocker')]);
      await waitUntil(() => seen.includes('blocker'), 'the blocker to start');
      // Queued behind the blocker, then stopped.
      await daemon.dispatch([busSuiteJob('late'), busSuiteJob('after')]);
      await daemon.stop('late', 'user stop');
      releaseBlocker();
      await waitUntil(() => seen.includes('after'), 'the job after the stopped one');
      await pause(300);
      expect(seen).toEqual(['blocker', 'after']);
    });

    it('closing a job subscription stops new deliveries and waits for handlers in flight', async () => {
      const { daemon, worker } = await setup();
      const w = await worker();
      const seen: string[] = [];
      let finished = false;
      const sub = await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (j) => {
        seen.push(j.trialId);
        await pause(300);
        finished = true;
      });
      await daemon.dispatch([busSuiteJob('a')]);
      await waitUntil(() => seen.length === 1, 'the job to start');
      await sub.close();
      expect(finished).toBe(true);
      await daemon.dispatch([busSuiteJob('b')]);
      await pause(300);
      expect(seen).toEqual(['a']);
    });

    it('close() aborts running handlers with "shutdown", waits for them, and refuses new work', async () => {
      const { daemon, worker } = await setup();
      const w = await worker();
      let control: JobControl | undefined;
      let settled = false;
      await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (_j, c) => {
        control = c;
        await new Promise<void>((resolve) => c.signal.addEventListener('abort', () => resolve(), { once: true }));
        await pause(100);
        settled = true;
      });
      await daemon.dispatch([busSuiteJob('a')]);
      await waitUntil(() => control !== undefined, 'the job to start');
      await w.close();
      expect(settled).toBe(true);
      expect(control?.stopReason).toBe('shutdown');
      await expect(w.dispatch([busSuiteJob('b')])).rejects.toThrow();
      await expect(w.consumeJobs({ pool: 'default', concurrency: 1 }, async () => {})).rejects.toThrow();
    });

    it('close() takes the reports its aborted handlers send while they end (a script training on through its stop grace)', async () => {
      const { daemon, worker } = await setup();
      const reports = await collectReports(daemon);
      const w = await worker();
      let started = false;
      await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, c) => {
        started = true;
        await new Promise<void>((resolve) => c.signal.addEventListener('abort', () => resolve(), { once: true }));
        await pause(100);
        for (let e = 1; e <= 3; e++) await w.publishReport(epoch(j.trialId, e));
        await w.publishReport(final(j, 'completed'));
      });
      await daemon.dispatch([busSuiteJob('a')]);
      await waitUntil(() => started, 'the job to start');
      await w.close();
      await waitUntil(() => reports.some((r) => r.kind === 'final'), 'the final report sent after the abort');
      expect(firstOccurrences(reports, 'a')).toEqual(['epoch 1', 'epoch 2', 'epoch 3', 'final']);
    });
  });
}

export function busSuiteJob(trialId: string, pool = 'default'): TrialJob {
  return {
    studyId: 'st_suite',
    trialId,
    number: 1,
    params: { learning_rate: 0.01 },
    maxEpochs: 3,
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    trainer: { runner: 'noop' },
    pool,
  };
}

function final(j: TrialJob, state: 'completed' | 'stopped' | 'failed'): Report {
  return { kind: 'final', studyId: j.studyId, trialId: j.trialId, state };
}

function epoch(trialId: string, n: number): Report {
  return { kind: 'epoch', studyId: 'st_suite', trialId, epoch: n, metrics: { val_auc_macro: n / 100 }, layers: [] };
}

/** The trial's reports as labels, each the first time it was delivered. */
function firstOccurrences(reports: readonly Report[], trialId: string): string[] {
  const labels = reports.filter((r) => r.trialId === trialId).map((r) => (r.kind === 'epoch' ? `epoch ${r.epoch}` : r.kind));
  return [...new Set(labels)];
}

async function collectReports(bus: Bus): Promise<Report[]> {
  const reports: Report[] = [];
  await bus.consumeReports(async (batch) => {
    reports.push(...batch);
  });
  return reports;
}

export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await pause(10);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
