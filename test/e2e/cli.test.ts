import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type DaemonProcess, REPO_ROOT, startDaemonProcess } from '../support/daemon-process.ts';

// The real `sweepd` binary as child processes against `sweepd up` (with a token), the simulate
// runner as the trainer: outputs and the documented exit codes (0 ok, 1 failed, 2 usage,
// 3 rejected, 4 unreachable, 6 the daemon failed).
const TOKEN = 'cli-e2e-token';
const dir = mkdtempSync(path.join(tmpdir(), 'sweepd-cli-'));

function specYaml(name: string, trials: number, epochs: number, delayMs: number): string {
  return `name: ${name}
objective: { metric: val_auc_macro, direction: maximize }
space:
  learning_rate: { type: float, low: 1.0e-5, high: 1.0e-1, log: true }
  optimizer: { type: categorical, choices: [sgd, adam] }
strategy: { name: random, options: { seed: 4 } }
budget: { max_trials: ${trials}, max_epochs: ${epochs}, parallelism: 2 }
trainer: { runner: simulate, options: { curve: lr_auc, epoch_delay_ms: ${delayMs} } }
`;
}

/** A study of two-epoch trials that run `script` with node (args: none); `space`, `strategy` and `budget` are YAML flow text. */
function nodeScriptSpec(study: { name: string; space: string; strategy: string; budget: string; script: string }): string {
  return `name: ${study.name}
objective: { metric: val_auc_macro, direction: maximize }
space: ${study.space}
strategy: ${study.strategy}
budget: { ${study.budget}, max_epochs: 2 }
trainer:
  runner: command
  options:
    command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(study.script)}]
    args: none
`;
}

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let daemon: DaemonProcess;

