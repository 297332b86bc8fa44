import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eventually, SHARED_NATS_URL, submitStudy, tails, useDistributedCluster, waitForStudyEnd } from '../fault/harness.ts';
import { deleteStreams, uniquePrefix } from '../../packages/core/src/bus/nats/test-env.ts';
import {
  CLI,
  type DaemonProcess,
  livePidsInGroup,
  REPO_ROOT,
  startDaemonProcess,
  startWorkerProcess,
  waitFor,
} from '../support/daemon-process.ts';

// The command runner end to end: `sweepd up` (PostgreSQL, NATS) and a `sweepd worker` on a host
// whose (fake) nvidia-smi lists two GPUs, so it runs two trials at once, one per GPU. Each trial is
// a real Python process (test/fixtures/command/trial.py) that behaves as its `mode` parameter says.
const tmp = mkdtempSync(path.join(tmpdir(), 'sweepd-command-e2e-'));
const fakeBin = path.join(tmp, 'bin');
writeFakeNvidiaSmi(fakeBin, ['0', '1']);
// Read by the worker processes this file starts (they inherit this process's environment).
process.env.PATH = `${fakeBin}${path.delimiter}${process.env.PATH}`;
process.env.SWEEPD_CACHE_DIR = path.join(tmp, 'cache');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cluster = useDistributedCluster({ label: 'command', workers: 1, concurrency: 2 });

const SCRIPT = path.join(REPO_ROOT, 'test/fixtures/command/trial.py');
const MODES = ['normal', 'stubborn', 'crash', 'hang', 'misspell'] as const;
const spec = {
  name: 'command-e2e',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: { mode: { type: 'categorical', choices: [...MODES] } },
  fixed: { learning_rate: 0.01, epoch_s: 0.4 },
  strategy: { name: 'grid' },
  budget: { max_trials: MODES.length, max_epochs: 4, parallelism: 2 },
  trainer: {
    runner: 'command',
    options: {
      command: ['python3', SCRIPT],
      args: 'flags',
      start_timeout_s: 60,
      report_timeout_s: 4,
      stop_grace_s: 0.5,
      term_grace_s: 0.5,
    },
  },
};

interface Trial {
  number: number;
  state: string;
  reason: string | null;
  params: Record<string, unknown>;
  notes: Record<string, unknown>;
  epochs: { epoch: number; metrics: Record<string, number | string> }[];
}

