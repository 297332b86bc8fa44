import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteStreams } from '../../packages/core/src/bus/nats/test-env.ts';
import { type DaemonProcess, startDaemonProcess, startWorkerProcess, type WorkerProcess } from '../support/daemon-process.ts';
import { createTempDatabase } from '../support/postgres-db.ts';
import { type CommitCutter, startCommitCutter } from './commit-cutter.ts';
import {
  expectStudyAccountedFor,
  openSql,
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

// The connection to PostgreSQL breaks right after the daemon sent the COMMIT that creates new
// trials: the server stored them, the daemon got an error. The daemon must not lose those trials
// (left 'queued' forever, never dispatched) nor create more than the budget: the study ends with
// trials 0..max_trials-1, each run once.
const shape: StudyShape = { name: 'fault-commit-lost', trials: 10, epochs: 6, parallelism: 3, epochDelayMs: 200, seed: 23 };
const prefix = uniqueNatsPrefix('fcl');
const env = { SWEEPD_NATS_PREFIX: prefix };

let db: Awaited<ReturnType<typeof createTempDatabase>>;
let sql: Sql;
let cutter: CommitCutter | undefined;
let daemon: DaemonProcess | undefined;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTempDatabase('sweepd_fault');
  sql = openSql(db.url);
  const direct = new URL(db.url);
  cutter = await startCommitCutter({ host: direct.hostname, port: Number(direct.port || 5432) });
  const viaCutter = new URL(db.url);
  viaCutter.port = String(cutter.port);
  daemon = await startDaemonProcess({ args: ['--database-url', viaCutter.toString(), '--nats-url', SHARED_NATS_URL], env });
  for (let i = 0; i < 2; i++) workers.push(await startWorkerProcess({ nats: SHARED_NATS_URL, concurrency: 2, env }));
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.stop()));
  await daemon?.stop();
  await cutter?.close();
  await sql?.end();
  await db?.drop();
  await deleteStreams(SHARED_NATS_URL, prefix);
});

describe('fault: the answer to the COMMIT that creates trials is lost', () => {
  it('neither loses the stored trials nor exceeds the budget', async () => {
    if (!daemon || !cutter) throw new Error('setup failed');
    const d = daemon;
    const context = () => tails({ daemon: d.logs(), ...Object.fromEntries(workers.map((w) => [w.name, w.logs()])) });
    const studyId = await submitStudy(d.url, studySpec(shape));
    await waitUntilUnderWay(sql, studyId, context);

    // The next trials the daemon creates are stored, but it never hears so.
    // The insert of createTrials carries its rows as one JSON parameter, each with "state":"queued".
    const cut = cutter.arm(/"state":"queued"/);
    await Promise.race([
      cut,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no trial creation to cut within 30 s\n${context()}`)), 30_000)),
    ]);

    expect(await waitForStudyEnd(sql, studyId, 75_000, context)).toBe('completed');
    await expectStudyAccountedFor(sql, d.url, studyId, shape, context);
    // The daemon found the trials stored behind its back and ran them instead of drawing others.
    expect(d.logs()).toMatch(/adopted a trial stored by a creation whose reply was lost/);
    const starts = trialStarts(workers);
    expect(starts).toHaveLength(shape.trials);
  }, 120_000);
});
