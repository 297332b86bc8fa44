import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteStreams, uniquePrefix } from '../../packages/core/src/bus/nats/test-env.ts';
import { SHARED_NATS_URL } from '../fault/harness.ts';
import { CLI, REPO_ROOT, waitFor } from '../support/daemon-process.ts';

// A supervisor (systemd, a test, a script) that stops a process as soon as it says it is ready
// must get the graceful shutdown, not Node's default for SIGTERM, which kills the process where
// it stands: a worker with the job it just took, a daemon with its store open.
const tmp = mkdtempSync(path.join(tmpdir(), 'sweepd-signal-ready-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI and sends `signal` in the same tick its output first holds `ready`. */
function signalWhenReady(args: string[], ready: string, signal: NodeJS.Signals, env: Record<string, string> = {}): Promise<Ended> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return ended(child, (out) => out.includes(ready), signal);
}

function ended(
  child: ChildProcess,
  isReady: (out: string) => boolean,
  signal: NodeJS.Signals,
  options: { group?: boolean } = {},
): Promise<Ended> {
  let stdout = '';
  let stderr = '';
  let sent = false;
  const onData = () => {
    if (sent || !isReady(stdout + stderr)) return;
    sent = true;
    if (options.group && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  };
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    onData();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    onData();
  });
  return new Promise((resolve) => child.once('close', (code, sig) => resolve({ code, signal: sig, stdout, stderr })));
}

describe('a process signalled the moment it says it is ready', () => {
  it('sweepd worker drains and exits 0, each of five times', async () => {
    const prefix = uniquePrefix();
    try {
      for (let i = 0; i < 5; i++) {
        const env = {
          SWEEPD_NATS_PREFIX: prefix,
          SWEEPD_GPU_CLAIMS_DIR: path.join(tmp, `claims-${i}`),
          SWEEPD_CACHE_DIR: path.join(tmp, 'cache'),
        };
        const end = await signalWhenReady(['worker', '--nats', SHARED_NATS_URL, '--gpus', 'none'], '"worker ready"', 'SIGTERM', env);
        expect({ code: end.code, signal: end.signal }, end.stderr).toEqual({ code: 0, signal: null });
        expect(end.stderr).toContain('draining');
      }
    } finally {
      await deleteStreams(SHARED_NATS_URL, prefix);
    }
  }, 90_000);

  it('sweepd up shuts down and exits 0, each of three times', async () => {
    for (let i = 0; i < 3; i++) {
      const args = ['up', '--port', '0', '--data-dir', path.join(tmp, `up-${i}`), '--workers', '0'];
      // Its log says it is up before startDaemon returns: the signal comes while it still starts.
      const end = await signalWhenReady(args, '"msg":"sweepd is up"', 'SIGTERM');
      expect({ code: end.code, signal: end.signal }, end.stderr).toEqual({ code: 0, signal: null });
      expect(end.stderr).toContain('"stopped"');
    }
  }, 120_000);

  it('sweepd quickstart, Ctrl-C while its trials train, shuts down, exits 130, and says truly that they run again at the next sweepd up', async () => {
    const dataDir = path.join(tmp, 'quick-int');
    // Ctrl-C reaches the whole foreground group: quickstart and its trainer processes.
    const child = spawn(process.execPath, [CLI, 'quickstart', '--port', '0', '--data-dir', dataDir], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const end = await ended(child, (out) => TRAINING.test(out), 'SIGINT', { group: true });
    expect({ code: end.code, signal: end.signal }, end.stdout + end.stderr).toEqual({ code: 130, signal: null });
    const study = /as study (\S+):/.exec(end.stdout)?.[1];
    const trial = Number(TRAINING.exec(end.stdout)?.[1]);
    expect(end.stdout).toContain(
      `SIGINT: shutting down before study ${study} ended; its running trials stop, and run again from scratch ` +
        `the next time a daemon starts on this data directory (npx sweepd up --data-dir ${dataDir})`,
    );
    await expectRunAgain(dataDir, study, trial);
  }, 240_000);

  it('sweepd quickstart whose terminal closes while its trials train shuts down, exits 129, and its trials run again at the next sweepd up', async () => {
    const dataDir = path.join(tmp, 'quick-hup');
    // A pseudo-terminal closed under it: SIGHUP, and every later write to it fails (EIO).
    const res = spawnSync('python3', ['-c', CLOSE_TERMINAL, process.execPath, CLI, 'quickstart', '--port', '0', '--data-dir', dataDir], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(res.status, res.stderr).toBe(0);
    const [exit, study] = res.stdout.trim().split('\n');
    expect(exit, res.stdout).toBe('129');
    await expectRunAgain(dataDir, study, 0);
  }, 240_000);
});

/** A line of quickstart's plain leaderboard that says a trial trains. */
const TRAINING = /trial (\d+) running epoch/;

/**
 * Runs argv[1:] on a pseudo-terminal until trial 0 of the study it submits trains (asked of the
 * daemon: the terminal shows a screen, not lines), closes the terminal, and prints the exit code
 * and the study's id.
 */
const CLOSE_TERMINAL = `
import json, os, pty, re, signal, sys, time, urllib.error, urllib.request
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b""
while not re.search(rb"as study (\\S+):", seen):
    seen += os.read(fd, 65536)
url = re.search(rb"is up at (http://\\S+)", seen).group(1).decode()
study = re.search(rb"as study (\\S+):", seen).group(1).decode()
os.set_blocking(fd, False)
def state():
    try:
        return json.load(urllib.request.urlopen(f"{url}/v1/studies/{study}/trials/0"))["state"]
    except urllib.error.HTTPError:
        return None  # not made yet
while state() != "running":
    try:
        os.read(fd, 65536)  # the screen keeps coming: a full terminal would hold its writer
    except BlockingIOError:
        pass
    time.sleep(0.1)
os.close(fd)
# A shell in between (bash, an SSH session) passes its jobs a hang-up, then the kernel sends
# another as the shell exits: the second must not cut the shutdown short.
time.sleep(0.05)
os.kill(pid, signal.SIGHUP)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
print(study)
`;

/** Starts sweepd up on `dataDir` and waits for trial `n` of `study` to run again as its second delivery. */
async function expectRunAgain(dataDir: string, study: string | undefined, n: number): Promise<void> {
  const up = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', dataDir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stopped = ended(up, () => false, 'SIGTERM');
  try {
    let stdout = '';
    up.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const url = await waitFor(async () => /listening on (http:\/\/\S+)/.exec(stdout)?.[1], 60_000, 'the daemon to listen');
    const attempt = await waitFor(
      async () => {
        const t = (await (await fetch(`${url}/v1/studies/${study}/trials/${n}`)).json()) as { attempt: number | null };
        return (t.attempt ?? 0) >= 2 ? t.attempt : undefined;
      },
      90_000,
      `trial ${n} of study ${study} to run again`,
    );
    expect(attempt).toBe(2);
  } finally {
    up.kill('SIGTERM');
    expect((await stopped).code).toBe(0);
  }
}
