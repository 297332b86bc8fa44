import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TrialJob, TrialOutcome } from '@sweepd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessPoolRunner, TERMINAL_STOP_WAIT_MS, TrainerProcessDied } from './pool.ts';

// Real trainer processes, each running a command trial that sleeps until it is stopped. Ctrl-C at a
// terminal reaches the whole process group: the parent, which got the same signal, stops the
// trial to hand it back; its trainer process must not die of it first.
const root = mkdtempSync(path.join(tmpdir(), 'sweepd-pool-'));
// A trainer killed with -9 leaves its trial's script running (it has no exit hook then): this file's
// scripts sleep for a time of their own, so that they can be found and ended after.
const SLEEP_S = '61.5';
afterAll(() => {
  spawnSync('pkill', ['-f', `^sleep ${SLEEP_S}$`]);
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
function sleeper(seconds = SLEEP_S): TrialJob {
  n++;
  return {
    studyId: 'st_pool',
    trialId: `tr_pool_${n}`,
    number: n,
    params: {},
    maxEpochs: 1,
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    trainer: { runner: 'command', options: { command: ['sleep', seconds], args: 'none', stop_grace_s: 0.2, term_grace_s: 0.2 } },
    pool: 'default',
  };
}

/** The trainer processes this test process started (children running process/child-entry.ts), from /proc. */
function trainerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('/process/child')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Runs one trial; sends its trainer process `signals` as soon as it exists (`when: 'starting'`) or
 * once it is ready and the trial under way, and stops the trial `abortAfterMs` later (never when
 * undefined). Also says whether the process outlived the signals.
 */
async function signalTrainer(when: 'starting' | 'training', signals: NodeJS.Signals[], abortAfterMs: number | undefined) {
  let ready = false;
  const pool = new ProcessPoolRunner({
    size: 1,
    env: { SWEEPD_CACHE_DIR: path.join(root, 'cache') },
    log: (m) => {
      if (m.endsWith('ready')) ready = true;
    },
  });
  const controller = new AbortController();
  try {
    const outcome: Promise<TrialOutcome | Error> = pool
      .run(sleeper(), { signal: controller.signal, report: async () => {}, log: () => {} })
      .catch((err: Error) => err);
    let pid: number | undefined;
    for (let i = 0; i < 1_000 && pid === undefined; i++) {
      pid = trainerPids()[0];
      if (pid === undefined) await new Promise((r) => setTimeout(r, 5));
    }
    if (pid === undefined) throw new Error('no trainer process started');
    if (when === 'training') {
      for (let i = 0; i < 600 && !ready; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500)); // the trial's script under way
    }
    for (const signal of signals) process.kill(pid, signal);
    await new Promise((r) => setTimeout(r, 200));
    const outlived = alive(pid);
    if (abortAfterMs !== undefined) setTimeout(() => controller.abort(new Error('worker shutting down')), abortAfterMs);
    return { outcome: await outcome, outlived, wasReady: ready };
  } finally {
    await pool.close();
  }
}

const stopped = { state: 'stopped', reason: 'worker shutting down' };

describe('ProcessPoolRunner, its trainer process signalled under a trial', () => {
  it("lives through Ctrl-C and the terminal's hang-up; the trial stops when its worker stops it", async () => {
    const { outcome, outlived } = await signalTrainer('training', ['SIGINT', 'SIGHUP'], 0);
    expect(outlived).toBe(true);
    expect(outcome).toMatchObject(stopped);
  }, 30_000);

  it('dying of Ctrl-C while it starts, then the trial stopped (a shutdown): stopped, not a crash that spends a delivery', async () => {
    const { outcome, outlived, wasReady } = await signalTrainer('starting', ['SIGINT'], 100);
    expect({ outlived, wasReady }).toEqual({ outlived: false, wasReady: false });
    expect(outcome).toEqual(stopped);
  }, 30_000);

  it('dying of Ctrl-C while it starts, nothing stopping the trial: a crash, after a wait for the stop', async () => {
    const t0 = Date.now();
    const { outcome } = await signalTrainer('starting', ['SIGINT'], undefined);
    expect(outcome).toBeInstanceOf(TrainerProcessDied);
    expect((outcome as Error).message).toBe('trainer process died: killed by SIGINT while starting');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(TERMINAL_STOP_WAIT_MS);
  }, 60_000);

  it('killed (an out-of-memory kill): a crash, at once, even if the trial is stopped after', async () => {
    const { outcome } = await signalTrainer('training', ['SIGKILL'], 100);
    expect(outcome).toBeInstanceOf(TrainerProcessDied);
    expect((outcome as Error).message).toBe('trainer process died: killed by SIGKILL');
  }, 30_000);
});

describe('ProcessPoolRunner, a trainer process that dies while it starts', () => {
  it('hands a fresh process to the trial that waited for its slot', async () => {
    const pool = new ProcessPoolRunner({ size: 1, env: { SWEEPD_CACHE_DIR: path.join(root, 'cache') } });
    const ctx = () => ({ signal: new AbortController().signal, report: async () => {}, log: () => {} });
    try {
      const first = pool.run(sleeper(), ctx()).catch((err: Error) => err);
      const second = pool.run(sleeper('0.1'), ctx()).catch((err: Error) => err);
      let pid: number | undefined;
      for (let i = 0; i < 1_000 && pid === undefined; i++) {
        pid = trainerPids()[0];
        if (pid === undefined) await new Promise((r) => setTimeout(r, 5));
      }
      if (pid === undefined) throw new Error('no trainer process started');
      process.kill(pid, 'SIGKILL');
      expect(await first).toBeInstanceOf(TrainerProcessDied);
      const outcome = await Promise.race([second, new Promise((r) => setTimeout(() => r('still waiting after 20 s'), 20_000))]);
      expect(outcome).toMatchObject({ state: expect.any(String) });
    } finally {
      await pool.close();
    }
  }, 40_000);
});
