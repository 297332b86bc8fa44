import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { EpochRecord, Runner, RunnerContext, TrialJob, TrialOutcome } from '@sweepd/core';
import type { FromChild, ToChild } from './messages.ts';

export interface ProcessPoolOptions {
  /** Trainer processes at most (one trial each at a time). */
  size: number;
  /** Extra environment for the trainer processes (e.g. SWEEPD_TF_BACKEND, SWEEPD_CACHE_DIR). */
  env?: Record<string, string>;
  /**
   * One GPU per trainer process (CUDA_VISIBLE_DEVICES ids, see gpuTrainerDevices): each process
   * started gets a device no live process holds. Size the pool to their number.
   */
  gpuDevices?: readonly string[];
  /** How long a stopped trial may take to wind down before its process is killed. */
  abortGraceMs?: number;
  log?: (message: string) => void;
}

interface Slot {
  child: ChildProcess;
  busy: boolean;
  ready: Promise<void>;
  device?: string;
}

/** Read by the tfjs runner's default thread count (an explicit `threads` option wins). */
export const TRAINER_THREADS_ENV = 'SWEEPD_TRAINER_THREADS';

/** Each trainer process's share of the cores: `size` processes each running their own gradient threads must not oversubscribe them. */
export function threadsPerProcess(size: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, size)));
}

