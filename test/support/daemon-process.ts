import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
export async function startDaemonProcess(options: { args?: string[]; env?: Record<string, string>; dataDir?: string; timeoutMs?: number } = {}): Promise<DaemonProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'sweepd-e2e-'));
  const child = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', dataDir, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`daemon did not start within ${options.timeoutMs ?? 30_000} ms:\n${stderr}`)), options.timeoutMs ?? 30_000);
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
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
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
