import { mkdtempSync, readdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signalGroup } from '../../packages/trainer/src/command/process-group.ts';
import type { WorkerProcess } from '../support/daemon-process.ts';
import { eventually, submitStudy, tails, trialRows, trialStarts, useDistributedCluster, waitForStudyEnd } from './harness.ts';

// A worker machine dies after its trial's script reported the last epoch, while the script hangs
// in its teardown (a DataLoader or CUDA shutdown): the end is never sent. JetStream delivers the
// job again after the ack wait. The trial trained in full, so it completes on the epochs it
// reported, and the worker the job went to is told to stop, instead of training it again.
// Each run writes its process group here, so that the one whose worker was killed (it outlives it)
// is ended after the test.
const GROUPS = mkdtempSync(path.join(tmpdir(), 'sweepd-fwl-'));
// The later delivery (a group written before it) trains slowly: it is still at its first epoch
// when the stop comes, however busy the machine, so it cannot finish first and end completed.
const HANGS_AFTER_LAST = [
  'import json, os, time',
  `first = not os.listdir(${JSON.stringify(GROUPS)})`,
  `open(os.path.join(${JSON.stringify(GROUPS)}, str(os.getpgid(0))), "w").close()`,
  'for epoch in range(1, 4):',
  '    with open(os.environ["SWEEPD_METRICS_FILE"], "a") as f:',
  '        f.write(json.dumps({"sweepd": 1, "epoch": epoch, "metrics": {"val_auc_macro": 0.7 + epoch / 100}}) + "\\n")',
  '    time.sleep(0.2 if first else 5)',
  'time.sleep(3600)',
].join('\n');

const spec = {
  name: 'fault-worker-killed-after-last-epoch',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-4, high: 1e-2, log: true } },
  strategy: { name: 'random', options: { seed: 1 } },
  budget: { max_trials: 1, max_epochs: 3, parallelism: 1 },
  trainer: {
    runner: 'command',
    options: { command: ['python3', '-c', HANGS_AFTER_LAST], args: 'none', stop_grace_s: 0.5, term_grace_s: 0.5 },
  },
};

const cluster = useDistributedCluster({ label: 'fwl', ackWaitMs: 3_000 });
afterAll(() => {
  for (const pgid of readdirSync(GROUPS)) signalGroup(Number(pgid), 'SIGKILL');
});

describe('fault: a worker is killed after its trial reported the last epoch', () => {
  it('the trial completes on the epochs it reported, and the worker the job is delivered to again is told to stop', async () => {
    if (!cluster.daemon) throw new Error('daemon did not start');
    const d = cluster.daemon;
    const { sql, workers } = cluster;
    const context = () => tails({ daemon: d.logs(), ...Object.fromEntries(workers.map((w) => [w.name, w.logs()])) });
    const studyId = await submitStudy(d.url, spec);

    // Its three epochs stored, the script hanging: kill the worker that holds it, with its group.
    const holder = await eventually(
      async () => {
        const [row] = await sql<{ worker: string; n: number }[]>`
          select t.worker, count(e.*)::int as n from trials t join epochs e on e.trial_id = t.id
          where t.study_id = ${studyId} and t.state = 'running' group by t.worker`;
        return row && row.n === 3 ? row.worker : undefined;
      },
      30_000,
      `the trial to report its last epoch\n${context()}`,
      100,
    );
    const victim = workers.find((w) => w.name === holder) as WorkerProcess;
    const survivor = workers.find((w) => w !== victim) as WorkerProcess;
    await victim.killGroup('SIGKILL');

    expect(await waitForStudyEnd(sql, studyId, 45_000, context)).toBe('completed');
    const [trial] = await trialRows(sql, studyId);
    expect([trial?.state, trial?.reason, trial?.value, trial?.worker, trial?.attempt], context()).toEqual([
      'completed',
      'finished its 3 epochs; its end was not heard before its job was delivered again',
      0.73,
      victim.name,
      1,
    ]);
    // The job did go to the survivor, which was told to stop it rather than training it to the end.
    const again = trialStarts([survivor]).filter((s) => s.trialId === trial?.id);
    expect(again.length, context()).toBe(1);
    const ended = await eventually(
      async () =>
        survivor
          .logs()
          .split('\n')
          .filter((line) => line.includes('"trial ended"'))
          .map((line) => JSON.parse(line) as { trialId: string; state: string; reason?: string })
          .find((e) => e.trialId === trial?.id),
      15_000,
      `the survivor to stop the trial\n${context()}`,
    );
    expect([ended.state, ended.reason]).toEqual([
      'stopped',
      'finished its 3 epochs; its end was not heard before its job was delivered again',
    ]);
    const [stored] = await sql<{ n: number }[]>`select count(*)::int as n from epochs where trial_id = ${trial?.id as string}`;
    expect(stored?.n).toBe(3);
    // Its end, with the notes that say where its logs are, was never heard: its first epoch says it instead.
    const [first] = await sql<{ notes: Record<string, unknown> }[]>`
      select notes from epochs where trial_id = ${trial?.id as string} and epoch = 1`;
    expect(first?.notes).toEqual({ trial_dir: expect.stringContaining(trial?.id as string), host: hostname() });
  }, 120_000);
});