describe('command runner end to end, on a two-GPU worker', () => {
  it('runs, stops, fails and diagnoses real training processes', async () => {
    const d = cluster.daemon;
    if (!d) throw new Error('daemon did not start');
    const context = () => tails({ daemon: d.logs(), worker: cluster.workers[0]?.logs() ?? '' });
    const id = await submitStudy(d.url, spec);
    const trial = async (n: number) => (await (await fetch(`${d.url}/v1/studies/${id}/trials/${n}`)).json()) as Trial;
    const trials = async () => {
      const board = (await (await fetch(`${d.url}/v1/studies/${id}/leaderboard`)).json()) as { rows: { number: number }[] };
      return Promise.all(board.rows.map((r) => trial(r.number)));
    };

    // The stubborn trial ignores the stop request and SIGTERM and has a child of its own: stop it over the API mid-epoch.
    const stubborn = await eventually(
      async () => (await trials()).find((t) => t.params.mode === 'stubborn' && t.state === 'running' && t.epochs.length >= 1),
      60_000,
      'the stubborn trial to report an epoch',
    );
    expect((await fetch(`${d.url}/v1/studies/${id}/trials/${stubborn.number}/stop`, { method: 'POST' })).status).toBe(200);

    expect(await waitForStudyEnd(cluster.sql, id, 120_000, context)).toBe('completed');
    const all = await trials();
    expect(all).toHaveLength(MODES.length);
    const byMode = Object.fromEntries(all.map((t) => [t.params.mode as string, t]));
    const show = (t: Trial | undefined) => `${JSON.stringify(t)}\n${context()}`;

    const normal = byMode.normal;
    expect(normal?.state, show(normal)).toBe('completed');
    expect(normal?.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);

    const stopped = byMode.stubborn;
    expect(stopped?.state, show(stopped)).toBe('stopped');
    expect(stopped?.notes.signals_sent).toEqual(['SIGTERM', 'SIGKILL']);
    const proc = JSON.parse(readFileSync(path.join(stopped?.notes.trial_dir as string, 'process.json'), 'utf8')) as { pgid: number };
    expect(livePidsInGroup(proc.pgid)).toEqual([]);
    // Its zombies (the orphaned child's included) are reaped soon after: then kill(-pgid, 0) finds nobody.
    await eventually(
      async () => {
        try {
          process.kill(-proc.pgid, 0);
          return undefined;
        } catch (err) {
          return (err as NodeJS.ErrnoException).code === 'ESRCH' ? true : undefined;
        }
      },
      5_000,
      'the stopped trial’s process group to vanish',
    );

    const crash = byMode.crash;
    expect(crash?.state).toBe('failed');
    expect(crash?.reason).toBe('exit code 3: RuntimeError: CUDA out of memory (simulated)');
    expect(crash?.notes.stderr_tail).toEqual(['Traceback (most recent call last):', 'RuntimeError: CUDA out of memory (simulated)']);

    expect(byMode.hang).toMatchObject({ state: 'failed', reason: 'hung: no report for 4 s (report_timeout_s)' });

    expect(byMode.misspell).toMatchObject({
      state: 'failed',
      reason: "objective metric 'val_auc_macro' was never reported; reported: train_loss, val_auc",
    });

    // Every trial ran on one of the worker's two GPUs, and its script saw that GPU.
    const gpus = new Set<string>();
    for (const t of Object.values(byMode)) {
      const seen = JSON.parse(readFileSync(path.join(t.notes.trial_dir as string, 'process.json'), 'utf8')) as {
        env: Record<string, string>;
      };
      expect(['0', '1']).toContain(t.notes.gpu);
      expect(seen.env.CUDA_VISIBLE_DEVICES).toBe(t.notes.gpu);
      gpus.add(t.notes.gpu as string);
    }
    expect(gpus.size, 'two trials at a time, one per GPU').toBe(2);
    expect(cluster.workers[0]?.logs()).toContain('"gpus":["0","1"]');
  }, 200_000);

  it('refuses a spec whose command is missing, by path, at submit', async () => {
    const d = cluster.daemon;
    if (!d) throw new Error('daemon did not start');
    const res = await fetch(`${d.url}/v1/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...spec, trainer: { runner: 'command', options: { args: 'flags' } } }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('trainer.options.command');
  });

  it('refuses to start a worker on a GPU nvidia-smi does not list', () => {
    const res = spawnSync(process.execPath, [CLI, 'worker', '--nats', SHARED_NATS_URL, '--gpus', '0,7'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('--gpus 0,7: GPU 7 does not exist (nvidia-smi lists 0, 1)');
  });

  it('refuses a second worker on GPUs a worker on this host holds, and lets one start once it has gone', async () => {
    const claims = mkdtempSync(path.join(tmp, 'claims-'));
    const prefix = uniquePrefix();
    const env = { SWEEPD_GPU_CLAIMS_DIR: claims, SWEEPD_NATS_PREFIX: prefix };
    const holder = await startWorkerProcess({ nats: SHARED_NATS_URL, concurrency: 2, env });
    try {
      const second = spawnSync(process.execPath, [CLI, 'worker', '--nats', SHARED_NATS_URL, '--gpus', '1'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, ...env },
      });
      expect(second.status).toBe(1);
      expect(second.stderr).toContain(`GPU 1 of this host is already in use by process ${holder.pid}`);
      expect(second.stderr).toContain('give each its own GPUs (sweepd worker --gpus 0, --gpus 1)');
    } finally {
      expect(await holder.stop()).toBe(0);
      await deleteStreams(SHARED_NATS_URL, prefix);
    }
    // Its GPUs are free once it has gone.
    const after = await startWorkerProcess({ nats: SHARED_NATS_URL, concurrency: 1, env: { ...env, SWEEPD_NATS_PREFIX: prefix } });
    expect(await after.stop()).toBe(0);
    await deleteStreams(SHARED_NATS_URL, prefix);
  }, 120_000);

  it('a --gpus none worker on this GPU host shows its command trials no GPU and records none', async () => {
    const prefix = uniquePrefix();
    const env = { SWEEPD_NATS_PREFIX: prefix };
    const daemon = await startDaemonProcess({ args: ['--nats-url', SHARED_NATS_URL, '--workers', '0'], env, timeoutMs: 90_000 });
    const worker = await startWorkerProcess({ nats: SHARED_NATS_URL, gpus: 'none', env });
    try {
      const id = await submitStudy(daemon.url, {
        ...spec,
        name: 'command-cpu-worker',
        space: { mode: { type: 'categorical', choices: ['normal'] } },
        budget: { max_trials: 1, max_epochs: 2, parallelism: 1 },
      });
      const trial = await eventually(
        async () => {
          const t = (await (await fetch(`${daemon.url}/v1/studies/${id}/trials/0`)).json()) as Trial;
          return t.state === 'completed' ? t : undefined;
        },
        60_000,
        'the trial on the CPU worker to complete',
      );
      expect(trial.notes).not.toHaveProperty('gpu');
      const seen = JSON.parse(readFileSync(path.join(trial.notes.trial_dir as string, 'process.json'), 'utf8')) as {
        env: Record<string, string>;
      };
      expect(seen.env.CUDA_VISIBLE_DEVICES).toBe('');
    } finally {
      expect(await worker.stop()).toBe(0);
      expect(await daemon.stop()).toBe(0);
      await deleteStreams(SHARED_NATS_URL, prefix);
    }
  }, 150_000);
});

// The embedded daemon runs command trials inside its trainer processes (the local bus keeps NaN as
// it is; NATS messages are JSON, see the report's note on NaN over NATS).
describe('command runner in the embedded daemon', () => {
  let daemon: DaemonProcess;
  beforeAll(async () => {
    daemon = await startDaemonProcess({ args: ['--workers', '2'], timeoutMs: 90_000 });
  }, 100_000);
  afterAll(async () => {
    expect(await daemon?.stop()).toBe(0);
  });

  it('skips and counts bad report lines, keeps a NaN loss, and completes the trial', async () => {
    {
      const id = await submitStudy(daemon.url, {
        ...spec,
        name: 'command-embedded',
        space: { mode: { type: 'categorical', choices: ['badline'] } },
        budget: { max_trials: 1, max_epochs: 2, parallelism: 1 },
      });
      const t = await waitFor(
        async () => {
          const got = (await (await fetch(`${daemon.url}/v1/studies/${id}/trials/0`)).json()) as Trial;
          return got.state === 'completed' || got.state === 'failed' ? got : undefined;
        },
        90_000,
        'the trial to end',
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${daemon.logs().slice(-4000)}`);
      });
      expect(t.state, `${JSON.stringify(t)}\n${daemon.logs().slice(-3000)}`).toBe('completed');
      expect(t.epochs.map((e) => e.epoch)).toEqual([1, 2]);
      // The diverged loss was stored (JSON answers carry a non-finite number as null).
      expect(t.epochs[0]?.metrics).toHaveProperty('val_loss', null);
      expect(t.notes.bad_report_lines).toBe(2);
      expect(t.notes.bad_report_examples).toEqual([
        expect.stringContaining('metrics file line 1: not JSON'),
        'metrics file line 2: epoch: must be at least 1 (epochs are 1-based)',
      ]);
    }
  }, 120_000);

  it('runs examples/pytorch/finetune.yaml: 2 trials x 2 epochs of real PyTorch fine-tuning through the Python client', async () => {
    const example = parse(readFileSync(path.join(REPO_ROOT, 'examples/pytorch/finetune.yaml'), 'utf8')) as Record<string, unknown>;
    const short = {
      ...example,
      name: 'pytorch-example-e2e',
      // TPE's 10 start-up draws would take both trials: it would never use its model (refused at submit).
      strategy: { name: 'tpe', options: { seed: 1, n_startup_trials: 1 } },
      budget: { max_trials: 2, max_epochs: 2, parallelism: 2 },
    };
    // The example's median rule cannot act in 2 trials of 2 epochs: refused at submit, by path.
    await expect(submitStudy(daemon.url, short)).rejects.toThrow(/HTTP 400 .*stopping\.1.*median can never stop a trial/);
    const id = await submitStudy(daemon.url, {
      ...short,
      stopping: (example.stopping as { name: string }[]).filter((rule) => rule.name !== 'median'),
      // This file's nvidia-smi is fake: the worker gives each trial a GPU, which --device=auto
      // refuses to leave unused (CPU-only torch here), so the trials are told to train on the CPU.
      fixed: { ...(example.fixed as Record<string, unknown>), device: 'cpu' },
    });
    const board = await waitFor(
      async () => {
        const s = (await (await fetch(`${daemon.url}/v1/studies/${id}`)).json()) as { state: string };
        if (s.state === 'running') return undefined;
        return (await (await fetch(`${daemon.url}/v1/studies/${id}/leaderboard`)).json()) as { rows: { number: number }[] };
      },
      240_000,
      'the example study to end',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${daemon.logs().slice(-4000)}`);
    });
    expect(board.rows).toHaveLength(2);
    for (const row of board.rows) {
      const t = (await (await fetch(`${daemon.url}/v1/studies/${id}/trials/${row.number}`)).json()) as Trial & {
        epochs: { layers: { layer: string }[] }[];
      };
      expect(t.state, JSON.stringify({ reason: t.reason, notes: t.notes })).toBe('completed');
      expect(t.epochs.map((e) => e.epoch)).toEqual([1, 2]);
      for (const e of t.epochs) {
        const auc = e.metrics.val_auc_macro as number;
        expect(auc).toBeGreaterThan(0);
        expect(auc).toBeLessThanOrEqual(1);
        expect(e.layers.length, 'per-layer statistics from the client').toBeGreaterThan(0);
      }
    }
    const flags = await (await fetch(`${daemon.url}/v1/studies/${id}/export?format=flags`)).text();
    expect(flags).toMatch(/--learning_rate=\S+/);
  }, 300_000);
});

function writeFakeNvidiaSmi(dir: string, gpus: readonly string[]): void {
  const file = path.join(dir, 'nvidia-smi');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    file,
    `#!/bin/sh\n[ "$*" = "--query-gpu=index --format=csv,noheader" ] || { echo "unexpected: $*" >&2; exit 9; }\nprintf '${gpus.join('\\n')}\\n'\n`,
  );
  chmodSync(file, 0o755);
}