const CHILD_ENTRY = fileURLToPath(new URL('./child-entry.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');

/** Raised when a trainer process dies mid-trial; the worker hands the trial back to the bus. */
export class TrainerProcessDied extends Error {
  constructor(
    detail: string,
    /** The signal that ended it, if one did. */
    readonly signal: NodeJS.Signals | null = null,
  ) {
    super(`trainer process died: ${detail}`);
    this.name = 'TrainerProcessDied';
  }
}

/** Signals a terminal sends its whole foreground process group: Ctrl-C, and its hang-up. */
const TERMINAL_SIGNALS: ReadonlySet<string> = new Set(['SIGINT', 'SIGHUP']);
/**
 * How long a trial whose trainer process died of a terminal's signal waits for its own stop: this
 * process's shutdown reaches the trials after it has closed its API (a grace of 2 s) and its study
 * engine. A trainer process signalled alone is reported crashed that much later.
 */
export const TERMINAL_STOP_WAIT_MS = 15_000;

/**
 * A Runner that trains each trial in a long-lived child process (runner chosen by the job's
 * `trainer.runner`). Processes are reused across trials so model and dataset caches stay warm.
 */
export class ProcessPoolRunner implements Runner {
  private readonly slots = new Set<Slot>();
  private readonly waiting: Array<(slot: Slot) => void> = [];
  private closed = false;

  constructor(private readonly options: ProcessPoolOptions) {}

  async run(job: TrialJob, ctx: RunnerContext): Promise<TrialOutcome> {
    try {
      const slot = await this.acquire();
      try {
        return await this.runIn(slot, job, ctx);
      } finally {
        this.release(slot);
      }
    } catch (err) {
      // Ctrl-C at the terminal (or its hang-up) reaches the trainer processes too, in this process's
      // group. They ignore it once started (child-entry.ts), but one still starting can die of it
      // before this process, which got the same signal, stops the trial to hand it back. That is a
      // shutdown, not a crash that spends one of the trial's deliveries.
      if (err instanceof TrainerProcessDied && err.signal !== null && TERMINAL_SIGNALS.has(err.signal)) {
        if (await abortedWithin(ctx.signal, TERMINAL_STOP_WAIT_MS)) return { state: 'stopped', reason: reasonOf(ctx.signal) };
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.slots].map((s) => stopChild(s.child)));
    this.slots.clear();
  }

  private runIn(slot: Slot, job: TrialJob, ctx: RunnerContext): Promise<TrialOutcome> {
    const { child } = slot;
    return new Promise<TrialOutcome>((resolve, reject) => {
      // Reports are forwarded in order, and the trial settles only after the last one was delivered.
      let reports: Promise<void> = Promise.resolve();
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (settle: () => void) => {
        cleanup();
        reports.then(settle, (err: unknown) => reject(err));
      };
      const onMessage = (message: FromChild) => {
        if (message.type === 'epoch') {
          const epoch: EpochRecord = message.epoch;
          reports = reports.then(() => ctx.report(epoch));
        } else if (message.type === 'log') ctx.log(message.message);
        else if (message.type === 'done') finish(() => resolve(message.outcome));
        else if (message.type === 'error')
          finish(() =>
            resolve({ state: 'failed', reason: `trainer error: ${firstLine(message.message)}`, notes: { error: message.message } }),
          );
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        this.slots.delete(slot);
        if (ctx.signal.aborted) finish(() => resolve({ state: 'stopped', reason: reasonOf(ctx.signal) }));
        else finish(() => reject(new TrainerProcessDied(signal ? `killed by ${signal}` : `exit code ${code}`, signal)));
      };
      const onAbort = () => {
        send(child, { type: 'abort', reason: reasonOf(ctx.signal) });
        killTimer = setTimeout(() => child.kill('SIGKILL'), this.options.abortGraceMs ?? 10_000);
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        ctx.signal.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      send(child, { type: 'run', job });
      if (ctx.signal.aborted) onAbort();
    });
  }

  private async acquire(): Promise<Slot> {
    if (this.closed) throw new Error('ProcessPoolRunner is closed');
    const idle = [...this.slots].find((s) => !s.busy);
    let slot: Slot;
    if (idle) slot = idle;
    else if (this.slots.size < this.options.size) slot = this.spawn();
    else slot = await new Promise<Slot>((resolve) => this.waiting.push(resolve));
    slot.busy = true;
    try {
      await slot.ready;
    } catch (err) {
      // Its process died while starting: a trial waiting for a slot gets a fresh one, as after a crash.
      this.release(slot);
      throw err;
    }
    return slot;
  }

  private release(slot: Slot): void {
    slot.busy = false;
    if (!this.slots.has(slot)) {
      // Its process died: a waiter gets a fresh one.
      const next = this.waiting.shift();
      if (next && !this.closed) next(this.spawn());
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      slot.busy = true;
      next(slot);
    }
  }

  private spawn(): Slot {
    const device = this.options.gpuDevices?.find((d) => ![...this.slots].some((s) => s.device === d));
    const child = fork(CHILD_ENTRY, [], {
      // tsx resolved from here, not from the cwd: `sweepd up` may be started in the user's own project.
      execArgv: ['--import', TSX_LOADER],
      // An operator's own SWEEPD_TRAINER_THREADS (or the pool's env option) wins over the even split.
      env: {
        [TRAINER_THREADS_ENV]: String(threadsPerProcess(this.options.size)),
        ...process.env,
        ...this.options.env,
        ...(device !== undefined ? { CUDA_VISIBLE_DEVICES: device } : {}),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const ready = new Promise<void>((resolve, reject) => {
      const onReady = (m: FromChild) => {
        if (m.type === 'ready') {
          child.off('message', onReady);
          child.off('exit', onEarlyExit);
          this.options.log?.(`trainer process ${m.pid} ready`);
          resolve();
        }
      };
      const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) =>
        reject(new TrainerProcessDied(signal ? `killed by ${signal} while starting` : `exited with code ${code} while starting`, signal));
      child.on('message', onReady);
      child.once('exit', onEarlyExit);
    });
    const slot: Slot = { child, busy: false, ready, ...(device !== undefined ? { device } : {}) };
    ready.catch(() => this.slots.delete(slot));
    child.on('exit', () => this.slots.delete(slot));
    this.slots.add(slot);
    return slot;
  }
}

function send(child: ChildProcess, message: ToChild): void {
  if (child.connected) child.send(message);
}

/** Whether `signal` aborts within `ms` (at once when it has already). */
function abortedWithin(signal: AbortSignal, ms: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function reasonOf(signal: AbortSignal): string {
  const r = signal.reason as unknown;
  return r instanceof Error ? r.message : String(r ?? 'stopped');
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.disconnect?.();
    child.kill('SIGTERM');
  });
}
