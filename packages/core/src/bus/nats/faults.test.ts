import { jetstreamManager } from '@nats-io/jetstream';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestNatsServer, type TestNatsServer } from '../../../../../test/support/nats-server.ts';
import { busSuiteJob as job, waitUntil } from '../../testing/bus-suite.ts';
import { type PausableProxy, pausableProxy } from '../../../../../test/support/pausable-proxy.ts';
import type { Report, TrialJob } from '../../types.ts';
import type { JobControl } from '../contract.ts';
import { connectNatsBus, type NatsBus } from './bus.ts';
import { type NatsBusesUnderTest, natsBuses, TEST_NATS_URL } from './test-env.ts';

const epoch = (trialId: string, n: number): Report => ({
  kind: 'epoch',
  studyId: 'st_suite',
  trialId,
  epoch: n,
  metrics: { loss: 1 / n },
  layers: [],
});
const epochOf = (trialId: string, n: number, attempt: number): Report => ({ ...epoch(trialId, n), attempt });
const labels = (reports: readonly Report[], trialId: string) => [
  ...new Set(reports.filter((r) => r.trialId === trialId).map((r) => (r.kind === 'epoch' ? `epoch ${r.epoch}` : r.kind))),
];
/** Whether the jobs stream of `bus`'s prefix empties within 5 s (every job acknowledged). */
async function jobsGone(bus: NatsBus): Promise<boolean> {
  const jsm = await jetstreamManager(bus.connection);
  const count = async () => (await jsm.streams.info(bus.names.jobsStream)).state.messages;
  for (let i = 0; i < 50 && (await count()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return (await count()) === 0;
}

/** Restarts a test NATS server with its storage gone (a lost volume): streams, consumers and their messages. */
async function restartWithoutStorage(nats: TestNatsServer, downMs = 0): Promise<void> {
  await nats.kill();
  await rm(nats.storeDir, { recursive: true, force: true });
  if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
  await nats.start();
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
const untilAborted = (c: JobControl) =>
  new Promise<void>((_, reject) => c.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));

describe('NatsBus faults', () => {
  let env: NatsBusesUnderTest | undefined;
  let server: TestNatsServer | undefined;
  const proxies: PausableProxy[] = [];
  afterEach(async () => {
    for (const proxy of proxies.splice(0)) {
      proxy.resume();
      await proxy.close();
    }
    await env?.cleanup();
    await server?.stop();
    env = undefined;
    server = undefined;
  });

  it('a handler that keeps refusing reports (the store away) gets them again at growing pauses, said as errors with a count from the 4th', async () => {
    const infos: string[] = [];
    const errors: string[] = [];
    env = await natsBuses({ retryDelayMs: 50, log: (msg) => infos.push(msg), logError: (msg) => errors.push(msg) });
    const taken: Report[] = [];
    let refusals = 6;
    await env.daemon.consumeReports(async (batch) => {
      if (refusals-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      taken.push(...batch);
    });
    const started = Date.now();
    await env.daemon.publishReport({ kind: 'start', studyId: 's', trialId: 't', worker: 'w' });
    await waitUntil(() => taken.length === 1, 'the report taken at last', 15_000);
    // 50 + 100 + 200 + 400 + 800 + 1600 ms between the seven deliveries, not six fixed pauses of 50.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_100);
    const said = (n: number, ms: number) =>
      `report handler rejected 1 report(s) (${n} time(s) in a row); delivering them again in ${ms} ms: connect ECONNREFUSED 127.0.0.1:5432`;
    // A refusal or three is a blip, said at info; the 4th in a row is an outage, an error (then the 8th, 16th, …).
    expect(infos.filter((m) => m.startsWith('report handler rejected'))).toEqual([said(1, 50), said(2, 100), said(3, 200)]);
    expect(errors.filter((m) => m.startsWith('report handler rejected'))).toEqual([said(4, 400)]);
    expect(infos).toContain('report handler took 1 report(s) after 6 refusal(s)');
  });

  it('closes at once while a refused batch waits out a pause of seconds', async () => {
    const infos: string[] = [];
    env = await natsBuses({ retryDelayMs: 5_000, log: (msg) => infos.push(msg) });
    await env.daemon.consumeReports(async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    });
    await env.daemon.publishReport({ kind: 'start', studyId: 's', trialId: 't', worker: 'w' });
    await waitUntil(() => infos.some((m) => m.includes('delivering them again in 5000 ms')), 'the first refusal', 10_000);
    const closing = Date.now();
    await env.daemon.close();
    expect(Date.now() - closing).toBeLessThan(1_000);
  });

  it('delivers the job of a worker that died mid-trial to another worker after the ack wait', async () => {
    env = await natsBuses({ ackWaitMs: 1_000, heartbeatMs: 200 });
    const first = await env.worker();
    let firstStarted = false;
    await first.consumeJobs({ pool: 'default', concurrency: 1 }, async (_j, c) => {
      firstStarted = true;
      await untilAborted(c);
    });
    await env.daemon.dispatch([job('a')]);
    await waitUntil(() => firstStarted, 'the first worker to start the job');
    // Dies without a word: no ack, no nak, no more heartbeats.
    await first.connection.close();
    const diedAt = Date.now();
    const second = await env.worker();
    const attempts: number[] = [];
    await second.consumeJobs({ pool: 'default', concurrency: 1 }, async (_j, c) => {
      attempts.push(c.attempt);
    });
    await waitUntil(() => attempts.length > 0, 'the job to reach the second worker', 10_000);
    expect(attempts).toEqual([2]);
    expect(Date.now() - diedAt).toBeGreaterThan(300);
  });

  it("a worker with a shorter ack wait joining a pool leaves the pool's consumer as it is: a running job is not redelivered", async () => {
    env = await natsBuses({ ackWaitMs: 3_000, heartbeatMs: 1_000 });
    const first = await env.worker();
    const runs: number[] = [];
    await first.consumeJobs({ pool: 'default', concurrency: 1 }, async (_j, c) => {
      runs.push(c.attempt);
      await new Promise((r) => setTimeout(r, 5_000)); // longer than either ack wait
    });
    await env.daemon.dispatch([job('long')]);
    await waitUntil(() => runs.length > 0, 'the first worker to start the job');
    const said: string[] = [];
    const second = await env.worker({ ackWaitMs: 1_000, heartbeatMs: 300, log: (m) => said.push(m) });
    await second.consumeJobs({ pool: 'default', concurrency: 1 }, async (_j, c) => {
      runs.push(c.attempt);
    });
    await new Promise((r) => setTimeout(r, 5_500));
    expect(runs).toEqual([1]);
    expect(said.join('\n')).toMatch(/pool default: its job consumer's ack wait is 3000 ms .* not this worker's 1000 ms; using 3000 ms/);
  }, 20_000);

  it('a job handed back at shutdown is queued again without spending a delivery: four rolling restarts, then it runs', async () => {
    // An ack wait a stalled test process stays within: a hold that lapsed would leave its job, not hand it back.
    env = await natsBuses({ ackWaitMs: 3_000, heartbeatMs: 200, maxDeliver: 3 });
    const reports: Report[] = [];
    await env.daemon.consumeReports(async (batch) => {
      reports.push(...batch);
    });
    await env.daemon.dispatch([job('a')]);
    const attempts: number[] = [];
    for (let restart = 0; restart < 4; restart++) {
      const worker = await env.worker();
      let started = false;
      await worker.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, c) => {
        attempts.push((j.priorAttempts ?? 0) + c.attempt);
        started = true;
        await untilAborted(c);
        throw new Error('shutdown');
      });
      await waitUntil(() => started, `delivery ${restart + 1} to start`);
      await worker.close(); // a graceful shutdown: the running job is handed back
    }
    const last = await env.worker();
    await last.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, c) => {
      attempts.push((j.priorAttempts ?? 0) + c.attempt);
      await env?.daemon.publishReport({ kind: 'final', studyId: 's', trialId: j.trialId, state: 'completed', attempt: attempts.at(-1) });
    });
    await waitUntil(() => reports.some((r) => r.kind === 'final'), "the trial's end", 10_000);
    // Every delivery began afresh with a higher attempt; none counted as a dead worker's.
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    expect(reports.filter((r) => r.kind === 'final')).toEqual([expect.objectContaining({ trialId: 'a', state: 'completed' })]);
    expect(reports.filter((r) => r.kind === 'handback').map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
    // The job is acknowledged after its end is reported (so an end is never lost): wait for it.
    expect(await jobsGone(env.daemon)).toBe(true);
  }, 30_000);

  it('reports failed a trial whose worker died on its last delivery, and removes the job', async () => {
    env = await natsBuses({ ackWaitMs: 1_000, heartbeatMs: 200, maxDeliver: 1 });
    const reports: Report[] = [];
    await env.daemon.consumeReports(async (batch) => {
      reports.push(...batch);
    });
    const first = await env.worker();
    let started = false;
    await first.consumeJobs({ pool: 'default', concurrency: 1 }, async (_j, c) => {
      started = true;
      await untilAborted(c);
    });
    await env.daemon.dispatch([job('a')]);
    await waitUntil(() => started, 'the job to start');
    await first.connection.close();
    const second = await env.worker();
    let handedOver = false;
    await second.consumeJobs({ pool: 'default', concurrency: 1 }, async () => {
      handedOver = true;
    });
    await waitUntil(() => reports.some((r) => r.kind === 'final'), 'the failed report', 10_000);
    expect(handedOver).toBe(false);
    const finalReport = reports.find((r) => r.kind === 'final');
    expect(finalReport).toMatchObject({ trialId: 'a', state: 'failed' });
    expect((finalReport as { reason: string }).reason).toMatch(/delivered 1 times/);
    // The job is acknowledged after the failure is reported (so the failure is never lost): wait for it.
    expect(await jobsGone(env.daemon)).toBe(true);
  });

  it('reports stopped a trial stopped while running whose worker died before it ended: the next worker meets the stop', async () => {
    env = await natsBuses({ ackWaitMs: 1_000, heartbeatMs: 200 });
    const reports: Report[] = [];
    await env.daemon.consumeReports(async (batch) => {
      reports.push(...batch);
    });
    const first = await env.worker();
    let started = false;
    let release!: () => void;
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A worker that hangs and then dies: it never ends the trial, stopped or not.
    await first.consumeJobs({ pool: 'default', concurrency: 1 }, async () => {
      started = true;
      await hung;
    });
    await env.daemon.dispatch([job('a')]);
    await waitUntil(() => started, 'the job to start');
    await env.daemon.stop('a', 'user stop');
    await first.connection.close();
    const second = await env.worker();
    let ran = false;
    await second.consumeJobs({ pool: 'default', concurrency: 1 }, async () => {
      ran = true;
    });
    await waitUntil(() => reports.some((r) => r.kind === 'final'), "the trial's end", 10_000);
    expect(reports.find((r) => r.kind === 'final')).toMatchObject({ trialId: 'a', state: 'stopped', reason: 'user stop' });
    expect(ran).toBe(false);
    release(); // lets the dead worker's handler return, so its bus can close
  });

  it('keeps a job that runs longer than the ack wait with its worker, by heartbeats', async () => {
    // The hold lapses after a gap of 0.75 of the ack wait between confirmed heartbeats: 1.5 s here,
    // which a test process stalled on a busy machine stays within.
    env = await natsBuses({ ackWaitMs: 2_000, heartbeatMs: 200 });
    const runs: string[] = [];
    for (const name of ['w1', 'w2']) {
      const w = await env.worker();
      await w.consumeJobs({ pool: 'default', concurrency: 1 }, async () => {
        runs.push(name);
        await new Promise((r) => setTimeout(r, 5_000));
      });
    }
    await env.daemon.dispatch([job('long')]);
    await waitUntil(() => runs.length > 0, 'the job to start');
    await new Promise((r) => setTimeout(r, 5_500));
    expect(runs).toHaveLength(1);
  });

  /**
   * Worker a (behind a proxy) starts job t and is cut off past the ack wait, so the job goes to
   * worker b. a's handler waits for `comeBack()` (the proxy is resumed then), b's for `releaseB()`;
   * what each does then is the test's. `runs` holds each delivery as it started.
   */
  async function cutOffWhileRunning(
    afterComingBack: (bus: NatsBus, j: TrialJob, c: JobControl) => Promise<void>,
    whenReleased: (bus: NatsBus, j: TrialJob, c: JobControl) => Promise<void>,
  ) {
    // Long enough that worker b, never cut off, keeps its hold however slow the machine.
    env = await natsBuses({ ackWaitMs: 3_000, heartbeatMs: 200 });
    const reports: Report[] = [];
    await env.daemon.consumeReports(async (batch) => {
      reports.push(...batch);
    });
    const proxy = await pausableProxy(TEST_NATS_URL);
    proxies.push(proxy);
    const said: string[] = [];
    const runs: string[] = [];
    const aBack = deferred();
    const bReleased = deferred();
    const a = await env.worker({ servers: proxy.url, log: (m) => said.push(m) });
    await a.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, c) => {
      runs.push(`a:${c.attempt}`);
      if (c.attempt === 1) await aBack.promise;
      await afterComingBack(a, j, c);
    });
    await env.daemon.dispatch([job('t')]);
    await waitUntil(() => runs.length === 1, 'the first worker to start the job');
    proxy.pause();
    const b = await env.worker();
    await b.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, c) => {
      runs.push(`b:${c.attempt}`);
      await bReleased.promise;
      await whenReleased(b, j, c);
    });
    await waitUntil(() => runs.includes('b:2'), 'the job to reach the second worker after the ack wait', 10_000);
    const jsm = await jetstreamManager(env.daemon.connection);
    const daemon = env.daemon;
    return {
      reports,
      said,
      runs,
      comeBack: () => {
        proxy.resume();
        aBack.resolve();
      },
      releaseB: bReleased.resolve,
      jobsInStream: async () => (await jsm.streams.info(daemon.names.jobsStream)).state.messages,
      jobsGone: () => jobsGone(daemon),
    };
  }

  const finish = (state: 'completed' | 'stopped') => async (bus: NatsBus, j: TrialJob, c: JobControl) => {
    await bus.publishReport({ kind: 'final', studyId: j.studyId, trialId: j.trialId, state, attempt: c.attempt });
  };

  it('a worker cut off past the ack wait, whose job went to another, leaves the job to that one when it comes back: no third delivery', async () => {
    const t = await cutOffWhileRunning(finish('completed'), finish('completed'));
    // The first worker comes back and finishes its delivery while the second one runs.
    t.comeBack();
    await waitUntil(() => t.reports.some((r) => r.kind === 'final' && r.attempt === 1), "the first delivery's end");
    expect(t.reports.find((r) => r.kind === 'final' && r.attempt === 1)).toMatchObject({ leaseLapsed: true });
    // Logged once the end is confirmed stored, a moment after the daemon may have read it.
    await waitUntil(
      () => /trial t \(delivery 1\): no heartbeat of this worker reached NATS for \d+\.\d s.*left unacknowledged/.test(t.said.join('\n')),
      'the first worker to say it left the job',
    );
    // What the daemon does when an earlier delivery ends: it sends the job again (as the trial's
    // delivery 2 has begun, a new message), in case that later delivery died.
    await new Promise((r) => setTimeout(r, 1_500));
    await env?.daemon.dispatch([{ ...job('t'), priorAttempts: 2 }]);
    await new Promise((r) => setTimeout(r, 1_500));
    // The second delivery still holds the job: the copy was refused, and the free first worker got nothing.
    expect(t.runs).toEqual(['a:1', 'b:2']);
    t.releaseB();
    await waitUntil(() => t.reports.some((r) => r.kind === 'final' && r.attempt === 2), "the second delivery's end");
    expect(t.reports.find((r) => r.kind === 'final' && r.attempt === 2)).not.toHaveProperty('leaseLapsed');
    expect(await t.jobsGone()).toBe(true);
    expect(t.runs).toEqual(['a:1', 'b:2']);
  }, 30_000);

  it('an earlier delivery that runs on after coming back is stopped by a stop scoped to it: the later one runs on and keeps the job', async () => {
    const stopped: Record<string, string | undefined> = {};
    const t = await cutOffWhileRunning(
      async (a, j, c) => {
        // Trains on, an epoch every 100 ms, until told to stop (at most 5 s).
        for (let e = 1; e <= 50 && !c.signal.aborted; e++) {
          await a.publishReport(epochOf(j.trialId, e, c.attempt));
          await new Promise((r) => setTimeout(r, 100));
        }
        stopped.a = c.stopReason;
        await finish('stopped')(a, j, c);
      },
      async (b, j, c) => {
        stopped.b = c.stopReason;
        await finish('completed')(b, j, c);
      },
    );
    t.comeBack();
    // What the daemon does on an epoch of an earlier delivery: it stops that delivery only.
    await waitUntil(() => t.reports.some((r) => r.kind === 'epoch' && r.attempt === 1), "the earlier delivery's epoch");
    await env?.daemon.stop('t', 'a later delivery of its job (2) runs the trial', { upToAttempt: 1 });
    await waitUntil(() => t.reports.some((r) => r.kind === 'final' && r.attempt === 1), "the earlier delivery's end", 3_000);
    expect(stopped.a).toBe('a later delivery of its job (2) runs the trial');
    expect(t.reports.filter((r) => r.kind === 'epoch' && r.attempt === 1).length).toBeLessThan(20);
    await new Promise((r) => setTimeout(r, 3_500)); // past an ack wait: nothing delivered again
    // The stopped delivery left the job to the later one: not acknowledged from under it.
    expect(await t.jobsInStream()).toBe(1);
    t.releaseB();
    await waitUntil(() => t.reports.some((r) => r.kind === 'final' && r.attempt === 2), "the later delivery's end");
    expect(t.runs).toEqual(['a:1', 'b:2']);
    expect(stopped.b).toBeUndefined();
    expect(await t.jobsGone()).toBe(true);
  }, 30_000);

  it('refuses a re-dispatch of a running job long after the duplicate window: a daemon back from a long outage does not start it twice', async () => {
    // The message-id window is 200 ms here (2 minutes by default); what refuses the second copy is
    // the stream's one pending message per trial subject, however late the re-dispatch comes.
    env = await natsBuses({ duplicateWindowMs: 200, ackWaitMs: 2_000, heartbeatMs: 200 });
    const runs: string[] = [];
    let release!: () => void;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const name of ['w1', 'w2']) {
      const w = await env.worker();
      await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (j) => {
        runs.push(`${name}:${j.trialId}`);
        await hold;
      });
    }
    await env.daemon.dispatch([job('running')]);
    await waitUntil(() => runs.length > 0, 'the job to start');
    await new Promise((r) => setTimeout(r, 600));
    await env.daemon.dispatch([job('running'), job('fresh')]);
    // The free worker takes the next job in the stream: a queued copy of 'running' would come
    // before 'fresh' and hold that worker, and 'fresh' would never start.
    await waitUntil(() => runs.some((r) => r.endsWith(':fresh')), 'the new job to start');
    await new Promise((r) => setTimeout(r, 500));
    release();
    expect(runs.filter((r) => r.endsWith(':running'))).toHaveLength(1);
  });

  it('hands reports published while the daemon was down, and those it had not acknowledged, to the next daemon in order', async () => {
    // The crashed daemon is this process, alive: the next one knows it gone when its heartbeats stop.
    env = await natsBuses({ daemonHeartbeatMs: 200 });
    const worker = await env.worker();
    let held = 0;
    let crash!: () => void;
    const crashed = new Promise<void>((resolve) => {
      crash = resolve;
    });
    await env.daemon.consumeReports(async (batch) => {
      held += batch.length;
      await crashed; // the process dies before its acknowledgements reach the server
    });
    for (let e = 1; e <= 10; e++) await worker.publishReport(epoch('t1', e));
    await waitUntil(() => held > 0, 'the first daemon to receive reports');
    await env.daemon.connection.close();
    crash();
    for (let e = 11; e <= 20; e++) await worker.publishReport(epoch('t1', e));
    await worker.publishReport({ kind: 'final', studyId: 'st_suite', trialId: 't1', state: 'completed' });

    const restarted = await env.worker({ daemonHeartbeatMs: 200 });
    const reports: Report[] = [];
    const startedAt = Date.now();
    await restarted.consumeReports(async (batch) => {
      reports.push(...batch);
    });
    await waitUntil(() => reports.some((r) => r.kind === 'final'), 'the final report at the restarted daemon', 10_000);
    // Well before the 60 s ack wait: the unacknowledged reports were replayed, not waited out.
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(labels(reports, 't1')).toEqual([...Array.from({ length: 20 }, (_, i) => `epoch ${i + 1}`), 'final']);
  });

  it('survives a NATS server restart: jobs finish, reports arrive in order, a publish during the outage waits for the server', async () => {
    server = await startTestNatsServer();
    env = await natsBuses({ servers: server.url, ackWaitMs: 3_000, heartbeatMs: 500, publishTimeoutMs: 20_000 });
    const reports: Report[] = [];
    await env.daemon.consumeReports(async (batch) => {
      reports.push(...batch);
    });
    const worker = await env.worker();
    await worker.consumeJobs({ pool: 'default', concurrency: 2 }, async (j) => {
      await worker.publishReport({ kind: 'start', studyId: j.studyId, trialId: j.trialId, worker: 'w' });
      for (let e = 1; e <= 3; e++) {
        await new Promise((r) => setTimeout(r, 60));
        await worker.publishReport(epoch(j.trialId, e));
      }
      await worker.publishReport({ kind: 'final', studyId: j.studyId, trialId: j.trialId, state: 'completed' });
    });
    const ids = Array.from({ length: 8 }, (_, i) => `t${i}`);
    await env.daemon.dispatch(ids.map((id) => job(id)));
    await waitUntil(() => reports.some((r) => r.kind === 'epoch'), 'the first epoch report');

    await server.kill();
    const during = env.daemon.dispatch([job('during')]);
    await new Promise((r) => setTimeout(r, 1_000));
    await server.start();
    await during;

    const all = [...ids, 'during'];
    const finished = () => new Set(reports.filter((r) => r.kind === 'final').map((r) => r.trialId));
    await waitUntil(() => all.every((id) => finished().has(id)), 'every trial to finish after the restart', 30_000);
    for (const id of all) expect(labels(reports, id)).toEqual(['start', 'epoch 1', 'epoch 2', 'epoch 3', 'final']);
  });

  /**
   * One trial of `epochs` epochs, 500 ms each, on one worker, through a NATS outage of three ack
   * waits that starts once the daemon has its first epoch (long before its last, on a slow machine
   * too); resolves once its end has reached the daemon.
   */
  async function trialThroughOutage(epochs: number) {
    const { nats, buses, reports } = await daemonReadingReports(60_000);
    const runs: number[] = [];
    const said: string[] = [];
    const worker = await buses.worker({ log: (m) => said.push(m) });
    await worker.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, c) => {
      runs.push(c.attempt);
      for (let e = 1; e <= epochs; e++) {
        await new Promise((r) => setTimeout(r, 500));
        c.heartbeat();
        await worker.publishReport(epoch(j.trialId, e));
      }
      await worker.publishReport({ kind: 'final', studyId: j.studyId, trialId: j.trialId, state: 'completed' });
    });
    await buses.daemon.dispatch([job('a')]);
    await waitUntil(() => reports.length > 0, 'the first epoch report');
    await nats.kill();
    await new Promise((r) => setTimeout(r, 3_000)); // three ack waits
    await nats.start();
    await waitUntil(() => reports.some((r) => r.kind === 'final'), "the trial's end", 30_000);
    return { daemon: buses.daemon, reports, runs, said };
  }

  it('a trial rides out a NATS restart longer than the ack wait: one run, its reports in order, none lost', async () => {
    const { daemon, reports, runs } = await trialThroughOutage(8);
    // Unheard for three ack waits, the worker cannot tell whether its job went elsewhere: it leaves
    // the job unacknowledged and says so, and the daemon, whose trial this end finishes, stops it.
    const end = reports.find((r) => r.kind === 'final');
    expect(end).toMatchObject({ state: 'completed', leaseLapsed: true });
    await daemon.stop('a', 'the trial ended on an earlier delivery of its job');
    // The job's next delivery meets that stop (or the end sent on this worker) and is acknowledged without running.
    expect(await jobsGone(daemon)).toBe(true);
    expect(runs).toEqual([1]);
    expect(labels(reports, 'a')).toEqual([...Array.from({ length: 8 }, (_, i) => `epoch ${i + 1}`), 'final']);
  }, 40_000);

  it('a job left by a delivery that ended on this worker, delivered back to it, is acknowledged without running, stop or no stop', async () => {
    // The daemon here never stops the job: a real one may read the end only after the ack wait.
    const { daemon, reports, runs, said } = await trialThroughOutage(8);
    expect(reports.find((r) => r.kind === 'final')).toMatchObject({ leaseLapsed: true });
    // Its next delivery comes back to this worker after an ack wait, and finds the end sent here.
    expect(await jobsGone(daemon)).toBe(true);
    expect(runs).toEqual([1]);
    expect(said.join('\n')).toMatch(/trial a: delivered again to this worker, which ended it as delivery 1; acknowledged without running/);
  }, 40_000);

  it('a delivery made again while this worker runs it (NATS forgot it) is left to the run under way: one run, one end, the job acknowledged', async () => {
    env = await natsBuses({ ackWaitMs: 1_000, heartbeatMs: 250 });
    const said: string[] = [];
    const worker = await env.worker({ log: (m) => said.push(m) });
    const runs: number[] = [];
    const release = deferred();
    await worker.consumeJobs({ pool: 'default', concurrency: 2 }, async (j, c) => {
      runs.push(c.attempt);
      await release.promise;
      await worker.publishReport({ kind: 'final', studyId: j.studyId, trialId: j.trialId, state: 'completed', attempt: c.attempt });
    });
    await env.daemon.dispatch([job('a')]);
    await waitUntil(() => runs.length === 1, 'the job to start');
    // What a crashed server that wrote its consumer state behind comes back with: the consumer as it
    // was before the delivery, which it then makes again, as delivery 1, to the worker's free slot.
    const jsm = await jetstreamManager(env.daemon.connection);
    const { jobsStream } = env.daemon.names;
    const durable = env.daemon.names.jobsConsumer('default');
    const { config } = await jsm.consumers.info(jobsStream, durable);
    await jsm.consumers.delete(jobsStream, durable);
    await jsm.consumers.add(jobsStream, config);
    try {
      await waitUntil(() => runs.length > 1 || said.some((m) => m.includes('made again')), 'the delivery made again', 10_000);
      // Held past a few ack waits by the run's heartbeats: not delivered once more.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(runs).toEqual([1]);
    } finally {
      release.resolve();
    }
    expect(await jobsGone(env.daemon)).toBe(true);
    expect(runs).toEqual([1]);
    expect(said.join('\n')).toMatch(
      /trial a: delivery 1 made again while this worker runs it \(NATS forgot it made it\); left to the run under way/,
    );
  }, 30_000);

  it('a trial that ends during a NATS outage longer than the ack wait says its job was left, whenever the lapse shows', async () => {
    const { nats, buses, reports } = await daemonReadingReports(60_000);
    const runs: number[] = [];
    let started = false;
    const worker = await buses.worker();
    await worker.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, c) => {
      runs.push(c.attempt);
      started = true;
      // The end is sent 1.5 s into a 3 s outage: the hold looked fine a moment before.
      await new Promise((r) => setTimeout(r, 1_700));
      await worker.publishReport({ kind: 'final', studyId: j.studyId, trialId: j.trialId, state: 'completed', attempt: c.attempt });
    });
    await buses.daemon.dispatch([job('a')]);
    await waitUntil(() => started, 'the job to start');
    await new Promise((r) => setTimeout(r, 200));
    await nats.kill();
    await new Promise((r) => setTimeout(r, 3_000));
    await nats.start();
    await waitUntil(() => reports.some((r) => r.kind === 'final' && r.leaseLapsed), 'an end saying the job was left', 30_000);
    // What the engine does with it: the trial has ended, so its job's next delivery is stopped.
    await buses.daemon.stop('a', 'the trial ended on an earlier delivery of its job');
    expect(await jobsGone(buses.daemon)).toBe(true);
    expect(runs).toEqual([1]);
  }, 40_000);

  it('a worker recovers by itself when NATS comes back without its storage: it creates the streams and its consumer again', async () => {
    server = await startTestNatsServer();
    env = await natsBuses({ servers: server.url, ackWaitMs: 1_000, heartbeatMs: 250, publishTimeoutMs: 20_000 });
    const seen: string[] = [];
    const worker = await env.worker();
    await worker.consumeJobs({ pool: 'default', concurrency: 1 }, async (j) => {
      seen.push(j.trialId);
    });
    await env.daemon.dispatch([job('before')]);
    await waitUntil(() => seen.includes('before'), 'the job before the loss');
    await restartWithoutStorage(server);
    // What a restarted daemon does: its streams, then the jobs of its unfinished trials.
    const daemon = await env.worker();
    await daemon.dispatch([job('after')]);
    await waitUntil(() => seen.includes('after'), 'the job after the loss, on the same worker', 20_000);
  }, 40_000);

  /** A NATS server of the test's own, and a daemon reading its reports that counts the times it is told the jobs were lost. */
  async function daemonReadingReports(publishTimeoutMs = 20_000): Promise<{
    nats: TestNatsServer;
    buses: NatsBusesUnderTest;
    reports: Report[];
    lost: () => number;
  }> {
    const nats = await startTestNatsServer();
    server = nats;
    const buses = await natsBuses({ servers: nats.url, ackWaitMs: 1_000, heartbeatMs: 250, publishTimeoutMs });
    env = buses;
    const reports: Report[] = [];
    let lost = 0;
    await buses.daemon.consumeReports(
      async (batch) => {
        reports.push(...batch);
      },
      { onJobsLost: () => lost++ },
    );
    return { nats, buses, reports, lost: () => lost };
  }

  it('the daemon learns when NATS comes back without its storage, and reads the reports sent after it', async () => {
    const { nats, buses, reports, lost } = await daemonReadingReports();
    const worker = await buses.worker();
    await worker.publishReport(epoch('before', 1));
    await waitUntil(() => reports.length === 1, 'the report before the loss');
    await restartWithoutStorage(nats);
    await waitUntil(() => lost() === 1, 'the daemon told that the jobs were lost', 20_000);
    // The new reports stream numbers from 1 again: the report there is not taken for the one before.
    await worker.publishReport(epoch('after', 1));
    await waitUntil(() => reports.some((r) => r.trialId === 'after'), 'the report after the loss', 20_000);
    expect(lost()).toBe(1);
  }, 40_000);

  it('a job whose acknowledgement meets a server that came back without its storage frees its slot at once', async () => {
    // An ack wait the outage stays well within: the hold on the job does not lapse, so the job is acknowledged.
    server = await startTestNatsServer();
    env = await natsBuses({ servers: server.url, ackWaitMs: 10_000, heartbeatMs: 250, publishTimeoutMs: 30_000 });
    const seen: string[] = [];
    const said: string[] = [];
    const finish = deferred();
    const worker = await env.worker({ log: (m) => said.push(m) });
    await worker.consumeJobs({ pool: 'default', concurrency: 1 }, async (j) => {
      seen.push(j.trialId);
      if (j.trialId === 'before') await finish.promise;
    });
    await env.daemon.dispatch([job('before')]);
    await waitUntil(() => seen.includes('before'), 'the job before the loss');
    await restartWithoutStorage(server);
    finish.resolve();
    // What a restarted daemon does: its streams, then the jobs of its unfinished trials.
    await (await env.worker()).dispatch([job('after')]);
    // Retried until publishTimeoutMs (30 s), the ack held the worker's only slot.
    await waitUntil(() => seen.includes('after'), 'the job after the loss, on the same worker', 10_000);
    expect(said.join('\n')).toMatch(/not acknowledged, as NATS came back without its storage/);
  }, 40_000);

  it("a job's acknowledgement after a storage loss leaves the job another worker took from the pool made again, at the same sequence", async () => {
    server = await startTestNatsServer();
    env = await natsBuses({ servers: server.url, ackWaitMs: 10_000, heartbeatMs: 250, publishTimeoutMs: 30_000 });
    const seen: string[] = [];
    const finishW = deferred();
    const finishX = deferred();
    const w = await env.worker();
    await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (j) => {
      seen.push(`w:${j.trialId}`);
      await finishW.promise;
    });
    await env.daemon.dispatch([job('before')]);
    await waitUntil(() => seen.includes('w:before'), 'the job before the loss');
    await restartWithoutStorage(server);
    // Another worker joins (making the streams and the pool's consumer again), and a restarted
    // daemon's job, the first of the new stream, goes to it.
    const x = await env.worker();
    await x.consumeJobs({ pool: 'default', concurrency: 1 }, async (j) => {
      seen.push(`x:${j.trialId}`);
      await finishX.promise;
    });
    await (await env.worker()).dispatch([job('after')]);
    await waitUntil(() => seen.includes('x:after'), 'the job after the loss, on the other worker');
    // The first worker ends its job from before the loss: its ack (of sequence 1) would remove 'after'.
    finishW.resolve();
    await new Promise((r) => setTimeout(r, 1_000));
    const jsm = await jetstreamManager(env.daemon.connection);
    expect((await jsm.streams.info(env.daemon.names.jobsStream)).state.messages).toBe(1);
    finishX.resolve();
    expect(await jobsGone(env.daemon)).toBe(true);
  }, 40_000);

  it('a job of the stream made again after a storage loss, at the sequence of one that ended on this worker, runs when it comes here', async () => {
    server = await startTestNatsServer();
    env = await natsBuses({ servers: server.url, ackWaitMs: 1_000, heartbeatMs: 250, publishTimeoutMs: 30_000 });
    const runs: string[] = [];
    const endA = deferred();
    const w = await env.worker();
    await w.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, c) => {
      runs.push(`w:${j.trialId}#${c.attempt}`);
      if (j.trialId !== 'a') return;
      await endA.promise;
      await w.publishReport({ kind: 'final', studyId: j.studyId, trialId: 'a', state: 'completed', attempt: c.attempt });
    });
    await env.daemon.dispatch([job('a')]);
    await waitUntil(() => runs.includes('w:a#1'), "the first worker to start 'a'");
    // Its hold lapses in an outage that loses the storage ('a' with it).
    await restartWithoutStorage(server, 1_500);
    // Another worker takes 'b', the first job of the stream made again (sequence 1, as 'a' was), and dies.
    const x = await env.worker();
    await x.consumeJobs({ pool: 'default', concurrency: 1 }, async (j, c) => {
      runs.push(`x:${j.trialId}#${c.attempt}`);
      await untilAborted(c);
    });
    await (await env.worker()).dispatch([job('b')]);
    await waitUntil(() => runs.includes('x:b#1'), "the other worker to take 'b'");
    endA.resolve(); // 'a' ends on the first worker, its job left unacknowledged
    await x.connection.close();
    // After the ack wait 'b' comes to the first worker as its delivery 2, and runs there.
    await waitUntil(() => runs.includes('w:b#2'), "'b' to run on the first worker", 15_000);
  }, 40_000);

  it('a batch of reports whose acknowledgement meets a server that came back without its storage holds up no later report', async () => {
    const nats = await startTestNatsServer();
    server = nats;
    const said: string[] = [];
    env = await natsBuses({ servers: nats.url, ackWaitMs: 1_000, heartbeatMs: 250, publishTimeoutMs: 30_000, log: (m) => said.push(m) });
    const reports: Report[] = [];
    const entered = deferred();
    const handled = deferred();
    await env.daemon.consumeReports(async (batch) => {
      if (batch.some((r) => r.trialId === 'before')) {
        entered.resolve();
        await handled.promise;
      }
      reports.push(...batch);
    });
    const worker = await env.worker();
    await worker.publishReport(epoch('before', 1));
    await entered.promise; // the daemon holds it: the loss takes only its acknowledgement
    await restartWithoutStorage(nats);
    handled.resolve();
    await waitUntil(() => reports.length === 1, 'the report before the loss');
    await worker.publishReport(epoch('after', 1));
    // Retried until publishTimeoutMs (30 s), the ack held up the daemon's reading of every report.
    await waitUntil(() => reports.some((r) => r.trialId === 'after'), 'the report after the loss', 10_000);
    expect(said.join('\n')).toMatch(/1 report\(s\) handled, not acknowledged: NATS came back without its storage, which held them/);
  }, 40_000);

  it('a plain reconnect, with the storage kept, loses no jobs and says so to no one', async () => {
    const { nats, buses, reports, lost } = await daemonReadingReports();
    await nats.kill();
    await nats.start();
    const worker = await buses.worker();
    await worker.publishReport(epoch('after', 1));
    await waitUntil(() => reports.length === 1, 'the report after the reconnect', 20_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(lost()).toBe(0);
  }, 40_000);

  it('keeps pools apart whatever their names, and refuses an empty pool before sending any of the batch', async () => {
    env = await natsBuses();
    const seen: string[] = [];
    for (const pool of ['gpu', 'gpu.a100', 'gpu a100']) {
      await (await env.worker()).consumeJobs({ pool, concurrency: 1 }, async (j) => {
        seen.push(`${pool}:${j.trialId}`);
      });
    }
    await env.daemon.dispatch([job('x', 'gpu.a100'), job('y', 'gpu'), job('z', 'gpu a100')]);
    await waitUntil(() => seen.length >= 3, 'three jobs handled');
    expect(seen.sort()).toEqual(['gpu a100:z', 'gpu.a100:x', 'gpu:y']);
    await expect(env.daemon.dispatch([job('ok'), job('bad', '')])).rejects.toThrow(/job 1 \(trial bad\).*pool must be a non-empty string/);
    const jsm = await jetstreamManager(env.daemon.connection);
    expect(
      await jsm.streams.getMessage(env.daemon.names.jobsStream, { last_by_subj: env.daemon.names.jobSubject('default', 'ok') }),
    ).toBeNull();
  });

  it('connects to a server that requires a token only with that token', async () => {
    server = await startTestNatsServer({ args: ['--auth', 'sesame'] });
    await expect(connectNatsBus({ servers: server.url, token: 'wrong' })).rejects.toThrow(/cannot connect to NATS at .*[Aa]uthorization/);
    env = await natsBuses({ servers: server.url, token: 'sesame' });
    const seen: string[] = [];
    await (await env.worker()).consumeJobs({ pool: 'default', concurrency: 1 }, async (j) => {
      seen.push(j.trialId);
    });
    await env.daemon.dispatch([job('a')]);
    await waitUntil(() => seen.length === 1, 'the job over the authenticated connection');
  });

  it('fails to connect with a message naming the address', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const address = s.address();
        s.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
      });
    });
    await expect(connectNatsBus({ servers: `nats://127.0.0.1:${port}` })).rejects.toThrow(
      `cannot connect to NATS at nats://127.0.0.1:${port}`,
    );
  });
});
