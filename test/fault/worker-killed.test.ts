import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { livePidsInGroup, type WorkerProcess } from '../support/daemon-process.ts';
import {
  eventually,
  expectStudyAccountedFor,
  type StudyShape,
  studySpec,
  submitStudy,
  tails,
  trialRows,
  trialStarts,
  useDistributedCluster,
  waitForStudyEnd,
  SHARED_NATS_URL,
  waitForWorkerMidTrial,
} from './harness.ts';

// A worker machine dies mid-trial: its process group (the worker and its trainer processes) gets
// SIGKILL. The jobs it held are not acknowledged nor kept alive any more, so after the ack wait
// JetStream delivers them again, to the other worker, which runs them to the end.
const shape: StudyShape = { name: 'fault-worker-killed', trials: 10, epochs: 8, parallelism: 4, epochDelayMs: 250, seed: 5 };
const ACK_WAIT_MS = 3_000;
const cluster = useDistributedCluster({ label: 'fwk', ackWaitMs: ACK_WAIT_MS });

describe('fault: a worker is killed mid-trial', () => {
  it('redelivers its trials to the other worker; every trial and epoch is accounted for once', async () => {
    if (!cluster.daemon) throw new Error('daemon did not start');
    const d = cluster.daemon;
    const { sql, workers } = cluster;
    const [victim, survivor] = workers as [WorkerProcess, WorkerProcess];
    const context = () => tails({ daemon: d.logs(), victim: victim.logs(), survivor: survivor.logs() });
    const studyId = await submitStudy(d.url, studySpec(shape));

    await waitForWorkerMidTrial(sql, studyId, victim.name, shape.epochs, `the victim worker to be mid-trial\n${context()}`);

    await victim.killGroup('SIGKILL');
    // The trainer processes went with it (they are in its process group).
    await eventually(
      async () => (livePidsInGroup(victim.pid).length === 0 ? true : undefined),
      5_000,
      "the victim's trainer processes to die",
    );

    // Trials the victim held when it died, once the daemon has ingested every report it sent.
    await reportsIngested(`${cluster.prefix.toUpperCase()}_REPORTS`);
    const orphaned = (await trialRows(sql, studyId)).filter((t) => t.worker === victim.name && t.state === 'running');
    expect(orphaned.length, context()).toBeGreaterThan(0);

    expect(await waitForStudyEnd(sql, studyId, 75_000, context)).toBe('completed');
    const { trials } = await expectStudyAccountedFor(sql, d.url, studyId, shape, context);

    // Each orphaned trial was delivered again, to the survivor, and completed there.
    const starts = trialStarts(workers);
    for (const lost of orphaned) {
      const again = starts.filter((s) => s.trialId === lost.id && s.worker === survivor.name);
      expect(again.length, `restarts of trial ${lost.number} on the survivor`).toBe(1);
      expect(again[0]?.attempt).toBeGreaterThanOrEqual(2);
      expect(trials.find((t) => t.id === lost.id)?.worker).toBe(survivor.name);
      // Its epochs are the survivor's run from scratch, not the victim's mixed in.
      expect(trials.find((t) => t.id === lost.id)?.attempt).toBe(again[0]?.attempt);
    }
    // Every other trial ran exactly once.
    const orphanIds = new Set(orphaned.map((t) => t.id));
    for (const t of trials) {
      const count = starts.filter((s) => s.trialId === t.id).length;
      expect(count, `starts of trial ${t.number}`).toBe(orphanIds.has(t.id) ? 2 : 1);
    }
  }, 120_000);
});

/**
 * Waits until the daemon has stored every report in `stream` now: it is a work queue, each report
 * removed once stored, so the ones there now are gone when its first sequence passes the last.
 */
async function reportsIngested(stream: string): Promise<void> {
  const nc = await connect({ servers: SHARED_NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    const through = (await jsm.streams.info(stream)).state.last_seq;
    await eventually(
      async () => {
        const { state } = await jsm.streams.info(stream);
        return state.messages === 0 || state.first_seq > through ? true : undefined;
      },
      10_000,
      'the reports the victim sent to be stored',
    );
  } finally {
    await nc.close();
  }
}
