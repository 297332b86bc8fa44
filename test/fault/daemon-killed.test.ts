import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteStreams } from '../../packages/core/src/bus/nats/test-env.ts';
import {
  type DaemonProcess,
  parseJsonLines,
  startDaemonProcess,
  startWorkerProcess,
  type WorkerProcess,
} from '../support/daemon-process.ts';
import { createTempDatabase } from '../support/postgres-db.ts';
import {
  epochCount,
  MEDIAN,
  expectStudyAccountedFor,
  openSql,
  repeatedStarts,
  SHARED_NATS_URL,
  type Sql,
  type StudyShape,
  studySpec,
  submitStudy,
  tails,
  trialStarts,
  uniqueNatsPrefix,
  waitForStudyEnd,
  waitUntilUnderWay,
} from './harness.ts';

// The daemon dies (SIGKILL) mid-study while the workers keep training; their reports wait in the
// JetStream reports stream. A new daemon on the same database resumes the study: it re-dispatches
// the unfinished trials (JetStream drops the copies of jobs already taken), ingests the waiting
// reports, and finishes the study without repeating or losing a trial.
const shape: StudyShape = {
  name: 'fault-daemon-killed',
  trials: 10,
  epochs: 8,
  parallelism: 6, // more than the workers' 4 slots: some jobs wait in the queue when the daemon dies
  epochDelayMs: 250,
  seed: 8,
  stopping: MEDIAN,
};
const DOWNTIME_MS = 3_500;
const prefix = uniqueNatsPrefix('fdk');
const env = { SWEEPD_NATS_PREFIX: prefix };

let db: Awaited<ReturnType<typeof createTempDatabase>>;
let sql: Sql;
const daemons: DaemonProcess[] = [];
const workers: WorkerProcess[] = [];

const startDaemon = async (dataDir?: string) => {
  const d = await startDaemonProcess({ args: ['--database-url', db.url, '--nats-url', SHARED_NATS_URL], env, dataDir });
  daemons.push(d);
  return d;
};

beforeAll(async () => {
  db = await createTempDatabase('sweepd_fault');
  sql = openSql(db.url);
  await startDaemon();
  for (let i = 0; i < 2; i++) workers.push(await startWorkerProcess({ nats: SHARED_NATS_URL, concurrency: 2, env }));
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.stop()));
  for (const d of daemons) await d.stop();
  await sql?.end();
  await db?.drop();
  await deleteStreams(SHARED_NATS_URL, prefix);
});

describe('fault: the daemon is killed mid-study and restarted on the same database', () => {
  it('resumes the study: reports sent meanwhile are ingested, no trial repeated or lost', async () => {
    const first = daemons[0];
    if (!first) throw new Error('daemon did not start');
    const context = () =>
      tails({
        ...Object.fromEntries(daemons.map((d, i) => [`daemon ${i}`, d.logs()])),
        ...Object.fromEntries(workers.map((w) => [w.name, w.logs()])),
      });
    const studyId = await submitStudy(first.url, studySpec(shape));

    // Mid-study: some trials finished, others running with epochs still to come.
    await waitUntilUnderWay(sql, studyId, context);
    await first.stop('SIGKILL');
    const killedAt = Date.now();
    const storedAtKill = await epochCount(sql, studyId);

    // Nobody writes while the daemon is away, but the workers train on and report into NATS.
    await new Promise((r) => setTimeout(r, DOWNTIME_MS));
    expect(await epochCount(sql, studyId)).toBe(storedAtKill);
    const endedWhileAway = workers
      .flatMap((w) => parseJsonLines(w.logs()))
      .filter((e) => e.msg === 'trial ended' && Date.parse(String(e.time)) > killedAt);
    expect(endedWhileAway.length, `trials that ended while the daemon was away\n${context()}`).toBeGreaterThan(0);

    const second = await startDaemon(first.dataDir);
    expect(await waitForStudyEnd(sql, studyId, 75_000, context)).toBe('completed');
    await expectStudyAccountedFor(sql, second.url, studyId, shape, context);

    // The trials that ended while the daemon was away were not run again: each trial started once, on its first delivery.
    const starts = trialStarts(workers);
    expect(repeatedStarts(starts), context()).toEqual({});
    expect(starts).toHaveLength(shape.trials);
    expect(starts.every((s) => s.attempt === 1)).toBe(true);
    expect(second.logs()).toMatch(/study resumed/);
  }, 120_000);
});
