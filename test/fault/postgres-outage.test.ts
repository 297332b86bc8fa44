import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteStreams } from '../../packages/core/src/bus/nats/test-env.ts';
import { PostgresStore } from '../../packages/core/src/store/postgres.ts';
import { type DaemonProcess, startDaemonProcess, startWorkerProcess, type WorkerProcess } from '../support/daemon-process.ts';
import { startTestPgCluster, type TestPgCluster } from '../support/pg-cluster.ts';
import {
  epochCount,
  eventually,
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

// PostgreSQL goes away for a few seconds while the workers keep reporting (the daemon's own test
// cluster, stopped with pg_ctl stop -m fast, which cuts every connection). The daemon's report
// handler fails, so report batches stay unacknowledged in JetStream and are handed over again;
// once the server is back they are stored, and the study finishes as if nothing happened.
const shape: StudyShape = {
  name: 'fault-postgres-outage',
  trials: 10,
  epochs: 8,
  parallelism: 4,
  epochDelayMs: 250,
  seed: 17,
  stopping: MEDIAN,
};
const OUTAGE_MS = 4_000;
const prefix = uniqueNatsPrefix('fpg');
const env = { SWEEPD_NATS_PREFIX: prefix };

let pg: TestPgCluster | undefined;
let sql: Sql;
let dbUrl: string;
let daemon: DaemonProcess | undefined;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  pg = await startTestPgCluster();
  dbUrl = await pg.createDatabase('sweepd_outage');
  sql = openSql(dbUrl);
  daemon = await startDaemonProcess({ args: ['--database-url', dbUrl, '--nats-url', SHARED_NATS_URL], env });
  for (let i = 0; i < 2; i++) workers.push(await startWorkerProcess({ nats: SHARED_NATS_URL, concurrency: 2, env }));
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.stop()));
  await daemon?.stop();
  await sql?.end({ timeout: 1 });
  await pg?.kill();
  await deleteStreams(SHARED_NATS_URL, prefix);
});

describe('fault: PostgreSQL is unreachable for a few seconds while reports arrive', () => {
  it('stores every report once the server is back; the study finishes with every trial and epoch once', async () => {
    if (!daemon || !pg) throw new Error('setup failed');
    const d = daemon;
    const cluster = pg;
    const context = () => tails({ daemon: d.logs(), ...Object.fromEntries(workers.map((w) => [w.name, w.logs()])) });
    const studyId = await submitStudy(d.url, studySpec(shape));

    await waitUntilUnderWay(sql, studyId, context);
    const storedBefore = await epochCount(sql, studyId);
    await cluster.stop('fast');
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    // The workers kept training and reporting meanwhile.
    const reportedMeanwhile = workers
      .flatMap((w) => w.logEntries())
      .filter((e) => (e.msg === 'trial ended' || e.msg === 'trial started') && Date.parse(String(e.time)) > stoppedAt);
    expect(reportedMeanwhile.length, `worker activity during the outage\n${context()}`).toBeGreaterThan(0);
    await cluster.start();

    expect(await waitForStudyEnd(sql, studyId, 75_000, context)).toBe('completed');
    expect(await epochCount(sql, studyId)).toBeGreaterThan(storedBefore);
    await expectStudyAccountedFor(sql, d.url, studyId, shape, context);

    // The daemon did meet the outage (its report handler failed and the batch came again) and got over it.
    expect(d.logs(), context()).toMatch(/report handler rejected \d+ report\(s\) \(1 time\(s\) in a row\); delivering them again/);
    // Workers never noticed: each trial ran once.
    const starts = trialStarts(workers);
    expect(repeatedStarts(starts), context()).toEqual({});
    expect(starts).toHaveLength(shape.trials);

    // The daemon's hold on the database went with its connection and was taken again (within 5 s
    // of the server being back, which may come after a short study has ended): a second daemon on
    // the same database is still refused.
    await eventually(
      async () => (/went with its connection and is taken again/.test(d.logs()) ? true : undefined),
      15_000,
      `the hold on the database taken again\n${context()}`,
    );
    await expect(PostgresStore.open(dbUrl, { exclusive: true })).rejects.toThrow(/another sweepd daemon is using/);
  }, 120_000);
});
