import { describe, expect, it } from 'vitest';
import { livePidsInGroup, type WorkerProcess } from '../support/daemon-process.ts';
import {
  expectStudyAccountedFor,
  type StudyShape,
  studySpec,
  submitStudy,
  tails,
  trialRows,
  trialStarts,
  useDistributedCluster,
  waitForStudyEnd,
  waitForWorkerMidTrial,
} from './harness.ts';

// A worker is told to stop (SIGTERM, as a scale-down or a deploy would) mid-trial. It drains:
// aborts its running trials and hands their jobs back to the queue at once (a nak), so the other
// worker picks them up without waiting for the 30 s ack wait, then it exits 0.
const shape: StudyShape = { name: 'fault-worker-drained', trials: 10, epochs: 8, parallelism: 4, epochDelayMs: 250, seed: 5 };
/** The default ack wait: a job handed back must come again long before it. */
const ACK_WAIT_MS = 30_000;
const cluster = useDistributedCluster({ label: 'fwd', ackWaitMs: ACK_WAIT_MS });

describe('fault: a worker is drained (SIGTERM) mid-trial', () => {
  it('hands its trials back at once; the other worker runs them to the end', async () => {
    if (!cluster.daemon) throw new Error('daemon did not start');
    const d = cluster.daemon;
    const { sql, workers } = cluster;
    const [leaver, stayer] = workers as [WorkerProcess, WorkerProcess];
    const context = () => tails({ daemon: d.logs(), leaver: leaver.logs(), stayer: stayer.logs() });
    const studyId = await submitStudy(d.url, studySpec(shape));

    await waitForWorkerMidTrial(sql, studyId, leaver.name, shape.epochs, `the leaving worker to be mid-trial\n${context()}`);

    const drainedAt = Date.now();
    expect(await leaver.stop('SIGTERM'), context()).toBe(0);
    // It took its trainer processes with it.
    expect(livePidsInGroup(leaver.pid)).toEqual([]);
    expect(leaver.logs()).toMatch(/trial handed back at shutdown/);

    expect(await waitForStudyEnd(sql, studyId, 75_000, context)).toBe('completed');
    const { trials } = await expectStudyAccountedFor(sql, d.url, studyId, shape, context);

    // Every trial the leaver started and did not finish went to the stayer, soon after the drain.
    const handedBack = leaver
      .logEntries()
      .filter((e) => e.msg === 'trial handed back at shutdown')
      .map((e) => String(e.trialId));
    expect(handedBack.length).toBeGreaterThan(0);
    const starts = stayer.logEntries().filter((e) => e.msg === 'trial started');
    for (const trialId of handedBack) {
      const again = starts.find((e) => e.trialId === trialId);
      expect(again, `handed-back trial ${trialId} restarted on the other worker\n${context()}`).toBeDefined();
      expect(Number(again?.attempt)).toBe(2);
      expect(Date.parse(String(again?.time)) - drainedAt, 'delay before the handed-back trial ran again').toBeLessThan(ACK_WAIT_MS / 3);
      expect(trials.find((t) => t.id === trialId)?.worker).toBe(stayer.name);
    }
    // No trial ran more than twice, and only the handed-back ones twice.
    const all = trialStarts(workers);
    for (const t of trials) {
      expect(all.filter((s) => s.trialId === t.id).length, `starts of trial ${t.number}`).toBe(handedBack.includes(t.id) ? 2 : 1);
    }
    expect(await trialRows(sql, studyId)).toHaveLength(shape.trials);
  }, 120_000);
});
