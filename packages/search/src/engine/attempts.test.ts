import { afterEach, describe, expect, it } from 'vitest';
import {
  type Bus,
  type FinalReport,
  PluginRegistry,
  type Runner,
  type RunnerContext,
  type StopScope,
  type Store,
  type TrialJob,
  type TrialOutcome,
} from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { RESEND_AFTER_MS } from './attempts.ts';
import { startEngine, until, walkStrategy } from './engine.test-helpers.ts';

const spec = {
  name: 'attempts-test',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-8, high: 1, log: true } },
  strategy: { name: 'walk' },
  budget: { max_trials: 1, max_epochs: 4, parallelism: 1 },
  trainer: { runner: 'test' },
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/**
 * An engine and worker on `store` whose runner may also publish on their bus, as a worker that lost
 * its job but ran on would; closed (bus first, which ends a runner waiting to be stopped) after the test.
 */
async function engineWith(store: Store, runner: (bus: () => Bus) => Runner) {
  const ref: { bus?: Bus } = {};
  const started = await startEngine(
    store,
    new PluginRegistry().register(walkStrategy()),
    runner(() => ref.bus as Bus),
  );
  ref.bus = started.bus;
  cleanups.push(async () => {
    await started.bus.close();
    await started.close();
  });
  return started.engine;
}

/**
 * The first delivery reports three of its four epochs at 0.99 and crashes (the bus delivers the job again);
 * the second trains from scratch to 0.6 and 0.62, while the first delivery's worker, as if it had
 * run on, still sends its epoch 3 and a 'completed' end.
 */
function crashOnceRunner(busOf: () => Bus): Runner {
  let deliveries = 0;
  return {
    async run(job, ctx) {
      deliveries++;
      if (deliveries === 1) {
        for (const epoch of [1, 2, 3]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.99 }, layers: [] });
        throw new Error('trainer process crashed');
      }
      await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: [] });
      const bus = busOf();
      const stale = { studyId: job.studyId, trialId: job.trialId, attempt: 1 };
      await bus.publishReport({ kind: 'epoch', ...stale, epoch: 3, metrics: { val_auc_macro: 0.999 }, layers: [] });
      await bus.publishReport({ kind: 'final', ...stale, state: 'completed' });
      await new Promise((r) => setTimeout(r, 100));
      await ctx.report({ epoch: 2, metrics: { val_auc_macro: 0.62 }, layers: [] });
      return { state: 'completed' };
    },
  };
}

/**
 * Delivery 1 reports an epoch and its worker is cut off (the job is delivered again); delivery 2
 * reports an epoch at 0.6 and goes on with `then`, which may publish on the bus as the first
 * delivery's worker, come back, would.
 */
function cutOffOnce(then: (job: TrialJob, ctx: RunnerContext, bus: Bus) => Promise<TrialOutcome>): (busOf: () => Bus) => Runner {
  return (busOf) => {
    let deliveries = 0;
    return {
      async run(job, ctx) {
        deliveries++;
        if (deliveries === 1) {
          await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.99 }, layers: [] });
          throw new Error('worker cut off');
        }
        await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: [] });
        return then(job, ctx, busOf());
      },
    };
  };
}

/** Calls `seen` with every stop sent on `bus` (and waits for it) before the bus sends it. */
function onStop(bus: Bus, seen: (trialId: string, reason: string, scope: StopScope | undefined) => Promise<void>): void {
  const stop = bus.stop.bind(bus);
  bus.stop = async (trialId, reason, scope) => {
    await seen(trialId, reason, scope);
    return stop(trialId, reason, scope);
  };
}

/** The end a NATS worker sends for delivery 1 when its hold on the job lapsed (it leaves the job unacknowledged). */
function lapsedEnd(job: TrialJob): FinalReport {
  return { kind: 'final', studyId: job.studyId, trialId: job.trialId, attempt: 1, state: 'completed', leaseLapsed: true };
}

