import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTimeOf } from '@sweepd/core';
import { endOrphanGroups, recordGroup } from './orphan-groups.ts';
import { CommandRunner } from './runner.ts';
import { liveMembers, signalGroup } from './process-group.ts';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.pid) signalGroup(child.pid, 'SIGKILL');
});

/** A trial's script as a worker starts it: leader of its own group, with a child of its own. */
function trialGroup(): number {
  const child = spawn('sh', ['-c', 'sleep 60 & sleep 60'], { detached: true, stdio: 'ignore' });
  started.push(child);
  return child.pid as number;
}

/** A worker that has died: a process that ran and exited, named by its pid and start time. */
async function deadWorker(): Promise<{ pid: number; start: string }> {
  const child = spawn('sleep', ['0.2'], { stdio: 'ignore' });
  const pid = child.pid as number;
  const start = startTimeOf(pid) as string;
  await new Promise((r) => child.once('exit', r));
  return { pid, start };
}

describe('endOrphanGroups', () => {
  it("ends the groups a dead worker left running, leaves a live worker's alone, and forgets the records of the groups it ended", async () => {
    const trials = mkdtempSync(path.join(os.tmpdir(), 'sweepd-orphans-'));
    try {
      // Trial a: recorded by a worker that died. Trial b: recorded by this process, a live worker.
      const orphan = trialGroup();
      const mine = trialGroup();
      await new Promise((r) => setTimeout(r, 100)); // the shells have started their sleeps
      for (const dir of ['tr_a', 'tr_b']) mkdirSync(path.join(trials, dir));
      const worker = await deadWorker();
      const record = { pgid: orphan, start: startTimeOf(orphan), worker: worker.pid, workerStart: worker.start };
      writeFileSync(path.join(trials, 'tr_a', '.sweepd-group.json'), JSON.stringify(record));
      recordGroup(path.join(trials, 'tr_b'), mine);
      expect(liveMembers(orphan).length).toBe(3); // the shell and its two sleeps

      const logs: string[] = [];
      expect(await endOrphanGroups(trials, 1_000, (m) => logs.push(m))).toEqual(['tr_a']);
      expect(liveMembers(orphan)).toEqual([]);
      expect(logs).toEqual([`ended trial tr_a's processes (group ${orphan}, SIGTERM): its worker (pid ${worker.pid}) is gone`]);
      expect(existsSync(path.join(trials, 'tr_a', '.sweepd-group.json'))).toBe(false);
      // The live worker's trial runs on, its record kept.
      expect(liveMembers(mine).length).toBe(3);
      expect(existsSync(path.join(trials, 'tr_b', '.sweepd-group.json'))).toBe(true);
      // A record whose leader's pid now names another process (start time differs) ends nothing.
      writeFileSync(path.join(trials, 'tr_a', '.sweepd-group.json'), JSON.stringify({ ...record, pgid: mine, start: '1' }));
      expect(await endOrphanGroups(trials, 1_000, () => {})).toEqual([]);
      expect(liveMembers(mine).length).toBe(3);
    } finally {
      rmSync(trials, { recursive: true, force: true });
    }
  });

  it("a runner that runs a trial again ends the group its dead worker left in that trial's directory first", async () => {
    // Workers started in one directory share ./.sweepd/trials: the one that takes the redelivered
    // trial is not restarting, and would otherwise run it beside the orphan writing into its files.
    const root = mkdtempSync(path.join(os.tmpdir(), 'sweepd-orphans-'));
    try {
      const runner = new CommandRunner({ cacheDir: path.join(root, 'cache') });
      const orphan = trialGroup();
      await new Promise((r) => setTimeout(r, 100));
      const trialDir = path.join(runner.trialsDir, 'tr_again');
      mkdirSync(trialDir, { recursive: true });
      const worker = await deadWorker();
      writeFileSync(
        path.join(trialDir, '.sweepd-group.json'),
        JSON.stringify({ pgid: orphan, start: startTimeOf(orphan), worker: worker.pid, workerStart: worker.start }),
      );
      const logs: string[] = [];
      const script =
        'import json, os; open(os.environ["SWEEPD_METRICS_FILE"], "a").write(json.dumps({"sweepd": 1, "epoch": 1, "metrics": {"auc": 0.7}}) + "\\n")';
      const outcome = await runner.run(
        {
          studyId: 'st_x',
          trialId: 'tr_again',
          number: 0,
          params: {},
          maxEpochs: 1,
          objective: { metric: 'auc', direction: 'maximize' },
          trainer: { runner: 'command', options: { command: ['python3', '-c', script], args: 'none' } },
          pool: 'default',
        },
        { signal: new AbortController().signal, report: async () => {}, log: (m) => logs.push(m) },
      );
      expect(outcome.state, JSON.stringify(outcome)).toBe('completed');
      expect(liveMembers(orphan)).toEqual([]);
      expect(logs[0]).toBe(`ended trial tr_again's processes (group ${orphan}, SIGTERM): its worker (pid ${worker.pid}) is gone`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('finds nothing in a directory that does not exist', async () => {
    expect(await endOrphanGroups(path.join(os.tmpdir(), 'sweepd-no-such-dir'), 1_000, () => {})).toEqual([]);
  });
});