function sweepd(args: string[], options: { token?: string | null; api?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const auth = options.token === null ? [] : ['--token', options.token ?? TOKEN];
  const full = ['--api', options.api ?? daemon.url, ...auth];
  // Global options go after the command and its positionals.
  return new Promise((resolve) => {
    const env = { ...process.env, ...options.env };
    delete env.SWEEPD_API_TOKEN;
    delete env.SWEEPD_API_URL;
    execFile(
      process.execPath,
      // `worker` is no client command: it takes no --api or --token.
      [CLI, ...args, ...(args[0] === 'frobnicate' || args[0] === 'worker' ? [] : full)],
      { cwd: REPO_ROOT, env, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  // Generous: on a loaded 2-core machine tsx and PGlite take a minute to start.
  daemon = await startDaemonProcess({ args: ['--workers', '2', '--token', TOKEN], timeoutMs: 150_000 });
}, 180_000);
afterAll(async () => {
  expect(await daemon?.stop()).toBe(0);
  // The token never appears in the daemon's log.
  expect(daemon.logs()).not.toContain(TOKEN);
});

describe('sweepd CLI', () => {
  let done = '';

  it('submit --watch follows the study over the live stream to the end (plain lines when not a TTY), exit 0', async () => {
    const run = await sweepd(['submit', file('small.yaml', specYaml('cli-small', 4, 3, 10)), '--watch']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    done = lines[0] ?? '';
    expect(done).toMatch(/^st_[\w-]+$/);
    expect(lines.some((l) => /^trial \d+ running epoch \d\/3 best val_auc_macro=/.test(l))).toBe(true);
    for (let n = 0; n < 4; n++) expect(lines.some((l) => l.startsWith(`trial ${n} completed epoch 3/3 best val_auc_macro=0.`))).toBe(true);
    expect(lines.at(-1)).toBe(`study ${done} completed`);
  }, 120_000);

  it('submit --watch | head -1: the reader goes away after the first line, and the CLI ends quietly, exit 0', async () => {
    const env = { ...process.env };
    delete env.SWEEPD_API_TOKEN;
    const args = [CLI, 'submit', file('piped.yaml', specYaml('cli-piped', 3, 3, 200)), '--watch', '--api', daemon.url, '--token', TOKEN];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let first = '';
    child.stdout.on('data', (d: Buffer) => {
      first ||= d.toString().split('\n')[0] as string;
      child.stdout.destroy(); // as `head -1` does once it has its line
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(first).toMatch(/^st_[\w-]+$/);
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at .*\(/);
    expect(code).toBe(0);
  }, 120_000);

  it('SIGTERM with a watch attached: the daemon stops within seconds and starts no more trials', async () => {
    const own = await startDaemonProcess({ args: ['--workers', '1'], timeoutMs: 150_000 });
    const env = { ...process.env };
    delete env.SWEEPD_API_TOKEN;
    const submitted = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [CLI, 'submit', file('sigterm.yaml', specYaml('cli-sigterm', 6, 3, 1500)), '--api', own.url],
        { cwd: REPO_ROOT, env },
        (err, stdout) => (err ? reject(err) : resolve(stdout.trim())),
      ),
    );
    const watch = spawn(process.execPath, [CLI, 'watch', submitted, '--api', own.url], { cwd: REPO_ROOT, env, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 3_000));
    const t0 = Date.now();
    const code = await own.stop('SIGTERM');
    const seconds = (Date.now() - t0) / 1000;
    watch.kill();
    expect(code).toBe(0);
    // Before: the watcher's reconnects held the server open and the study ran to its end (about 30 s).
    expect(seconds).toBeLessThan(15);
    const afterSignal = own
      .logs()
      .split('\n')
      .slice(
        own
          .logs()
          .split('\n')
          .findIndex((l) => l.includes('shutting down')),
      )
      .filter((l) => l.includes('"study completed"'));
    expect(afterSignal).toEqual([]);
  }, 200_000);

  it('ls, watch of a finished study, and export in every format', async () => {
    const ls = await sweepd(['ls']);
    expect(ls.code).toBe(0);
    // A header, aligned columns, the best value rounded to 4 decimals.
    expect(ls.stdout).toMatch(/^id\s+name\s+state\s+trials\s+best\s+reason\n/);
    expect(ls.stdout).toMatch(new RegExp(`^${done}\\s+cli-small\\s+completed\\s+4/4\\s+0\\.\\d{4}$`, 'm'));
    const lines = ls.stdout.trimEnd().split('\n');
    const stateAt = lines[0]?.indexOf('state') ?? -1;
    for (const l of lines.slice(1)) expect(l.slice(stateAt)).toMatch(/^(running|completed|stopped|failed) /);

    // The leaderboard whole, and a page of it.
    const board = await sweepd(['leaderboard', done]);
    expect(board.code, board.stderr).toBe(0);
    const rowsOf = (text: string) => text.trimEnd().split('\n').slice(1); // below the header
    expect(rowsOf(board.stdout)).toHaveLength(4);
    const page = await sweepd(['leaderboard', done, '--limit', '2', '--offset', '1']);
    expect(page.code, page.stderr).toBe(0);
    expect(rowsOf(page.stdout)).toEqual([...rowsOf(board.stdout).slice(1, 3), '… 1 more']);
    expect((await sweepd(['leaderboard', done, '--limit', 'x'])).code).toBe(2);

    const watch = await sweepd(['watch', done]);
    expect(watch.code).toBe(0);
    expect(watch.stdout.trim().split('\n').at(-1)).toBe(`study ${done} completed`);

    const json = await sweepd(['export', done, '--format', 'json']);
    expect(json.code).toBe(0);
    const best = JSON.parse(json.stdout) as { study: string; trial: number; config: Record<string, unknown> };
    expect(best.study).toBe(done);
    expect(Object.keys(best.config).sort()).toEqual(['learning_rate', 'optimizer']);
    expect((await sweepd(['export', done, '--format', 'yaml'])).stdout).toContain(`study: ${done}`);
    const flags = (await sweepd(['export', done, '--format', 'flags'])).stdout;
    expect(flags.endsWith('\n')).toBe(true);
    expect(flags.trim().split(' ').sort()).toEqual([
      `--learning_rate=${best.config.learning_rate}`,
      `--optimizer=${best.config.optimizer}`,
    ]);
    const env = (await sweepd(['export', done, '--format', 'env'])).stdout;
    expect(env.trim().split('\n').sort()).toEqual([`LEARNING_RATE=${best.config.learning_rate}`, `OPTIMIZER=${best.config.optimizer}`]);

    const trial = await sweepd(['trial', done, String(best.trial)]);
    expect(trial.code, trial.stderr).toBe(0);
    expect(trial.stdout).toMatch(new RegExp(`^trial ${best.trial} of ${done} · completed · best val_auc_macro 0\\.\\d{4}\n`));
    expect(trial.stdout).toContain(`  params: learning_rate=`);
    expect(trial.stdout).toMatch(/^ {2}val_auc_macro by epoch \(3\): 0\.\d{4} → 0\.\d{4} → 0\.\d{4}$/m);
    expect(trial.stdout).toMatch(/^ {2}diagnosis: \S/m);
    expect((await sweepd(['trial', done, '99'])).code).toBe(3);
    expect((await sweepd(['trial', done, 'x'])).code).toBe(2);
  }, 120_000);

  it('watch on a terminal redraws the table in place (cursor up, clear below) instead of scrolling a new one', async () => {
    const submitted = await sweepd(['submit', file('tty.yaml', specYaml('cli-tty', 6, 100, 300))]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    // script(1) gives the CLI a pseudo-terminal, sized as a user's would be.
    const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
    const cmd = ['stty cols 150 rows 30;', ...[process.execPath, CLI, 'watch', id, '--api', daemon.url, '--token', TOKEN].map(quote)].join(
      ' ',
    );
    const env = { ...process.env };
    delete env.SWEEPD_API_TOKEN;
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let raw = '';
    let stopped = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        raw += d.toString();
        // Once a few frames are on the screen, end the study: the watch must end with it.
        if (!stopped && raw.split('\x1b[J').length > 4) {
          stopped = true;
          void fetch(`${daemon.url}/v1/studies/${id}/stop`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
        }
      });
      child.once('exit', resolve);
    });
    expect(stopped).toBe(true);
    expect(code).toBe(1); // a stopped study is not a success
    const out = raw.replaceAll('\r\n', '\n');
    expect(out).not.toContain('\x1b[2J'); // never a full-screen clear
    // Frames: each ends with a clear-below (never one from its top left, which tmux scrolls into its
    // history); every frame after the first starts by moving up exactly over the one before.
    const pieces = out.split('\x1b[J');
    const frames = pieces.slice(0, -1);
    expect(frames.length).toBeGreaterThan(3);
    const linesOf = (frame: string) => frame.split('\n').length - 1;
    for (let i = 1; i < frames.length; i++) {
      expect((frames[i] as string).startsWith(`\x1b[${linesOf(frames[i - 1] as string)}A\r`), `frame ${i}`).toBe(true);
      expect(linesOf(frames[i - 1] as string)).toBeLessThanOrEqual(29);
    }
    expect((frames.at(-1) as string).replaceAll('\x1b[K', '')).toMatch(
      /^rank\s+trial\s+learning_rate\s+optimizer\s+best\s+epoch\s+state\s+reason$/m,
    );
    expect((pieces.at(-1) as string).trimEnd().split('\n').at(-1)).toBe(`study ${id} stopped: stopped by user`);
  }, 240_000);

  it('up on a busy port says which port and what to do, exit 5', async () => {
    const port = new URL(daemon.url).port;
    const run = await new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'up', '--port', port, '--data-dir', path.join(dir, 'busy'), '--workers', '0'],
        { cwd: REPO_ROOT, timeout: 200_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr).toContain(`sweepd: port ${port} on 127.0.0.1 is in use — pass --port or stop the other process`);
    // Found before anything was made: no database in the data directory it was given.
    expect(existsSync(path.join(dir, 'busy', 'db'))).toBe(false);
    // quickstart with that port given: the same, not Node's raw EADDRINUSE and exit 1.
    const quick = await new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'quickstart', '--port', port, '--data-dir', path.join(dir, 'busy-quick'), '--exit'],
        { cwd: REPO_ROOT, timeout: 200_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(quick.code, quick.stderr).toBe(5);
    expect(quick.stderr).toContain(`sweepd: port ${port} on 127.0.0.1 is in use — pass another --port or stop the other process`);
  }, 240_000);

  it('up names what is wrong with its port from the environment and with a data directory that is a file', async () => {
    const up = (args: string[], env: Record<string, string> = {}) =>
      new Promise<Run>((resolve) => {
        execFile(
          process.execPath,
          [CLI, 'up', '--workers', '0', ...args],
          { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    // Named as the environment's, not as a --port never given.
    const badEnvPort = await up(['--data-dir', path.join(dir, 'env-port')], { SWEEPD_PORT: 'abc' });
    expect(badEnvPort.code).toBe(2);
    expect(badEnvPort.stderr).toContain("SWEEPD_PORT must be an integer from 0 to 65535 (got 'abc')");
    const notADir = path.join(dir, 'not-a-dir');
    writeFileSync(notADir, 'name: x\n');
    const fileAsDir = await up(['--port', '0', '--data-dir', notADir]);
    expect(fileAsDir.code).not.toBe(0);
    expect(fileAsDir.stderr).toContain(`data directory ${notADir} is a file, not a directory: give --data-dir a directory`);
  }, 120_000);

  it('a study whose every trial failed reads as failed: submit --watch exits 1 with the reason, ls shows it', async () => {
    const spec = nodeScriptSpec({
      name: 'cli-fails',
      space: '{ learning_rate: { type: float, low: 1.0e-4, high: 1.0e-1, log: true } }',
      strategy: '{ name: random, options: { seed: 1 } }',
      budget: 'max_trials: 2, parallelism: 2',
      script: "console.error('cannot open /data/train'); process.exit(3)",
    });
    const run = await sweepd(['submit', file('fails.yaml', spec), '--watch']);
    const id = run.stdout.split('\n')[0] as string;
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^study ${id} failed: .*cannot open /data/train`, 'm'));
    const ls = await sweepd(['ls']);
    expect(ls.stdout).toMatch(new RegExp(`^${id}\\s+cli-fails\\s+failed\\s+2/2 \\(2 failed\\)\\s+-\\s+.*cannot open /data/train`, 'm'));
    const exported = await sweepd(['export', id]);
    expect(exported.code).toBe(3);
    // Its trials reported nothing at all: not "without failing", as if some had reported it.
    expect(exported.stderr).toContain(`study ${id} failed: no trial reported val_auc_macro: there is no config to export`);
  }, 120_000);

  it('export of a study that failed (every trial with a value diverged) prints its best with why, and exits 1', async () => {
    // Each trial reports a value, then a NaN train_loss: the study fails, as no config of it trains stably.
    const script =
      "const r = (e, loss) => console.log('@sweepd ' + JSON.stringify({ sweepd: 1, epoch: e, metrics: { val_auc_macro: 0.6, train_loss: loss } }));" +
      "r(1, 0.7); r(2, 'NaN');";
    const spec = nodeScriptSpec({
      name: 'cli-diverged',
      space: '{ learning_rate: { type: float, low: 0.1, high: 1, log: true } }',
      strategy: '{ name: random, options: { seed: 3 } }',
      budget: 'max_trials: 2, parallelism: 1',
      script: script,
    });
    const run = await sweepd(['submit', file('diverged.yaml', spec), '--watch']);
    const id = run.stdout.split('\n')[0] as string;
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const flags = await sweepd(['export', id, '--format', 'flags']);
    expect(flags.code, flags.stderr).toBe(1);
    expect(flags.stdout).toMatch(/^--learning_rate=0\.\d+\n$/);
    expect(flags.stderr).toContain(`note: study ${id} failed (all 2 trials diverged`);
  }, 120_000);

  it('a trial that reported a high value and then crashed is never the best config', async () => {
    // mode crash reports 0.9 at epoch 1 of 2 and exits 3 (out of memory); mode ok completes its 2 epochs at 0.6.
    const script =
      "const p = JSON.parse(require('fs').readFileSync(process.env.SWEEPD_PARAMS_FILE, 'utf8'));" +
      "const crash = p.mode === 'crash';" +
      "console.log('@sweepd ' + JSON.stringify({ sweepd: 1, epoch: 1, metrics: { val_auc_macro: crash ? 0.9 : 0.6 } }));" +
      "if (crash) { console.error('CUDA out of memory'); process.exit(3); }" +
      "console.log('@sweepd ' + JSON.stringify({ sweepd: 1, epoch: 2, metrics: { val_auc_macro: 0.6 } }));";
    const spec = nodeScriptSpec({
      name: 'cli-crash-best',
      space: '{ mode: { type: categorical, choices: [crash, ok] } }',
      strategy: '{ name: grid }',
      budget: 'max_trials: 2, parallelism: 2',
      script: script,
    });
    const run = await sweepd(['submit', file('crash-best.yaml', spec), '--watch']);
    const id = run.stdout.split('\n')[0] as string;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const flags = await sweepd(['export', id, '--format', 'flags']);
    expect(flags.code, flags.stderr).toBe(0);
    expect(flags.stdout).toContain('--mode=ok');
    const ls = await sweepd(['ls']);
    expect(ls.stdout).toMatch(new RegExp(`^${id}\\s+cli-crash-best\\s+completed\\s+2/2 \\(1 failed\\)\\s+0\\.6000`, 'm'));
  }, 120_000);

  it('stop a trial and a study; a second stop is rejected (3)', async () => {
    const submitted = await sweepd(['submit', file('slow.yaml', specYaml('cli-slow', 6, 100, 1000))]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    const trial = await sweepd(['stop', id, '1']);
    expect(trial.code, trial.stderr).toBe(0);
    expect(trial.stdout).toBe(`trial 1 of ${id} stopping\n`);
    const study = await sweepd(['stop', id]);
    expect(study.code, study.stderr).toBe(0);
    // Its running trials end when they have stopped; the line says how many are still stopping.
    expect(study.stdout).toMatch(
      new RegExp(`^study ${id} stopped(; \\d+ trials? (is|are) still stopping \\(sweepd watch ${id} follows them to their end\\))?\n$`),
    );
    const again = await sweepd(['stop', id]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('has already ended (stopped): only a running study can be stopped');
    expect((await sweepd(['watch', id])).code).toBe(1); // a stopped study is not a success
    const noTrial = await sweepd(['stop', done, '99']);
    expect(noTrial.code).toBe(3);
  }, 120_000);

  it('rejected (3): an invalid spec with every problem by path, a missing token, an unknown id', async () => {
    const bad = await sweepd([
      'submit',
      file('bad.yaml', 'name: bad\nobjective: { direction: up }\nspace: {}\nbudget: { max_trials: 0, max_epochs: 1 }\n'),
    ]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(`sweepd: ${path.join(dir, 'bad.yaml')}: invalid spec`);
    expect(bad.stderr).toMatch(/objective\.direction: /);
    expect(bad.stderr).toMatch(/budget\.max_trials: /);
    const anonymous = await sweepd(['ls'], { token: null });
    expect(anonymous.code).toBe(3);
    expect(anonymous.stderr).toContain('API token');
    // Said for the CLI, not only as the HTTP header to send.
    expect(anonymous.stderr).toContain('--token TOKEN or SWEEPD_API_TOKEN');
    const wrong = await sweepd(['ls'], { token: 'nope' });
    expect(wrong.code).toBe(3);
    const unknown = await sweepd(['export', 'st_nope']);
    expect(unknown.code).toBe(3);
    // Which daemon said so: with the wrong one (SWEEPD_API_URL unset), the id is not a daemon bug.
    expect(unknown.stderr).toContain(`no study with id 'st_nope' (at ${daemon.url})`);
  }, 240_000);

  it('usage (2) and unreachable (4)', async () => {
    expect((await sweepd(['frobnicate'])).code).toBe(2);
    const bogus = await sweepd(['ls', '--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("sweepd: unknown option '--bogus' (this command takes --api, --token, --limit, --offset)");
    expect((await sweepd(['submit'])).code).toBe(2);
    expect((await sweepd(['submit', path.join(dir, 'missing.yaml')])).code).toBe(2);
    // No spec at all is said here, naming the file, not sent to be refused as "request body is empty".
    const empty = await sweepd(['submit', file('empty.yaml', ' \n')]);
    expect([empty.code, empty.stderr]).toEqual([
      2,
      `sweepd: ${path.join(dir, 'empty.yaml')} is empty: write the spec in it (YAML or JSON)\n`,
    ]);
    const utf16 = path.join(dir, 'utf16.yaml');
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name: x\n', 'utf16le')]));
    expect((await sweepd(['submit', utf16])).stderr).toBe(`sweepd: ${utf16} is not UTF-8 text (UTF-16, or binary): save it as UTF-8\n`);
    expect((await sweepd(['submit', dir])).stderr).toBe(`sweepd: ${dir} is a directory: give the spec file\n`);
    const latin1 = path.join(dir, 'latin1.yaml');
    writeFileSync(latin1, Buffer.from('name: caf\xe9\n', 'latin1'));
    expect((await sweepd(['submit', latin1])).stderr).toBe(
      `sweepd: ${latin1} is not UTF-8 text (Latin-1, or another encoding): save it as UTF-8\n`,
    );
    expect((await sweepd(['export', done, '--format', 'xml'])).code).toBe(2);
    // Node reads '-1' after --limit as a missing value ("argument is ambiguous"): said as the value it is.
    const negative = await sweepd(['leaderboard', done, '--limit', '-1']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain("sweepd: --limit must be an integer from 1 to 100000 (got '-1')");
    // A value forgotten before the next option: that option is named as what it got.
    expect((await sweepd(['leaderboard', done, '--offset'])).stderr).toContain(
      "sweepd: --offset got '--api', which starts with a dash: write --offset=--api if that is the value meant",
    );
    expect((await sweepd(['ls', '--bogus'])).code).toBe(2);
    const extra = await sweepd(['ls', 'x']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("unexpected argument 'x'");
    const badPool = await sweepd(['worker', '--nats', 'nats://127.0.0.1:4222', '--pool', 'bad pool']);
    expect(badPool.code).toBe(2);
    expect(badPool.stderr).toContain(
      "--pool 'bad pool' may hold only ASCII letters, digits and _ . : - and must start with an ASCII letter, a digit or _",
    );
    const httpNats = await sweepd(['worker', '--nats', 'http://user:pw@127.0.0.1:4222']);
    expect(httpNats.code).toBe(2);
    expect(httpNats.stderr).toContain(
      "--nats: the NATS URL must start with nats:// or tls:// and name a host (got 'http://***@127.0.0.1:4222')",
    );
    // up's --nats-url is taken by worker too, and named as given.
    const httpNatsUrl = await sweepd(['worker', '--nats-url', 'http://127.0.0.1:4222']);
    expect(httpNatsUrl.code).toBe(2);
    expect(httpNatsUrl.stderr).toContain('--nats-url: the NATS URL must start with nats:// or tls://');
    const both = await sweepd(['worker', '--nats', 'nats://a:4222', '--nats-url', 'nats://b:4222']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('worker takes --nats or --nats-url (the same option), not both');
    const noSlots = await sweepd(['worker', '--nats', 'nats://127.0.0.1:4222', '--concurrency', '0']);
    expect(noSlots.code).toBe(2);
    expect(noSlots.stderr).toContain("--concurrency must be a positive integer (got '0')");
    // A tfjs backend asked for that cannot train here: refused before the worker joins a pool.
    const noBackend = await sweepd(['worker', '--nats', 'nats://127.0.0.1:4222', '--gpus', 'none'], {
      env: { SWEEPD_TF_BACKEND: 'tensorflow-gpu' },
    });
    expect(noBackend.code).toBe(1);
    expect(noBackend.stderr).toContain(
      'SWEEPD_TF_BACKEND=tensorflow-gpu needs @tensorflow/tfjs-node-gpu, which is not installed here: install it (npm install @tensorflow/tfjs-node-gpu), or unset SWEEPD_TF_BACKEND',
    );
    const notANumber = await sweepd(['stop', done, 'abc']);
    expect(notANumber.code).toBe(2);
    expect(notANumber.stderr).toContain("TRIAL must be a trial number, an integer from 0 to 999999999 (got 'abc')");
    // A negative number reads to Node as an option: said as the trial number it is not.
    for (const command of ['trial', 'stop']) {
      const negative = await sweepd([command, done, '-1']);
      expect(negative.code).toBe(2);
      expect(negative.stderr.split('\n')[0]).toBe("sweepd: TRIAL must be a trial number, an integer from 0 to 999999999 (got '-1')");
      // Past what the API takes: bad usage (2), said once, not the daemon's refusal (3) printed twice.
      const tooLarge = await sweepd([command, done, '1000000000']);
      expect(tooLarge.code).toBe(2);
      expect(tooLarge.stderr.split('\n')[0]).toBe(
        "sweepd: TRIAL must be a trial number, an integer from 0 to 999999999 (got '1000000000')",
      );
    }
    const farOffset = await sweepd(['ls', '--offset', '99999999999']);
    expect(farOffset.code).toBe(2);
    expect(farOffset.stderr.split('\n\n')[0]).toBe("sweepd: --offset must be an integer from 0 to 999999999 (got '99999999999')");
    const hugeLimit = await sweepd(['leaderboard', done, '--limit', '99999999999999999999999']);
    expect(hugeLimit.code).toBe(2);
    expect(hugeLimit.stderr.split('\n\n')[0]).toBe("sweepd: --limit must be an integer from 1 to 100000 (got '99999999999999999999999')");
    // An option before the command is one, not a command named '--bogus'.
    const bogusFirst = await sweepd(['--bogus', 'ls']);
    expect(bogusFirst.code).toBe(2);
    expect(bogusFirst.stderr.split('\n')[0]).toBe(
      "sweepd: unknown option '--bogus': before the command, sweepd takes --api URL, --token T, --help",
    );
    // An empty page would read as "nothing there"; a page past the end says where the rows end.
    const noRows = await sweepd(['ls', '--limit', '0']);
    expect(noRows.code).toBe(2);
    expect(noRows.stderr).toContain("--limit must be an integer from 1 to 100000 (got '0')");
    const pastEnd = await sweepd(['leaderboard', done, '--offset', '1000']);
    expect(pastEnd.code).toBe(0);
    expect(pastEnd.stdout).toBe('no trials from rank 1001 on: there are 4\n');
    // A bad bus setting in the environment is bad usage (2), as a bad option is, said before connecting.
    const badAckWait = await sweepd(['worker', '--nats', 'nats://127.0.0.1:4222'], { env: { SWEEPD_NATS_ACK_WAIT_MS: '1000' } });
    expect(badAckWait.code).toBe(2);
    expect(badAckWait.stderr).toContain("SWEEPD_NATS_ACK_WAIT_MS must be a whole number of milliseconds, at least 2000 (got '1000')");
    const badApi = await sweepd(['ls'], { api: 'notaurl' });
    expect(badApi.code).toBe(2);
    expect(badApi.stderr).toContain("--api must be an http:// or https:// URL (got 'notaurl')");
    const badPort = await sweepd(['ls'], { api: 'http://127.0.0.1:99999' });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain(
      "--api is not a valid URL (got 'http://127.0.0.1:99999'): check the host and the port (at most 65535)",
    );
    const help = await sweepd(['up', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: sweepd up [options]');
    expect(help.stdout).toContain('--database-url');
    expect(help.stdout).not.toContain('join a NATS worker pool');
    const down = await sweepd(['ls'], { api: 'http://127.0.0.1:9' });
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('cannot reach the sweepd daemon');
    expect((await sweepd(['watch', done], { api: 'http://127.0.0.1:9' })).code).toBe(4);
  }, 240_000);

  it("a daemon that fails to answer (HTTP 500: its database down, say) exits 6, not 3 (refused) nor 1 (study failed); a proxy's 502/503 is unreachable (4)", async () => {
    // What the daemon answers when its store throws (http/app.ts's onError), and what a proxy in front of it answers
    // while it is down (not JSON). Every request is answered, the retries of a submit included.
    let status = 500;
    const seen: string[] = [];
    const failing = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (status === 500) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
      else res.writeHead(status, { 'content-type': 'text/html' }).end(`<html><body>${status} from the proxy</body></html>`);
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = failing.address() as AddressInfo;
      const api = `http://127.0.0.1:${port}`;
      const run = await sweepd(['ls'], { api });
      expect(run.code).toBe(6);
      expect(run.stderr).toContain('internal error (HTTP 500: the daemon failed to answer; its log says why');
      status = 502;
      const gateway = await sweepd(['ls'], { api });
      expect(gateway.code).toBe(4);
      expect(gateway.stderr).toContain('502 Bad Gateway (HTTP 502: the daemon did not answer through the proxy or gateway in front of it');
      // submit repeats its keyed request on a 503 (0.5 s, 1 s, 2 s, 4 s apart), then says so as unreachable.
      status = 503;
      seen.length = 0;
      const submit = await sweepd(['submit', file('gateway.yaml', specYaml('cli-gateway', 1, 1, 0))], { api });
      expect(submit.code).toBe(4);
      expect(submit.stderr).toContain('HTTP 503: the daemon did not answer through the proxy or gateway');
      expect(seen).toEqual(Array(5).fill('POST /v1/studies'));
    } finally {
      failing.close();
    }
  });
});
