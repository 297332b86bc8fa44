import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { submitStudy } from '../fault/harness.ts';
import { REPO_ROOT, startDaemonProcess, waitFor } from '../support/daemon-process.ts';

// Ctrl-C (or a closed terminal) of `sweepd up` while a command trial is mid-epoch: the trial is stopped and handed back at
// once (not waited for: real epochs take hours), and the restarted daemon runs it again from scratch.
const spec = {
  name: 'shutdown-e2e',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { learning_rate: { type: 'float', low: 1e-3, high: 1e-2, log: true } },
  fixed: { mode: 'normal', epoch_s: 60 },
  strategy: { name: 'random', options: { seed: 1 } },
  budget: { max_trials: 1, max_epochs: 2, parallelism: 1 },
  trainer: {
    runner: 'command',
    options: { command: ['python3', path.join(REPO_ROOT, 'test/fixtures/command/trial.py')], stop_grace_s: 1, term_grace_s: 1 },
  },
};

interface Trial {
  state: string;
  attempt: number | null;
  epochs: Array<{ epoch: number }>;
}

describe('sweepd up, interrupted mid-trial', () => {
  it('stops within seconds, handing the running trial back; a restart runs it again from scratch', async () => {
    // A data directory of the test's own: a daemon stopped by its helper removes the one it made.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sweepd-shutdown-'));
    const first = await startDaemonProcess({ args: ['--workers', '1'], dataDir, timeoutMs: 60_000 });
    const id = await submitStudy(first.url, spec);
    const trial = async (url: string) => (await (await fetch(`${url}/v1/studies/${id}/trials/0`)).json()) as Trial;
    await waitFor(async () => ((await trial(first.url)).state === 'running' ? true : undefined), 30_000, 'the trial to start');
    // Its process is in its first 60 s epoch now.
    await new Promise((r) => setTimeout(r, 1_500));
    const t0 = Date.now();
    const code = await first.stop('SIGINT');
    const seconds = (Date.now() - t0) / 1000;
    expect(code, first.logs()).toBe(0);
    expect(seconds, first.logs()).toBeLessThan(15);
    expect(first.logs()).toMatch(/trial handed back at shutdown/);

    const again = await startDaemonProcess({ args: ['--workers', '1'], dataDir, timeoutMs: 60_000 });
    try {
      const resumed = await waitFor(
        async () => {
          const t = await trial(again.url);
          return t.state === 'running' && t.attempt === 2 ? t : undefined;
        },
        30_000,
        'the trial to run again as delivery 2',
      );
      expect(resumed.attempt).toBe(2);
    } finally {
      const t1 = Date.now();
      // Its terminal closed (SIGHUP): a shutdown like Ctrl-C's, not a death that leaves the trial running.
      expect(await again.stop('SIGHUP'), again.logs()).toBe(0);
      expect(again.logs()).toMatch(/trial handed back at shutdown/);
      // Stopped as soon as it started, too.
      expect((Date.now() - t1) / 1000, again.logs()).toBeLessThan(15);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('stores what a trial reports while it ends: a script that trains on through its stop grace to its last epoch completes', async () => {
    // A script with no sweepd code (Keras, TF-slim) never reads the stop request: it trains until stop_grace_s is over.
    const deaf = {
      ...spec,
      name: 'shutdown-deaf-e2e',
      fixed: { mode: 'deaf', epoch_s: 1 },
      budget: { max_trials: 1, max_epochs: 4, parallelism: 1 },
      trainer: { ...spec.trainer, options: { ...spec.trainer.options, stop_grace_s: 30 } },
    };
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sweepd-shutdown-deaf-'));
    const first = await startDaemonProcess({ args: ['--workers', '1'], dataDir, timeoutMs: 60_000 });
    const id = await submitStudy(first.url, deaf);
    const trial = async (url: string) => (await (await fetch(`${url}/v1/studies/${id}/trials/0`)).json()) as Trial;
    await waitFor(async () => ((await trial(first.url)).epochs.length >= 1 ? true : undefined), 30_000, 'epoch 1 to be stored');
    const t0 = Date.now();
    expect(await first.stop('SIGINT'), first.logs()).toBe(0);
    // It waited for the script's last 3 epochs (about 3 s), and no longer: not the rest of its grace.
    expect((Date.now() - t0) / 1000, first.logs()).toBeLessThan(20);

    const again = await startDaemonProcess({ args: ['--workers', '1'], dataDir, timeoutMs: 60_000 });
    try {
      const ended = await trial(again.url);
      expect(ended.state, again.logs()).toBe('completed');
      expect(ended.attempt).toBe(1);
      expect(ended.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
      const study = (await (await fetch(`${again.url}/v1/studies/${id}`)).json()) as { state: string };
      expect(study.state).toBe('completed');
    } finally {
      expect(await again.stop('SIGINT'), again.logs()).toBe(0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
