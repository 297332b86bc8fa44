import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EpochRecord, Params, TrialJob } from '@sweepd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { tfRecord } from '../tensorboard/fixtures.ts';
import { EVENT_TYPE } from '../tensorboard/proto.ts';
import { liveMembers } from './process-group.ts';
import { CommandRunner } from './runner.ts';

// Real processes: the fixture script speaks the protocol by hand and misbehaves on request.
const SCRIPT = fileURLToPath(new URL('../../../../test/fixtures/command/trial.py', import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'sweepd-command-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const runner = new CommandRunner({ cacheDir: path.join(root, 'cache') });

let n = 0;
function job(params: Params, options: Record<string, unknown> = {}, maxEpochs = 3): TrialJob {
  n++;
  return {
    studyId: 'st_test',
    trialId: `tr_${n}`,
    number: n,
    params,
    maxEpochs,
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    trainer: { runner: 'command', options: { command: ['python3', SCRIPT], ...options } },
    pool: 'default',
  };
}

async function run(j: TrialJob, abortAfter?: (epochs: EpochRecord[]) => boolean) {
  const epochs: EpochRecord[] = [];
  const logs: string[] = [];
  const controller = new AbortController();
  const outcome = await runner.run(j, {
    signal: controller.signal,
    report: async (e) => {
      epochs.push(e);
      if (abortAfter?.(epochs)) controller.abort(new Error('median: below the median at epoch 1'));
    },
    log: (m) => logs.push(m),
  });
  const trialDir = path.join(runner.trialsDir, j.trialId);
  const proc = JSON.parse(readFileSync(path.join(trialDir, 'process.json'), 'utf8')) as {
    pgid: number;
    cwd: string;
    argv: string[];
    stdin_closed: boolean;
    env: Record<string, string>;
  };
  return { outcome, epochs, logs, proc, trialDir };
}

/** Whether kill(-pgid, 0) finds no process (zombies included) within `ms`. */
async function groupGone(pgid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
      throw err;
    }
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('command runner, with real processes', () => {
  it('runs a trial to the end: flags, environment, fresh directory, reports in order', async () => {
    const r = await run(job({ learning_rate: 0.0123456789012345, mode: 'normal', verbose: true }, { env: { EXTRA_X: 'y' } }));
    expect(r.outcome.state, JSON.stringify(r.outcome)).toBe('completed');
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(r.epochs[0]?.layers).toEqual([{ layer: 'fc', trainable: true, kernelMovement: 0.01 }]);
    // The first epoch also says where the trial runs (its end may never be heard); the others are the script's own.
    expect(r.epochs[0]?.notes).toEqual({ device: 'cpu', trial_dir: r.trialDir, host: hostname() });
    expect(r.epochs[1]?.notes).toEqual({ device: 'cpu' });
    expect(r.outcome.notes).toMatchObject({ trial_dir: r.trialDir, host: hostname() });
    expect(r.proc.argv.slice(1)).toEqual(['--learning_rate=0.0123456789012345', '--mode=normal', '--verbose']);
    expect(r.proc.cwd).toBe(r.trialDir);
    expect(r.proc.stdin_closed).toBe(true);
    expect(r.proc.env).toMatchObject({
      SWEEPD_TRIAL_ID: 'tr_1',
      SWEEPD_TRIAL_DIR: r.trialDir,
      SWEEPD_MAX_EPOCHS: '3',
      SWEEPD_OBJECTIVE: 'val_auc_macro',
      PYTHONUNBUFFERED: '1',
      EXTRA_X: 'y',
    });
    expect(readFileSync(path.join(r.trialDir, 'stdout.log'), 'utf8')).toBe('done\n');
    expect(liveMembers(r.proc.pgid)).toEqual([]);
  }, 30_000);

  it('records no GPU it did not give the trial: an inherited CUDA_VISIBLE_DEVICES may name one that does not exist', async () => {
    const before = process.env.CUDA_VISIBLE_DEVICES;
    process.env.CUDA_VISIBLE_DEVICES = '0';
    try {
      const r = await run(job({ mode: 'normal' }));
      expect(r.outcome.state, JSON.stringify(r.outcome)).toBe('completed');
      expect(r.outcome.notes).not.toHaveProperty('gpu');
      expect(r.epochs[0]?.notes).not.toHaveProperty('gpu');
      expect(r.logs.join('\n')).not.toMatch(/on GPU/);
    } finally {
      if (before === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
      else process.env.CUDA_VISIBLE_DEVICES = before;
    }
  }, 30_000);

  it('a runner told to hide the GPUs (a --gpus none worker) shows its trials none, and records none', async () => {
    const cpuOnly = new CommandRunner({ cacheDir: path.join(root, 'cache'), hideGpus: true });
    const j = job({ mode: 'normal' });
    const outcome = await cpuOnly.run(j, { signal: new AbortController().signal, report: async () => {}, log: () => {} });
    expect(outcome.state, JSON.stringify(outcome)).toBe('completed');
    expect(outcome.notes).not.toHaveProperty('gpu');
    const proc = JSON.parse(readFileSync(path.join(cpuOnly.trialsDir, j.trialId, 'process.json'), 'utf8')) as {
      env: Record<string, string>;
    };
    expect(proc.env.CUDA_VISIBLE_DEVICES).toBe('');
  }, 30_000);

  it('says where the trial runs with every report of its first epoch: a repeat replaces the first, notes and all', async () => {
    const r = await run(job({ mode: 'repeat-first' }));
    expect(r.outcome.state, JSON.stringify(r.outcome)).toBe('completed');
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 1, 2, 3]);
    const place = { device: 'cpu', trial_dir: r.trialDir, host: hostname() };
    expect(r.epochs.map((e) => e.notes)).toEqual([place, place, { device: 'cpu' }, { device: 'cpu' }]);
  }, 30_000);

  it('runs a later delivery beside an earlier one that still runs (two workers on one trials directory): one curve each', async () => {
    // The first delivery's worker went unheard past the ack wait, and NATS gave the job to a second
    // worker started in the same directory; the first runs on. The second wiped the shared directory
    // and read both scripts' lines as its own: epochs 4, 5, 1, 6, 2, …
    const j = job({ learning_rate: 0.01, mode: 'normal', epoch_s: 0.3 }, {}, 6);
    const first = new AbortController();
    let atEpoch2: () => void = () => {};
    const reached = new Promise<void>((resolve) => {
      atEpoch2 = resolve;
    });
    const firstRun = runner.run(j, {
      signal: first.signal,
      report: async (e) => {
        if (e.epoch === 2) atEpoch2();
      },
      log: () => {},
    });
    await reached;
    const second = new CommandRunner({ cacheDir: path.join(root, 'cache') });
    const epochs: EpochRecord[] = [];
    const outcome = await second.run(j, { signal: new AbortController().signal, report: async (e) => void epochs.push(e), log: () => {} });
    first.abort(new Error('superseded'));
    await firstRun;
    expect(outcome.state, JSON.stringify(outcome)).toBe('completed');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(epochs[0]?.notes?.trial_dir).toBe(`${path.join(runner.trialsDir, j.trialId)}.2`);
  }, 30_000);

  it('stops a trial that ignores the stop request and SIGTERM: SIGKILL to the group, nothing survives', async () => {
    const r = await run(job({ mode: 'stubborn', epoch_s: 0.3 }, { stop_grace_s: 0.3, term_grace_s: 0.3 }, 50), (e) => e.length === 1);
    expect(r.outcome).toMatchObject({ state: 'stopped', reason: 'median: below the median at epoch 1' });
    expect(r.outcome.notes?.signals_sent).toEqual(['SIGTERM', 'SIGKILL']);
    expect(JSON.parse(readFileSync(path.join(r.trialDir, 'control.json'), 'utf8'))).toEqual({
      stop: true,
      reason: 'median: below the median at epoch 1',
    });
    // Nothing of the group runs when the runner returns; the orphaned child's zombie is init's to reap, soon after.
    expect(liveMembers(r.proc.pgid)).toEqual([]);
    expect(await groupGone(r.proc.pgid, 3_000)).toBe(true);
  }, 30_000);

  it('stops a trial whose stop came while its process was starting (a daemon shut down at that moment)', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const outcome = await runner.run(job({ mode: 'normal', epoch_s: 60 }, { stop_grace_s: 0.5, term_grace_s: 0.5 }, 5), {
      signal: controller.signal,
      report: async () => {},
      // 'started …' is logged once the process runs: the stop lands between its spawn and the runner's watch.
      log: (m) => {
        if (m.startsWith('started ')) controller.abort(new Error('shutdown'));
      },
    });
    expect(outcome).toMatchObject({ state: 'stopped', reason: 'shutdown' });
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);

  it('lets a script that reads the control file end on its own within the grace period', async () => {
    const r = await run(job({ mode: 'normal', epoch_s: 0.3 }, { stop_grace_s: 5 }, 50), (e) => e.length === 1);
    expect(r.outcome.state).toBe('stopped');
    expect(r.outcome.notes?.signals_sent).toBeUndefined();
    expect(readFileSync(path.join(r.trialDir, 'stderr.log'), 'utf8')).toContain('stop requested: median');
  }, 30_000);

  it('fails a script that crashes on its own once asked to stop, though sweepd then ended the child it left behind', async () => {
    const r = await run(job({ mode: 'crash-on-stop', epoch_s: 0.3 }, { stop_grace_s: 5, term_grace_s: 0.5 }, 50), (e) => e.length === 1);
    expect(r.outcome).toMatchObject({
      state: 'failed',
      reason:
        'exit code 1: RuntimeError: DataLoader worker (pid 123) is killed by signal: Bus error (after it was asked to stop: median: below the median at epoch 1)',
    });
    // The signal went to the child it left, after it had exited: not a stop forced on the script.
    expect(r.outcome.notes?.signals_sent).toEqual(['SIGTERM']);
  }, 30_000);

  it('fails a crash with the stderr tail in the reason and the notes', async () => {
    const r = await run(job({ mode: 'crash' }));
    expect(r.outcome.state).toBe('failed');
    expect(r.outcome.reason).toBe('exit code 3: RuntimeError: CUDA out of memory (simulated)');
    expect(r.outcome.notes?.stderr_tail).toEqual(['Traceback (most recent call last):', 'RuntimeError: CUDA out of memory (simulated)']);
    expect(r.epochs).toHaveLength(1);
  }, 30_000);

  it('fails a trial that stops reporting as hung and ends its group', async () => {
    // A slow start (Python's imports on a busy machine) is allowed for by its own timeout. A hung
    // script gets no stop_grace_s (it would wait the minute out here, past the test's timeout).
    const r = await run(job({ mode: 'hang' }, { start_timeout_s: 60, report_timeout_s: 1, stop_grace_s: 60, term_grace_s: 0.5 }));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'hung: no report for 1 s (report_timeout_s)' });
    expect(r.outcome.notes?.signals_sent).toEqual(['SIGTERM']);
    expect(liveMembers(r.proc.pgid)).toEqual([]);
  }, 30_000);

  it('skips and counts bad lines, accepts NaN, waits for a half-written line, and completes', async () => {
    const r = await run(job({ mode: 'badline' }, {}, 2));
    expect(r.outcome.state, JSON.stringify(r.outcome)).toBe('completed');
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(r.epochs[0]?.metrics.val_loss).toBeNaN();
    expect(r.outcome.notes?.bad_report_lines).toBe(2);
    expect(r.logs.filter((l) => l.startsWith('skipped a bad report line'))).toEqual([
      expect.stringContaining('metrics file line 1: not JSON'),
      expect.stringContaining('metrics file line 2: epoch: must be at least 1'),
    ]);
  }, 30_000);

  it('fails a trial whose objective was never reported, naming it and what was reported', async () => {
    const r = await run(job({ mode: 'misspell' }, {}, 2));
    expect(r.outcome).toMatchObject({
      state: 'failed',
      reason: "objective metric 'val_auc_macro' was never reported; reported: train_loss, val_auc",
    });
  }, 30_000);

  it('reads @sweepd lines on stdout, with placeholders in the argv', async () => {
    const r = await run(
      job(
        { mode: 'stdout', learning_rate: 1e-7 },
        { args: 'placeholders', command: ['python3', SCRIPT, '--learning_rate={learning_rate}'] },
        2,
      ),
    );
    expect(r.outcome.state, JSON.stringify(r.outcome)).toBe('completed');
    expect(r.proc.argv.slice(1)).toEqual(['--learning_rate=1e-7']);
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2]);
  }, 30_000);

  it('reads epochs from the TensorBoard event files a script writes (tensorboard option)', async () => {
    const events = fileURLToPath(new URL('../tensorboard/fixtures/tf1', import.meta.url));
    const copy = 'import os, shutil, sys; shutil.copytree(sys.argv[1], os.path.join(os.environ["SWEEPD_TRIAL_DIR"], "tb"))';
    const j = job(
      {},
      {
        command: ['python3', '-c', copy, events],
        args: 'none',
        tensorboard: {
          dir: 'tb',
          steps_per_epoch: 10,
          tags: { 'eval/eval/AUC': 'val_auc_macro', 'train/losses/total_loss': 'train_loss' },
        },
      },
    );
    const epochs: EpochRecord[] = [];
    const outcome = await runner.run(j, { signal: new AbortController().signal, report: async (e) => void epochs.push(e), log: () => {} });
    expect(outcome.state, JSON.stringify(outcome)).toBe('completed');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(Object.keys(epochs[0]?.metrics ?? {}).sort()).toEqual(['train_loss', 'val_auc_macro']);
    expect(epochs[0]?.layers.find((l) => l.layer === 'InceptionV4/Conv2d_1a_3x3')?.std).toBeGreaterThan(0);
  }, 30_000);

  it('a script that writes its event files elsewhere fails naming tensorboard.dir, not only the missing objective', async () => {
    const j = job(
      {},
      { command: ['python3', '-c', 'pass'], args: 'none', tensorboard: { dir: 'train', tags: { 'eval/eval/AUC': 'val_auc_macro' } } },
    );
    const outcome = await runner.run(j, { signal: new AbortController().signal, report: async () => {}, log: () => {} });
    expect(outcome.state).toBe('failed');
    expect(outcome.reason).toMatch(
      /^objective metric 'val_auc_macro' was never reported; reported: no epoch at all; 1 problem\(s\) reading the reports, the first: tensorboard: no event file \(events\.out\.tfevents\.\*\) appeared under \S+\/train \(tensorboard\.dir 'train', in the trial directory\): does the script write its summaries there\?$/,
    );
  }, 30_000);

  it.each([
    ['killed by the stop signal', 'time.sleep(60)'],
    // Honouring the control file and exiting 0: no signal is sent, and the fragment is still one.
    ['exiting 0 when asked to stop', 'exec("while not os.path.exists(os.environ[\'SWEEPD_CONTROL_FILE\']): time.sleep(0.05)")'],
  ])(
    'a script stopped mid-epoch (%s): the fragment of its last epoch in the event files is not reported as an epoch',
    async (_, wait) => {
      // The fixture's epochs 1–3 (steps 5–30), then a loss at step 35 of epoch 4, whose evaluation never came.
      const events = path.join(mkdtempSync(path.join(root, 'events-')), 'tb');
      cpSync(fileURLToPath(new URL('../tensorboard/fixtures/tf1', import.meta.url)), events, { recursive: true });
      const fragment = EVENT_TYPE.fromObject({
        wall_time: 1,
        step: 35,
        summary: { value: [{ tag: 'losses/total_loss', simple_value: 0.5 }] },
      });
      writeFileSync(path.join(events, 'train', 'events.out.tfevents.2.host'), tfRecord(EVENT_TYPE.encode(fragment).finish()));
      const copy = `import os, shutil, sys, time; shutil.copytree(sys.argv[1], os.path.join(os.environ["SWEEPD_TRIAL_DIR"], "tb")); ${wait}`;
      const tags = { 'eval/eval/AUC': 'val_auc_macro', 'train/losses/total_loss': 'train_loss' };
      const j = job(
        {},
        { command: ['python3', '-c', copy, events], args: 'none', tensorboard: { dir: 'tb', steps_per_epoch: 10, tags } },
        5,
      );
      const epochs: EpochRecord[] = [];
      const logs: string[] = [];
      const controller = new AbortController();
      const report = async (e: EpochRecord) => {
        epochs.push(e);
        if (epochs.length === 3) controller.abort(new Error('median: below the median at epoch 3'));
      };
      const outcome = await runner.run(j, { signal: controller.signal, report, log: (m) => logs.push(m) });
      expect(outcome.state).toBe('stopped');
      expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
      expect(logs).toContain(
        "tensorboard: epoch 4 (steps 35–35) was cut short (the script was stopped or failed) and is not reported: it lacks 'val_auc_macro', which every earlier epoch held",
      );
    },
    30_000,
  );

  it('an objective mapped under a tag the event files lack: the failure names the scalars they hold unmapped', async () => {
    const events = fileURLToPath(new URL('../tensorboard/fixtures/tf1', import.meta.url));
    const copy = 'import os, shutil, sys; shutil.copytree(sys.argv[1], os.path.join(os.environ["SWEEPD_TRIAL_DIR"], "tb"))';
    const tags = { 'eval/AUC': 'val_auc_macro', 'train/losses/total_loss': 'train_loss' }; // TF-slim's eval run is eval/eval/AUC
    const j = job({}, { command: ['python3', '-c', copy, events], args: 'none', tensorboard: { dir: 'tb', steps_per_epoch: 10, tags } });
    const outcome = await runner.run(j, { signal: new AbortController().signal, report: async () => {}, log: () => {} });
    expect(outcome.state).toBe('failed');
    expect(outcome.reason).toMatch(
      /^objective metric 'val_auc_macro' was never reported; reported: train_loss; the event files also hold scalars that tensorboard\.tags does not map: .*eval\/eval\/AUC/,
    );
  }, 30_000);

  it('a misspelt epoch-metric tag ends no epoch: the failure still names the scalars the event files hold', async () => {
    const events = fileURLToPath(new URL('../tensorboard/fixtures/tf2', import.meta.url));
    const copy = 'import os, shutil, sys; shutil.copytree(sys.argv[1], os.path.join(os.environ["SWEEPD_TRIAL_DIR"], "tb"))';
    // Keras writes validation/epoch_auc; without steps_per_epoch the first entry's metric is the clock.
    const tags = { 'validation/epoch_auc_macro': 'val_auc_macro', 'train/epoch_loss': 'train_loss' };
    const j = job({}, { command: ['python3', '-c', copy, events], args: 'none', tensorboard: { dir: 'tb', tags } });
    const outcome = await runner.run(j, { signal: new AbortController().signal, report: async () => {}, log: () => {} });
    expect(outcome.state).toBe('failed');
    expect(outcome.reason).toMatch(
      /^objective metric 'val_auc_macro' was never reported; reported: no epoch at all; the event files also hold scalars that tensorboard\.tags does not map: .*validation\/epoch_auc/,
    );
  }, 30_000);

  it('a script that trains past budget.max_epochs is stopped there, completed, its later epochs not recorded', async () => {
    const script = [
      'import json, os, time',
      'for epoch in range(1, 61):',
      '    with open(os.environ["SWEEPD_METRICS_FILE"], "a") as f:',
      '        f.write(json.dumps({"sweepd": 1, "epoch": epoch, "metrics": {"val_auc_macro": 0.5 + epoch / 10}}) + "\\n")',
      '    time.sleep(0.3)',
    ].join('\n');
    const j = job({}, { command: ['python3', '-c', script], args: 'none', stop_grace_s: 1, term_grace_s: 1 }, 3);
    const epochs: EpochRecord[] = [];
    const logs: string[] = [];
    const started = Date.now();
    const outcome = await runner.run(j, {
      signal: new AbortController().signal,
      report: async (e) => void epochs.push(e),
      log: (m) => logs.push(m),
    });
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(outcome).toMatchObject({
      state: 'completed',
      reason: expect.stringMatching(
        /^reported epochs beyond budget\.max_epochs 3 \(up to \d+\): not recorded, and the trial was stopped there$/,
      ),
    });
    expect(logs.filter((l) => l.includes('beyond budget.max_epochs 3'))).toHaveLength(1);
    // Stopped soon after epoch 4 (SIGTERM after its grace: about 3 s in all), not left to run its sixty (18 s).
    expect(Date.now() - started).toBeLessThan(12_000);
  }, 30_000);

  it('reports printed on stdout without the @sweepd prefix: the failure says so', async () => {
    const script = 'import json\nfor e in (1, 2): print(json.dumps({"sweepd": 1, "epoch": e, "metrics": {"val_auc_macro": 0.7}}))';
    const j = job({}, { command: ['python3', '-c', script], args: 'none' }, 2);
    const outcome = await runner.run(j, { signal: new AbortController().signal, report: async () => {}, log: () => {} });
    expect(outcome).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/; 2 stdout line\(s\) looked like reports but lack the '@sweepd ' prefix, so they were not read$/),
    });
  }, 30_000);

  it('an AUC average a script left out because no class had an AUC: the failure says why, from the notes it sent', async () => {
    const script =
      'import json\nfor e in (1, 2): print("@sweepd " + json.dumps({"sweepd": 1, "epoch": e, "metrics": {"train_loss": 0.5}, ' +
      '"notes": {"auc_undefined_classes": ["cat", "dog"]}}), flush=True)';
    const j = job({}, { command: ['python3', '-c', script], args: 'none' }, 2);
    const outcome = await runner.run(j, { signal: new AbortController().signal, report: async () => {}, log: () => {} });
    expect(outcome).toMatchObject({
      state: 'failed',
      reason:
        "objective metric 'val_auc_macro' was never reported; reported: train_loss. No class had an AUC to average " +
        '(cat, dog had one label value in validation): validate on data that holds both label values of each class',
    });
  }, 30_000);

  it('a trial id of dots alone (a forged job) keeps its directory inside the trials directory', async () => {
    const script = 'import json\nprint("@sweepd " + json.dumps({"sweepd": 1, "epoch": 1, "metrics": {"val_auc_macro": 0.5}}), flush=True)';
    const j = { ...job({}, { command: ['python3', '-c', script], args: 'none' }, 1), trialId: '..' };
    const outcome = await runner.run(j, { signal: new AbortController().signal, report: async () => {}, log: () => {} });
    expect(outcome.state).toBe('completed');
    expect(existsSync(path.join(runner.trialsDir, '__', 'stdout.log'))).toBe(true);
    expect(existsSync(path.join(runner.trialsDir, '..', 'stdout.log'))).toBe(false);
  }, 30_000);

  it('a damaged event file is a problem reading the reports, not a bad report line, and the failure names it', async () => {
    const events = fileURLToPath(new URL('../tensorboard/fixtures/tf1', import.meta.url));
    // The fixture's files, and one more whose first record's length checksum is wrong.
    const script = [
      'import os, shutil, sys',
      'tb = os.path.join(os.environ["SWEEPD_TRIAL_DIR"], "tb")',
      'shutil.copytree(sys.argv[1], tb)',
      'open(os.path.join(tb, "events.out.tfevents.1.damaged"), "wb").write(bytes([8] + [0] * 7 + [1, 2, 3, 4] + [0] * 12))',
    ].join('\n');
    const j = job(
      {},
      {
        command: ['python3', '-c', script, events],
        args: 'none',
        tensorboard: { dir: 'tb', steps_per_epoch: 10, tags: { 'train/losses/total_loss': 'train_loss' } },
      },
    );
    const logs: string[] = [];
    const r = {
      logs,
      outcome: await runner.run(j, { signal: new AbortController().signal, report: async () => {}, log: (m) => logs.push(m) }),
    };
    expect(r.outcome.state).toBe('failed');
    expect(r.outcome.reason).toMatch(
      /^objective metric 'val_auc_macro' was never reported; reported: train_loss; 1 problem\(s\) reading the reports, the first: tensorboard: .*damaged/,
    );
    expect(r.outcome.notes).toMatchObject({ report_problems: 1 });
    expect(r.outcome.notes?.bad_report_lines).toBeUndefined();
    expect(r.logs.filter((l) => l.startsWith('tensorboard: ') && l.includes('checksum mismatch'))).toHaveLength(1);
    expect(r.logs.some((l) => l.startsWith('skipped a bad report line'))).toBe(false);
  }, 30_000);

  it('fails clearly when the program does not exist, and starts each attempt in a fresh directory', async () => {
    const j = job({}, { command: ['no-such-program-sweepd'] });
    const outcome = await runner.run(j, { signal: new AbortController().signal, report: async () => {}, log: () => {} });
    expect(outcome.state).toBe('failed');
    expect(outcome.reason).toMatch(/^cannot start no-such-program-sweepd: not found on the PATH of the worker \(.*ENOENT/);
    expect(existsSync(path.join(runner.trialsDir, j.trialId, 'params.json'))).toBe(true);
  });
});
