import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LineBuffer, TailLines } from './line-buffer.ts';
import { recordGroup, releaseGroup } from './orphan-groups.ts';
import { endGroup, trackGroup } from './process-group.ts';

export interface TrialProcessOptions {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout.log and stderr.log go here. */
  trialDir: string;
  controlFile: string;
  stderrTailLines: number;
  /** After SIGTERM to what is left of the group, how long before SIGKILL. */
  termGraceMs: number;
  /** Called with each complete stdout line (for `@sweepd ` reports). */
  onStdoutLine(line: string): void;
}

export interface ProcessEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The trial's script: its own process group, stdin closed, stdout and stderr kept to files in the
 * trial directory with a tail in memory. `stop` asks it politely (the control file), then signals
 * the group; `ended` settles once the leader exited, the rest of its group is gone and its output
 * is read to the end.
 */
export class TrialProcess {
  readonly ended: Promise<ProcessEnd>;
  readonly stderrTail: TailLines;
  /** Signals sweepd had to send to the group (after a stop, or to children left behind by an exit). */
  readonly signalsSent: NodeJS.Signals[] = [];
  private forcedStop = false;
  /** Why stdout.log or stderr.log stopped being written (a full disk), by file: they are cut short there. */
  readonly logErrors: Record<string, string> = {};
  private readonly pgid: number;
  private readonly leaderExit: Promise<ProcessEnd>;
  private stopping: Promise<void> | undefined;

  /**
   * Whether a stop had to signal the script while it still ran (it outlived the grace): its exit is
   * then sweepd's doing. Children ended after the script exited on its own do not count.
   */
  get forced(): boolean {
    return this.forcedStop;
  }

  private constructor(
    child: ChildProcess,
    private readonly options: TrialProcessOptions,
  ) {
    const pgid = child.pid as number;
    this.pgid = pgid;
    trackGroup(pgid);
    recordGroup(options.trialDir, pgid);
    this.stderrTail = new TailLines(options.stderrTailLines);
    const stdoutLines = new LineBuffer();
    const outFile = createWriteStream(path.join(options.trialDir, 'stdout.log'));
    const errFile = createWriteStream(path.join(options.trialDir, 'stderr.log'));
    // A full disk must not take the worker down: the logs are cut short, and the trial's notes say so
    // (read off the streams once closed); the in-memory tail is kept.
    for (const file of [outFile, errFile]) file.on('error', () => {});
    child.stdout?.on('data', (d: Buffer) => {
      outFile.write(d);
      for (const line of stdoutLines.push(d)) options.onStdoutLine(line);
    });
    child.stderr?.on('data', (d: Buffer) => {
      errFile.write(d);
      this.stderrTail.push(d);
    });
    const streamsClosed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const leaderExit = new Promise<ProcessEnd>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.leaderExit = leaderExit;
    this.ended = (async () => {
      const end = await leaderExit;
      // Children the script left behind (or that outlived a stop) go too; this throws if any survive SIGKILL.
      await (this.stopping ?? Promise.resolve());
      this.signalsSent.push(...(await endGroup(pgid, options.termGraceMs)));
      releaseGroup(options.trialDir);
      // Output still in the pipes is read to its end (a leftover child holding them is gone now).
      // (Unref'd: a bound on this wait, not a reason to keep a daemon that is shutting down alive.)
      await Promise.race([streamsClosed, new Promise((r) => setTimeout(r, 2_000).unref())]);
      const rest = stdoutLines.rest();
      if (rest !== undefined) options.onStdoutLine(rest);
      await Promise.all([closeStream(outFile), closeStream(errFile)]);
      // Read off the stream, not from its 'error' event, which may run after the stream has ended.
      for (const [name, file] of [
        ['stdout.log', outFile],
        ['stderr.log', errFile],
      ] as const)
        if (file.errored) this.logErrors[name] ??= file.errored.message;
      return end;
    })();
  }

  /** Starts the script; rejects when it cannot be started (no such program, no permission). */
  static start(options: TrialProcessOptions): Promise<TrialProcess> {
    const [program, ...args] = options.argv as [string, ...string[]];
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve(new TrialProcess(child, options)));
      child.once('error', (err) => {
        // ENOENT from spawn names no cause a user would recognise: say where it was looked for.
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        const where = program.includes('/') ? `no such file (${err.message})` : `not found on the PATH of the worker (${err.message})`;
        reject(new Error(`cannot start ${program}: ${missing ? where : err.message}`));
      });
    });
  }

  get pid(): number {
    return this.pgid;
  }

  /**
   * Writes the stop request (atomically: a reader sees the whole file or none), waits `graceMs`
   * for the script to exit on its own, then SIGTERMs the group and after `termGraceMs` SIGKILLs it.
   */
  stop(reason: string, graceMs: number): Promise<void> {
    this.stopping ??= (async () => {
      const tmp = `${this.options.controlFile}.tmp`;
      await writeFile(tmp, `${JSON.stringify({ stop: true, reason })}\n`);
      await rename(tmp, this.options.controlFile);
      // The grace timer is cleared when the script exits first: left to run, it kept a daemon told to
      // stop alive for the rest of stop_grace_s after everything had ended.
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<false>((r) => {
        graceTimer = setTimeout(() => r(false), graceMs);
      });
      const exited = await Promise.race([this.leaderExit.then(() => true), graceOver]);
      clearTimeout(graceTimer);
      // Once the leader is gone, `ended` ends whatever is left of its group (one of them signals at a time).
      if (exited) return;
      this.forcedStop = true;
      this.signalsSent.push(...(await endGroup(this.pgid, this.options.termGraceMs)));
    })();
    return this.stopping;
  }
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}