describe('a trial delivered again', () => {
  it('trains from scratch: the first delivery’s epochs are discarded and its late reports ignored', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const engine = await engineWith(store, crashOnceRunner);
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const [trial] = await store.listTrials(study.id);
    expect(trial?.state).toBe('completed');
    expect(trial?.attempt).toBe(2);
    expect(trial?.epochs.map((e) => [e.epoch, e.metrics.val_auc_macro])).toEqual([
      [1, 0.6],
      [2, 0.62],
    ]);
    expect(trial?.value).toBe(0.62);
  });

  it('delivered again after its last epoch: it completes on the epochs it reported, and the later delivery is told to stop', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    let deliveries = 0;
    let laterStoppedFor: string | undefined;
    // Delivery 1 reports all 4 epochs, then its worker dies before the end is sent; delivery 2
    // would train again from scratch, and waits to be stopped.
    const engine = await engineWith(store, () => ({
      async run(_job, ctx) {
        deliveries++;
        if (deliveries === 1) {
          for (const epoch of [1, 2, 3, 4]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.7 + 0.01 * epoch }, layers: [] });
          throw new Error('worker process killed');
        }
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        laterStoppedFor = String(ctx.signal.reason);
        return { state: 'stopped', reason: laterStoppedFor };
      },
    }));
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trial = await store.getTrial(study.id, 0);
    expect([trial?.state, trial?.reason, trial?.value, trial?.attempt]).toEqual([
      'completed',
      'finished its 4 epochs; its end was not heard before its job was delivered again',
      0.74,
      1,
    ]);
    expect(trial?.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    await until(async () => laterStoppedFor !== undefined);
    expect(deliveries).toBe(2);
    expect(laterStoppedFor).toContain('its end was not heard');
  });

  it('delivered again after its last epoch, with the earlier delivery’s own end later in the batch: that end says how it ended', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    // The earlier delivery's end (a crash in teardown, which the command runner calls completed)
    // reaches the daemon just after the later delivery's start.
    const engine = await engineWith(store, (busOf) => ({
      async run(job, ctx) {
        for (const epoch of [1, 2, 3, 4]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.7 + 0.01 * epoch }, layers: [] });
        const ids = { studyId: job.studyId, trialId: job.trialId };
        const bus = busOf();
        await Promise.all([
          bus.publishReport({ kind: 'start', ...ids, worker: 'another worker', attempt: 2 }),
          bus.publishReport({ kind: 'final', ...ids, attempt: 1, state: 'completed', reason: 'finished its 4 epochs, then exit code 1' }),
        ]);
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return { state: 'stopped' };
      },
    }));
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trial = await store.getTrial(study.id, 0);
    expect([trial?.state, trial?.reason, trial?.value, trial?.attempt]).toEqual([
      'completed',
      'finished its 4 epochs, then exit code 1',
      0.74,
      1,
    ]);
  });

  it('a third delivery beginning in the batch that began the second is judged on the second’s reports alone', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    // Delivery 1 reported all 4 epochs, none with a finite objective. Delivery 2's start and a
    // finite first epoch, then delivery 3's start, arrive in one batch: delivery 2 did not train in
    // full, so the trial starts over (it is not completed on one epoch as 'finished its 4 epochs').
    const engine = await engineWith(store, (busOf) => ({
      async run(job, ctx) {
        for (const epoch of [1, 2, 3, 4]) await ctx.report({ epoch, metrics: { val_auc_macro: Number.NaN }, layers: [] });
        // All four stored (and held by the engine) before the next deliveries begin.
        await until(async () => (await store.getTrial(job.studyId, job.number))?.epochs.length === 4);
        const ids = { studyId: job.studyId, trialId: job.trialId };
        const bus = busOf();
        await Promise.all([
          bus.publishReport({ kind: 'start', ...ids, worker: 'w2', attempt: 2 }),
          bus.publishReport({ kind: 'epoch', ...ids, attempt: 2, epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: [] }),
          bus.publishReport({ kind: 'start', ...ids, worker: 'w3', attempt: 3 }),
        ]);
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return { state: 'stopped' };
      },
    }));
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => (await store.getTrial(study.id, 0))?.attempt === 3);
    await new Promise((r) => setTimeout(r, 300));
    const trial = await store.getTrial(study.id, 0);
    expect([trial?.state, trial?.attempt, trial?.epochs.length]).toEqual(['running', 3, 0]);
  });

  it('handed back by a worker that shuts down: it reads queued with no worker until a delivery begins again', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let deliveries = 0;
    // Delivery 1 reports an epoch and is handed back (as a NATS worker's consumer reports it at
    // shutdown); it ends only when the test has seen the trial queued.
    const engine = await engineWith(store, (busOf) => ({
      async run(job, ctx) {
        deliveries++;
        if (deliveries === 1) {
          await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.9 }, layers: [] });
          const ids = { studyId: job.studyId, trialId: job.trialId };
          await busOf().publishReport({ kind: 'handback', ...ids, worker: 'gone:1', reason: 'its worker shut down', attempt: 1 });
          await released;
          throw new Error('worker shut down');
        }
        await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.7 }, layers: [] });
        await ctx.report({ epoch: 2, metrics: { val_auc_macro: 0.72 }, layers: [] });
        return { state: 'completed' };
      },
    }));
    const study = await engine.submit(JSON.stringify(spec));
    try {
      // Its epoch stored (which needs it started), then queued again.
      await until(async () => {
        const t = await store.getTrial(study.id, 0);
        return t?.state === 'queued' && t.epochs.length === 1;
      });
      expect((await store.getTrial(study.id, 0))?.worker).toBeUndefined();
    } finally {
      release();
    }
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trial = await store.getTrial(study.id, 0);
    expect(trial?.attempt).toBe(2);
    expect(trial?.epochs.map((e) => [e.epoch, e.metrics.val_auc_macro])).toEqual([
      [1, 0.7],
      [2, 0.72],
    ]);
  });

  it('after a daemon restart on the in-process bus, the run sent again counts as a later delivery', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const registry = new PluginRegistry().register(walkStrategy());
    // The first daemon's run reports two epochs at 0.99 and is still running when the daemon goes.
    const first = await startEngine(store, registry, {
      async run(_job, ctx) {
        for (const epoch of [1, 2]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.99 }, layers: [] });
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return { state: 'stopped', reason: String(ctx.signal.reason) };
      },
    });
    const study = await first.engine.submit(JSON.stringify({ ...spec, budget: { max_trials: 1, max_epochs: 3, parallelism: 1 } }));
    await until(async () => (await store.getTrial(study.id, 0))?.epochs.length === 2);
    // The daemon goes away mid-trial: closing its bus aborts the run ('shutdown') before any end is stored.
    await first.engine.close();
    await first.bus.close();
    // The restarted daemon's run ends after one epoch (its runner's choice): nothing of the first run may remain.
    const second = await startEngine(store, registry, {
      async run(_job, ctx) {
        await ctx.report({ epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: [] });
        return { state: 'completed' };
      },
    });
    cleanups.push(second.close);
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trial = await store.getTrial(study.id, 0);
    expect(trial?.attempt).toBe(2);
    expect(trial?.epochs.map((e) => [e.epoch, e.metrics.val_auc_macro])).toEqual([[1, 0.6]]);
    expect(trial?.value).toBe(0.6);
  });

  it('an earlier delivery’s end read before a later delivery’s start in one batch finishes the trial', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    // Delivery 1 completes, but its acknowledgement is lost and the job is delivered again: its
    // end and the next delivery's start reach the daemon back to back.
    const engine = await engineWith(store, (busOf) => ({
      async run(job, ctx) {
        for (const epoch of [1, 2]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.9 }, layers: [] });
        const ids = { studyId: job.studyId, trialId: job.trialId };
        const bus = busOf();
        await Promise.all([
          bus.publishReport({ kind: 'final', ...ids, attempt: 1, state: 'completed' }),
          bus.publishReport({ kind: 'start', ...ids, worker: 'another worker', attempt: 2 }),
          bus.publishReport({ kind: 'epoch', ...ids, attempt: 2, epoch: 1, metrics: { val_auc_macro: 0.1 }, layers: [] }),
        ]);
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return { state: 'stopped' };
      },
    }));
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trial = await store.getTrial(study.id, 0);
    expect(trial).toMatchObject({ state: 'completed', value: 0.9, attempt: 1 });
    expect(trial?.epochs.map((e) => e.metrics.val_auc_macro)).toEqual([0.9, 0.9]);
  });

  it('a later delivery begun in the store whose reply was lost is caught up with: no earlier epoch comes back', async () => {
    const real = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => real.close());
    let loseReply = false;
    // The store commits beginAttempts, then the connection breaks before the reply: the batch comes again.
    const store = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'beginAttempts') {
          return async (items: Parameters<Store['beginAttempts']>[0]) => {
            const answer = await target.beginAttempts(items);
            if (loseReply && items.some((i) => i.attempt === 2)) {
              loseReply = false;
              throw new Error('connection lost after COMMIT');
            }
            return answer;
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Store;
    // Reports sent straight to the bus in one go arrive in one batch: the earlier delivery's
    // epoch 3, then the later delivery's start and first epoch; that batch's reply is lost.
    const engine = await engineWith(store, (busOf) => ({
      async run(job, ctx) {
        for (const epoch of [1, 2]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.99 }, layers: [] });
        const bus = busOf();
        const ids = { studyId: job.studyId, trialId: job.trialId };
        loseReply = true;
        await Promise.all([
          bus.publishReport({ kind: 'epoch', ...ids, attempt: 1, epoch: 3, metrics: { val_auc_macro: 0.99 }, layers: [] }),
          bus.publishReport({ kind: 'start', ...ids, worker: 'another worker', attempt: 2 }),
          bus.publishReport({ kind: 'epoch', ...ids, attempt: 2, epoch: 1, metrics: { val_auc_macro: 0.6 }, layers: [] }),
        ]);
        await new Promise((r) => setTimeout(r, 800));
        // The first delivery's worker ran on: its epoch 4 arrives now, then the later delivery ends.
        await bus.publishReport({ kind: 'epoch', ...ids, attempt: 1, epoch: 4, metrics: { val_auc_macro: 0.999 }, layers: [] });
        await bus.publishReport({ kind: 'epoch', ...ids, attempt: 2, epoch: 2, metrics: { val_auc_macro: 0.62 }, layers: [] });
        await bus.publishReport({ kind: 'final', ...ids, attempt: 2, state: 'completed' });
        // This run plays delivery 1, which the engine tells to stop once its epoch 4 shows it running on.
        if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return { state: 'stopped' };
      },
    }));
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const trial = await store.getTrial(study.id, 0);
    expect(trial?.attempt).toBe(2);
    expect(trial?.epochs.map((e) => [e.epoch, e.metrics.val_auc_macro])).toEqual([
      [1, 0.6],
      [2, 0.62],
    ]);
    expect(trial?.value).toBe(0.62);
  });

  it('an earlier delivery’s end arriving during a later delivery sends the job again after RESEND_AFTER_MS, and the bus refuses the copy while the later one runs', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const sent: { trialId: string; at: number }[] = [];
    let staleEndAt = 0;
    let laterDeliveries = 0;
    const engine = await engineWith(
      store,
      cutOffOnce(async (job, ctx, bus) => {
        laterDeliveries++;
        // From here on, every job the engine sends is recorded (the bus still decides whether to deliver it).
        const dispatch = bus.dispatch.bind(bus);
        bus.dispatch = async (jobs) => {
          for (const j of jobs) sent.push({ trialId: j.trialId, at: Date.now() });
          return dispatch(jobs);
        };
        staleEndAt = Date.now();
        await bus.publishReport({ kind: 'final', studyId: job.studyId, trialId: job.trialId, attempt: 1, state: 'completed' });
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return { state: 'stopped', reason: String(ctx.signal.reason) };
      }),
    );
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => sent.length > 0, 15_000);
    const [trial] = await store.listTrials(study.id);
    expect(sent[0]?.trialId).toBe(trial?.id);
    expect((sent[0]?.at as number) - staleEndAt).toBeGreaterThanOrEqual(RESEND_AFTER_MS - 50);
    // The stale end did not finish the trial, and the later delivery still holds the job: no third run.
    await new Promise((r) => setTimeout(r, 300));
    const after = await store.getTrial(study.id, 0);
    expect(after).toMatchObject({ state: 'running', attempt: 2 });
    expect(after?.epochs.map((e) => e.metrics.val_auc_macro)).toEqual([0.6]);
    expect(laterDeliveries).toBe(1);
  }, 30_000);

  it('an earlier delivery’s end that lost its hold on the job (leaseLapsed) sends nothing again: the job was left with the later delivery', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const sent: string[] = [];
    let staleEndSent = false;
    const engine = await engineWith(
      store,
      cutOffOnce(async (job, ctx, bus) => {
        const dispatch = bus.dispatch.bind(bus);
        bus.dispatch = async (jobs) => {
          sent.push(...jobs.map((j) => j.trialId));
          return dispatch(jobs);
        };
        await bus.publishReport(lapsedEnd(job));
        staleEndSent = true;
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return { state: 'stopped', reason: String(ctx.signal.reason) };
      }),
    );
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => staleEndSent);
    await new Promise((r) => setTimeout(r, RESEND_AFTER_MS + 1_000));
    expect(sent).toEqual([]);
    expect(await store.getTrial(study.id, 0)).toMatchObject({ state: 'running', attempt: 2 });
  }, 30_000);

  it('a trial ended by a delivery that lost its hold on the job is stopped on the bus: the job left in the queue does not train it again', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    let stoppedFor: string | undefined;
    const engine = await engineWith(store, (busOf) => ({
      async run(job, ctx) {
        for (const epoch of [1, 2, 3, 4]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.7 + 0.01 * epoch }, layers: [] });
        // The end a NATS worker sends when its hold lapsed (it leaves the job unacknowledged).
        await busOf().publishReport(lapsedEnd(job));
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        stoppedFor = String(ctx.signal.reason);
        return { state: 'stopped', reason: stoppedFor };
      },
    }));
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    expect(await store.getTrial(study.id, 0)).toMatchObject({ state: 'completed', value: 0.74, attempt: 1 });
    await until(async () => stoppedFor !== undefined);
    expect(stoppedFor).toContain('the trial ended on an earlier delivery of its job');
  });

  it('an earlier delivery still reporting epochs during a later one is told to stop, once and that delivery only', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const stops: { trialId: string; reason: string; upToAttempt?: number | undefined }[] = [];
    let laterAborted = false;
    const engine = await engineWith(
      store,
      cutOffOnce(async (job, ctx, bus) => {
        onStop(bus, async (trialId, reason, scope) => {
          stops.push({ trialId, reason, upToAttempt: scope?.upToAttempt });
        });
        // The first delivery's worker came back and trains on: three epochs of delivery 1.
        for (const epoch of [2, 3, 4]) {
          await bus.publishReport({
            kind: 'epoch',
            studyId: job.studyId,
            trialId: job.trialId,
            attempt: 1,
            epoch,
            metrics: {},
            layers: [],
          });
        }
        await new Promise((r) => setTimeout(r, 1_000));
        laterAborted = ctx.signal.aborted;
        await ctx.report({ epoch: 2, metrics: { val_auc_macro: 0.62 }, layers: [] });
        return { state: 'completed' };
      }),
    );
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    const [trial] = await store.listTrials(study.id);
    expect(stops).toEqual([{ trialId: trial?.id, reason: 'a later delivery of its job (2) runs the trial', upToAttempt: 1 }]);
    expect(laterAborted).toBe(false);
    expect(trial).toMatchObject({ state: 'completed', attempt: 2, value: 0.62 });
  });

  it('a delivery still reporting after its trial ended is stopped, once however many epochs it sends', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const stops: { trialId: string; reason: string }[] = [];
    let strayDone = false;
    const engine = await engineWith(store, (busOf) => ({
      async run(job, ctx) {
        for (const epoch of [1, 2, 3, 4]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.7 + 0.01 * epoch }, layers: [] });
        const bus = busOf();
        onStop(bus, async (trialId, reason) => {
          stops.push({ trialId, reason });
        });
        const ids = { studyId: job.studyId, trialId: job.trialId, attempt: 1 };
        await bus.publishReport({ kind: 'final', ...ids, state: 'completed' });
        await until(async () => (await store.getTrial(job.studyId, 0))?.state === 'completed');
        // Another delivery of the job that trains on regardless (as one left in the queue would).
        for (const epoch of [1, 2, 3]) await bus.publishReport({ kind: 'epoch', ...ids, attempt: 2, epoch, metrics: {}, layers: [] });
        await new Promise((r) => setTimeout(r, 500));
        strayDone = true;
        return { state: 'completed' };
      },
    }));
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => strayDone);
    const [trial] = await store.listTrials(study.id);
    expect(stops).toEqual([{ trialId: trial?.id, reason: 'the trial has ended' }]);
    expect(trial).toMatchObject({ state: 'completed', value: 0.74 });
  });

  it('an end and its flagged resend read in one batch still stop the job left in the queue', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const stops: string[] = [];
    const engine = await engineWith(store, (busOf) => ({
      async run(job, ctx) {
        for (const epoch of [1, 2, 3, 4]) await ctx.report({ epoch, metrics: { val_auc_macro: 0.7 + 0.01 * epoch }, layers: [] });
        const bus = busOf();
        onStop(bus, async (_trialId, reason) => {
          stops.push(reason);
        });
        // The end went out before the lapse showed; the worker sends it again, flagged, at once.
        const end = { kind: 'final', studyId: job.studyId, trialId: job.trialId, attempt: 1, state: 'completed' } as const;
        await Promise.all([bus.publishReport(end), bus.publishReport({ ...end, leaseLapsed: true })]);
        if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return { state: 'stopped' };
      },
    }));
    const study = await engine.submit(JSON.stringify(spec));
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    await until(async () => stops.length > 0);
    expect(stops).toEqual(['the trial ended on an earlier delivery of its job']);
  });

  it('a stop of earlier deliveries is not sent while a stop of the whole trial is on its way (it would take its place)', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    const stops: { reason: string; upToAttempt?: number | undefined }[] = [];
    let engineRef: Awaited<ReturnType<typeof engineWith>> | undefined;
    let studyId = '';
    const engine = await engineWith(
      store,
      cutOffOnce(async (job, ctx, bus) => {
        onStop(bus, async (_trialId, reason, scope) => {
          await new Promise((r) => setTimeout(r, 100)); // as a NATS publish waits for its acknowledgement
          stops.push({ reason, upToAttempt: scope?.upToAttempt });
        });
        // The user stops the trial, and an epoch of the first delivery comes in while that stop is sent.
        await until(async () => studyId !== '');
        const stopping = engineRef?.stopTrial(studyId, 0, 'stopped by user');
        await bus.publishReport({
          kind: 'epoch',
          studyId: job.studyId,
          trialId: job.trialId,
          attempt: 1,
          epoch: 2,
          metrics: {},
          layers: [],
        });
        await stopping;
        await new Promise((r) => setTimeout(r, 500));
        return { state: 'stopped', reason: 'stopped by user' };
      }),
    );
    engineRef = engine;
    const study = await engine.submit(JSON.stringify(spec));
    studyId = study.id;
    await until(async () => (await store.getStudy(study.id))?.state === 'completed');
    expect(stops).toEqual([{ reason: 'stopped by user', upToAttempt: undefined }]);
  });
});
