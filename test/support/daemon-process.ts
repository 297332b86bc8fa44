import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO_ROOT, 'packages/api/bin/sweepd.js');

export interface DaemonProcess {
  url: string;
  child: ChildProcess;
  dataDir: string;
  /** Everything the daemon wrote to stderr (its JSON log). */
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `sweepd up` as a separate process on a free port and waits until it listens. */
export async function startDaemonProcess(
  options: { args?: string[]; env?: Record<string, string>; dataDir?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<DaemonProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? createdDataDir();
  const child = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', dataDir, ...(options.args ?? [])], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`daemon did not start within ${options.timeoutMs ?? 30_000} ms:\n${stderr}`)),
      options.timeoutMs ?? 30_000,
    );
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before listening:\n${stderr}`));
    });
  });
  return {
    url,
    child,
    dataDir,
    logs: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      const code = await new Promise<number | null>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (c) => resolve(c));
        child.kill(signal);
      });
      // After a crash (SIGKILL) a test may restart a daemon on the same directory; otherwise it is done with.
      if (ownDir && signal !== 'SIGKILL') rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

const createdDirs: string[] = [];

/**
 * A temp directory, removed when the test process exits (a restarted daemon may reuse its data
 * directory until then). Each worker started here also claims its GPUs
 * (a fake nvidia-smi's, or a GPU host's) in one of its own, so that workers tests run side by side
 * are not refused as two on one GPU; a test of that passes the directory.
 */
function createdDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sweepd-e2e-'));
  if (createdDirs.push(dir) === 1) {
    process.once('exit', () => {
      for (const d of createdDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/** Polls `check` until it returns a value other than undefined. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** The name the worker reports trials under (trials.worker in the store): `<hostname>:<pid>`. */
  name: string;
  /** Everything the worker wrote to stderr (its JSON log). */
  logs(): string;
  /** Its log lines parsed as JSON (lines that are not JSON are skipped). */
  logEntries(): Array<Record<string, unknown>>;
  /**
   * Sends `signal` to the worker's whole process group (the worker and its trainer child
   * processes), as an out-of-memory kill or a lost machine would, and waits for the worker to exit.
   */
  killGroup(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (a graceful drain) by default; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `sweepd worker --nats URL` as a separate process in its own process group (so a test can
 * kill it together with its trainer processes) and waits until it says it is ready.
 */
export async function startWorkerProcess(options: {
  nats: string;
  pool?: string;
  concurrency?: number;
  /** `--gpus` (the worker's default, every GPU nvidia-smi lists, when not given). */
  gpus?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<WorkerProcess> {
  const args = [
    CLI,
    'worker',
    '--nats',
    options.nats,
    '--pool',
    options.pool ?? 'default',
    '--concurrency',
    String(options.concurrency ?? 1),
    ...(options.gpus !== undefined ? ['--gpus', options.gpus] : []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, SWEEPD_GPU_CLAIMS_DIR: createdDataDir(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${CLI} worker`);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout?.resume();
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const timeoutMs = options.timeoutMs ?? 30_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroupNow(pid, 'SIGKILL');
      reject(new Error(`worker did not become ready within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    const onData = () => {
      if (stderr.includes('"worker ready"')) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${signal ?? code}) before it was ready:\n${stderr}`));
    });
  });
  const waitExit = () =>
    new Promise<number | null>((resolve) => {
      if (exited()) return resolve(child.exitCode);
      child.once('exit', (code) => resolve(code));
    });
  return {
    child,
    pid,
    name: `${hostname()}:${pid}`,
    logs: () => stderr,
    logEntries: () => parseJsonLines(stderr),
    async killGroup(signal = 'SIGKILL') {
      const gone = waitExit();
      killGroupNow(pid, signal);
      await gone;
    },
    async stop(signal = 'SIGTERM') {
      const gone = waitExit();
      if (!exited()) child.kill(signal);
      const code = await gone;
      // Whatever the worker left behind (trainer processes that outlived it) goes too.
      killGroupNow(pid, 'SIGKILL');
      return code;
    },
  };
}

function killGroupNow(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export function parseJsonLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut short or not ours
    }
  }
  return out;
}

/** Pids of the processes in a process group that are still running (zombies do not count): the command runner's own check. */
export { liveMembers as livePidsInGroup } from '../../packages/trainer/src/command/process-group.ts';
