import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import {
  eventually,
  expectStudyAccountedFor,
  SHARED_NATS_URL,
  type StudyShape,
  studySpec,
  submitStudy,
  tails,
  trialRows,
  trialStarts,
  useDistributedCluster,
  waitForStudyEnd,
} from '../fault/harness.ts';

// The distributed deployment end to end: `sweepd up` on PostgreSQL (a temp database) and the shared
// NATS (its own prefix) with no local workers, two `sweepd worker` processes; trials go out over
// NATS JetStream, results land in PostgreSQL.
const shape: StudyShape = { name: 'distributed-e2e', trials: 8, epochs: 5, parallelism: 4, epochDelayMs: 100, seed: 21 };
const cluster = useDistributedCluster({ label: 'e2e' });

describe('distributed: daemon on PostgreSQL, trials over NATS to two worker processes', () => {
  it('runs a study to the end with every trial and epoch in PostgreSQL, and both workers took trials', async () => {
    if (!cluster.daemon) throw new Error('daemon did not start');
    const d = cluster.daemon;
    const { sql, workers } = cluster;
    expect(d.logs()).toMatch(/"store":"postgres"/);
    expect(d.logs()).toMatch(/"bus":"nats"/);
    const context = () => tails({ daemon: d.logs(), ...Object.fromEntries(workers.map((w) => [w.name, w.logs()])) });

    const studyId = await submitStudy(d.url, studySpec(shape));
    expect(await waitForStudyEnd(sql, studyId, 60_000, context)).toBe('completed');
    await expectStudyAccountedFor(sql, d.url, studyId, shape, context);

    // Both worker processes trained, and the store says who ran each trial.
    const trials = await trialRows(sql, studyId);
    const names = new Set(workers.map((w) => w.name));
    for (const t of trials) expect(names.has(t.worker ?? ''), `trial ${t.number} ran on ${t.worker}`).toBe(true);
    for (const w of workers)
      expect(
        trials.some((t) => t.worker === w.name),
        `${w.name} took no trial\n${context()}`,
      ).toBe(true);
    // Nothing failed over, so every trial was started exactly once, on its first delivery.
    const starts = trialStarts(workers);
    expect(starts).toHaveLength(shape.trials);
    expect(starts.every((s) => s.attempt === 1)).toBe(true);

    // The work went over this test's own streams (SWEEPD_NATS_PREFIX), not the default ones.
    const nc = await connect({ servers: SHARED_NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      const streams = async () => ({
        jobs: (await jsm.streams.info(`${cluster.prefix.toUpperCase()}_JOBS`)).state,
        reports: (await jsm.streams.info(`${cluster.prefix.toUpperCase()}_REPORTS`)).state,
      });
      // Every job was acknowledged and every report ingested: both work queues end empty (the last
      // acknowledgements may trail the study's end by a moment).
      const state = await eventually(
        async () => {
          const now = await streams();
          return now.jobs.messages === 0 && now.reports.messages === 0 ? now : undefined;
        },
        10_000,
        'empty work queues',
      );
      expect(state.jobs.last_seq).toBe(shape.trials);
      expect(state.reports.last_seq).toBeGreaterThanOrEqual(shape.trials * (shape.epochs + 2));
    } finally {
      await nc.close();
    }
  }, 90_000);

  it('warns at submit about a pool no worker has joined (a typo), which would otherwise wait in silence', async () => {
    if (!cluster.daemon) throw new Error('daemon did not start');
    const d = cluster.daemon;
    const post = async (spec: Record<string, unknown>) => {
      const res = await fetch(`${d.url}/v1/studies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      });
      return { status: res.status, body: (await res.json()) as { id: string; warnings?: string[] } };
    };
    const spec = studySpec({ ...shape, name: 'distributed-typo-pool' });
    const typo = await post({ ...spec, trainer: { ...(spec.trainer as object), pool: 'defualt' } });
    expect(typo.status).toBe(201);
    expect(typo.body.warnings).toEqual([
      "no worker has joined pool 'defualt' on this bus yet (pools with workers now: 'default'): its trials wait until one does (sweepd worker --pool defualt, on the same NATS server and SWEEPD_NATS_PREFIX as the daemon)",
    ]);
    // Read later, the study says why its trials wait, while they all do.
    const read = (await (await fetch(`${d.url}/v1/studies/${typo.body.id}`)).json()) as {
      counts: { queued: number; running: number };
      waiting?: string;
    };
    expect(read.counts).toMatchObject({ running: 0 });
    expect(read.counts.queued).toBeGreaterThan(0);
    expect(read.waiting).toBe(typo.body.warnings?.[0]);
    // And its leaderboard, beside the queued rows (what sweepd leaderboard prints).
    const board = (await (await fetch(`${d.url}/v1/studies/${typo.body.id}/leaderboard`)).json()) as { waiting?: string };
    expect(board.waiting).toBe(typo.body.warnings?.[0]);
    expect((await fetch(`${d.url}/v1/studies/${typo.body.id}/stop`, { method: 'POST' })).status).toBe(200);
    // A pool its workers serve: no warning.
    const served = await post(studySpec({ ...shape, name: 'distributed-served', trials: 1, parallelism: 1 }));
    expect(served.status).toBe(201);
    expect(served.body.warnings).toBeUndefined();
    const servedRead = (await (await fetch(`${d.url}/v1/studies/${served.body.id}`)).json()) as { waiting?: string };
    expect(servedRead.waiting).toBeUndefined();
  }, 60_000);
});
