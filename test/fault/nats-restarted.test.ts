import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, startDaemonProcess, startWorkerProcess, type WorkerProcess } from '../support/daemon-process.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { createTempDatabase } from '../support/postgres-db.ts';
import {
  epochCount,
  MEDIAN,
  eventually,
  expectStudyAccountedFor,
  openSql,
  repeatedStarts,
  type Sql,
  type StudyShape,
  studySpec,
  submitStudy,
  tails,
  trialStarts,
  waitForStudyEnd,
  waitUntilUnderWay,
} from './harness.ts';

// The NATS server goes away mid-study and comes back a couple of seconds later on the same port
// with the same JetStream store directory. Daemon and workers reconnect by themselves; publishes
// made during the outage are retried, the jobs and reports in the file store are still there, and
// the study finishes with every trial and epoch once.
//
// Two ways to go away:
// - a graceful stop (SIGTERM: a deploy or upgrade): nothing is repeated and both work queues end empty;
// - a crash (SIGKILL). nats-server 2.9 writes consumer and deletion state behind, so a crash can
//   forget that a job delivered before it was delivered (it goes out again, as a first delivery,
//   while its first worker still runs it; ~30 ms before the crash on an idle machine, 3.9 s on a
//   loaded one) and can bring back a message acknowledged just before it (measured: an acknowledged
//   job reappears in the work queue after a SIGKILL even 1.5 s later, never to be delivered again).
//   The study must still come out right: a trial may run twice only if its first run was handed
//   out, or ended, in the moments before the crash (its acknowledgement, sent as it ended, may be
//   forgotten as a delivery is: one ended 14 ms before a crash ran again), and its rows are stored once.
const shape: StudyShape = {
  name: 'fault-nats-restarted',
  trials: 10,
  epochs: 8,
  parallelism: 4,
  epochDelayMs: 250,
  seed: 8,
  stopping: MEDIAN,
};
const OUTAGE_MS = 2_500;
/** How long before a crash the server may forget what it was told (a delivery, an acknowledgement). */
const CRASH_FORGETS_MS = 5_000;

interface Setup {
  nats: TestNatsServer;
  sql: Sql;
  daemon: DaemonProcess;
  workers: WorkerProcess[];
  context(): string;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function setUp(): Promise<Setup> {
  const nats = await startTestNatsServer();
  cleanups.push(() => nats.stop());
  const db = await createTempDatabase('sweepd_fault');
  cleanups.push(() => db.drop());
  const sql = openSql(db.url);
  cleanups.push(() => sql.end());
  const daemon = await startDaemonProcess({ args: ['--database-url', db.url, '--nats-url', nats.url] });
  cleanups.push(async () => void (await daemon.stop()));
  const workers: WorkerProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const w = await startWorkerProcess({ nats: nats.url, concurrency: 2 });
    workers.push(w);
    cleanups.push(async () => void (await w.stop()));
  }
  const context = () => tails({ daemon: daemon.logs(), ...Object.fromEntries(workers.map((w) => [w.name, w.logs()])) });
  return { nats, sql, daemon, workers, context };
}

/** Runs the study, takes the server away mid-study with `signal`, brings it back; returns when the study has ended and been checked. */
async function runThroughOutage(s: Setup, signal: NodeJS.Signals): Promise<{ studyId: string; killedAt: number; gone: number }> {
  const { sql, daemon, context } = s;
  const studyId = await submitStudy(daemon.url, studySpec(shape));
  await waitUntilUnderWay(sql, studyId, context);
  const killedAt = Date.now();
  await s.nats.kill(signal);
  const gone = Date.now();
  const storedAtKill = await epochCount(sql, studyId);
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  await s.nats.start();

  // Progress resumes after the restart (epochs reported during the outage were retried, not dropped).
  await eventually(
    async () => ((await epochCount(sql, studyId)) > storedAtKill ? true : undefined),
    30_000,
    `progress after the restart\n${context()}`,
  );
  expect(await waitForStudyEnd(sql, studyId, 75_000, context)).toBe('completed');
  await expectStudyAccountedFor(sql, daemon.url, studyId, shape, context);
  // Everyone saw the outage and reconnected.
  expect(daemon.logs()).toMatch(/NATS reconnected/);
  for (const w of s.workers) expect(w.logs()).toMatch(/NATS reconnected/);
  return { studyId, killedAt, gone };
}

async function queuedMessages(url: string): Promise<{ jobs: number; reports: number }> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    return {
      jobs: (await jsm.streams.info('SWEEPD_JOBS')).state.messages,
      reports: (await jsm.streams.info('SWEEPD_REPORTS')).state.messages,
    };
  } finally {
    await nc.close();
  }
}

describe('fault: the NATS server is restarted mid-study', () => {
  it('graceful restart: the study finishes, no trial repeated, both work queues end empty', async () => {
    const s = await setUp();
    await runThroughOutage(s, 'SIGTERM');
    const starts = trialStarts(s.workers);
    expect(repeatedStarts(starts), s.context()).toEqual({});
    expect(starts).toHaveLength(shape.trials);
    // Every job acknowledged and every report ingested (the last acknowledgements may trail the study's end by a moment).
    await eventually(
      async () => {
        const q = await queuedMessages(s.nats.url);
        return q.jobs === 0 && q.reports === 0 ? q : undefined;
      },
      10_000,
      `empty work queues (now ${JSON.stringify(await queuedMessages(s.nats.url))})`,
    );
  }, 120_000);

  it('crash (SIGKILL): the study finishes; only a trial handed out or ended just before the crash may run twice', async () => {
    const s = await setUp();
    const { killedAt, gone } = await runThroughOutage(s, 'SIGKILL');
    const starts = trialStarts(s.workers);
    // Per trial: its first start and its first end.
    const firstRun = new Map<string, { started: number; ended: number }>();
    for (const w of s.workers) {
      for (const e of w.logEntries()) {
        const id = String(e.trialId);
        const at = Date.parse(String(e.time));
        const run = firstRun.get(id) ?? { started: Number.POSITIVE_INFINITY, ended: Number.POSITIVE_INFINITY };
        if (e.msg === 'trial started') run.started = Math.min(run.started, at);
        else if (e.msg === 'trial ended') run.ended = Math.min(run.ended, at);
        else continue;
        firstRun.set(id, run);
      }
    }
    for (const [trialId, list] of Object.entries(repeatedStarts(starts))) {
      expect(list, `trial ${trialId} ran ${list.length} times\n${s.context()}`).toHaveLength(2);
      const run = firstRun.get(trialId);
      const lately = (at: number) => at > killedAt - CRASH_FORGETS_MS && at <= gone;
      expect(
        run && run.started <= gone && (lately(run.started) || lately(run.ended)),
        `trial ${trialId} ran again, its first run neither handed out nor ended in the moments before the crash (${JSON.stringify(run)}, server killed from ${killedAt} to ${gone})`,
      ).toBe(true);
    }
    expect(new Set(starts.map((x) => x.trialId)).size).toBe(shape.trials);
  }, 120_000);
});
