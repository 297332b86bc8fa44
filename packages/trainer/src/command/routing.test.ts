import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalBus, type Report, type Runner, type TrialJob } from '@sweepd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { startWorker } from '../worker.ts';
import { GpuSlots } from './gpus.ts';
import { CommandRoutingRunner } from './routing.ts';
import { CommandRunner } from './runner.ts';

// Real processes: the fixture script speaks the protocol by hand.
const SCRIPT = fileURLToPath(new URL('../../../../test/fixtures/command/trial.py', import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'sweepd-routing-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const job = (n: number): TrialJob => ({
  studyId: 'st_wait',
  trialId: `tr_wait${n}`,
  number: n,
  params: { learning_rate: 0.01, mode: 'normal', epoch_s: 0.5 },
  maxEpochs: 3,
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  trainer: { runner: 'command', options: { command: ['python3', SCRIPT] } },
  pool: 'default',
});
const notCommand: Runner = { run: async () => ({ state: 'failed', reason: 'not a command trial' }) };

describe('a worker with more trial slots than GPUs (sweepd up --workers 3 on a host with 2)', () => {
  it('reports a command trial started once it has a GPU, not while it waits for one (it read running with no process)', async () => {
    const bus = new LocalBus();
    const commands = new CommandRunner({ cacheDir: path.join(root, 'cache') });
    const runner = new CommandRoutingRunner(commands, notCommand, new GpuSlots(['0']));
    const started: string[] = [];
    const ended: string[] = [];
    const reports = await bus.consumeReports(async (batch: readonly Report[]) => {
      for (const r of batch) {
        if (r.kind === 'start') started.push(r.trialId);
        if (r.kind === 'final') ended.push(r.trialId);
      }
    });
    const worker = await startWorker({ bus, runner, concurrency: 2 });
    try {
      await bus.dispatch([job(1), job(2)]);
      const hasProcess = (n: number) => existsSync(path.join(commands.trialsDir, `tr_wait${n}`, 'process.json'));
      const deadline = Date.now() + 10_000;
      while (!hasProcess(1) && !hasProcess(2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      // One trial on the GPU, the other waiting: only the first has started.
      const running = [1, 2].filter(hasProcess).map((n) => `tr_wait${n}`);
      expect(running).toHaveLength(1);
      expect(started).toEqual(running);
      // The second starts when the first gives the GPU back, and both end.
      while (ended.length < 2 && Date.now() < deadline + 20_000) await new Promise((r) => setTimeout(r, 100));
      expect(started.sort()).toEqual(['tr_wait1', 'tr_wait2']);
      expect(ended.sort()).toEqual(['tr_wait1', 'tr_wait2']);
    } finally {
      await worker.close();
      await reports.close();
      await bus.close();
    }
  }, 40_000);
});
