import { hostname } from 'node:os';
import { type Bus, type Logger, type Runner, silentLogger, type Subscription, type TrialJob } from '@sweepd/core';

export interface WorkerOptions {
  bus: Bus;
  /** The runner that trains every job (usually a ProcessPoolRunner, which isolates trials in child processes). */
  runner: Runner;
  pool?: string;
  concurrency?: number;
  name?: string;
  log?: Logger;
}

/** Raised to hand a job back to the bus (it is delivered again, to this or another worker). */
export class HandBack extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'HandBack';
  }
}

/**
 * Pulls trial jobs, runs them, and reports every epoch and the end. A trial that was stopped ends
 * 'stopped' with the stop's reason; one interrupted by shutdown or a crashed trainer process is
 * handed back to the bus, so no trial is lost.
 */
export async function startWorker(options: WorkerOptions): Promise<Subscription> {
  const { bus, runner } = options;
  const log = options.log ?? silentLogger;
  const worker = options.name ?? `${hostname()}:${process.pid}`;
  return bus.consumeJobs({ pool: options.pool ?? 'default', concurrency: options.concurrency ?? 1 }, async (job, control) => {
    const started = Date.now();
    // Counted over the trial's life, not just this job's deliveries (see TrialJob.priorAttempts).
    const attempt = (job.priorAttempts ?? 0) + control.attempt;
    const ids = { studyId: job.studyId, trialId: job.trialId, trial: job.number, attempt };
    log.info({ ...ids, runner: job.trainer.runner, params: job.params }, 'trial started');
    // Start and epoch reports are pipelined: epochs are stored idempotently by number, so their
    // order does not matter; only the final report must follow them all, and it waits for them.
    const published = new PublishWindow(REPORTS_IN_FLIGHT);
    // Once, before any epoch and the end: at once, or when a runner that waits (for a GPU) says so.
    let startSent = false;
    const sendStart = () => {
      if (startSent) return;
      startSent = true;
      published.add(bus.publishReport({ kind: 'start', studyId: job.studyId, trialId: job.trialId, worker, attempt }));
    };
    if (!runner.reportsStart) sendStart();
    const beat = setInterval(() => control.heartbeat(), 5_000);
    let outcome: Awaited<ReturnType<Runner['run']>>;
    try {
      outcome = await runner.run(job, {
        signal: control.signal,
        started: sendStart,
        report: async (epoch) => {
          sendStart();
          control.heartbeat();
          await published.add(bus.publishReport({ kind: 'epoch', studyId: job.studyId, trialId: job.trialId, ...epoch, attempt }));
        },
        log: (message) => log.info(ids, message),
      });
      sendStart();
      await published.drain();
    } catch (err) {
      if (control.stopReason !== undefined && control.stopReason !== 'shutdown') {
        outcome = { state: 'stopped', reason: control.stopReason };
      } else if (control.stopReason === 'shutdown') {
        // A run aborted at shutdown (the runner gave up, or a bus that had closed refused a report): nothing to warn of.
        log.info({ ...ids, err: String(err) }, 'trial handed back at shutdown');
        throw err;
      } else {
        log.warn({ ...ids, err: String(err) }, 'trial interrupted; handing it back');
        throw err;
      }
    } finally {
      clearInterval(beat);
    }
    if (control.stopReason === 'shutdown' && outcome.state !== 'completed') {
      log.info(ids, 'trial handed back at shutdown');
      throw new HandBack('worker shutting down');
    }
    if (control.stopReason !== undefined && outcome.state === 'completed') {
      // The runner finished its last epoch as the stop arrived: the trial did complete.
    } else if (control.stopReason !== undefined && outcome.state !== 'failed') {
      outcome = { ...outcome, state: 'stopped', reason: control.stopReason };
    }
    await bus.publishReport({ kind: 'final', studyId: job.studyId, trialId: job.trialId, ...outcome, attempt });
    log.info({ ...ids, state: outcome.state, reason: outcome.reason, seconds: (Date.now() - started) / 1000 }, 'trial ended');
  });
}

/** Reports one trial may have on their way at once before its runner waits. */
const REPORTS_IN_FLIGHT = 32;

/** Publishes that may overlap, up to a limit; the first failure is raised by add() or drain(). */
class PublishWindow {
  private readonly pending = new Set<Promise<void>>();
  private failure: unknown;

  constructor(private readonly limit: number) {}

  async add(publish: Promise<void>): Promise<void> {
    const tracked = publish.then(
      () => {
        this.pending.delete(tracked);
      },
      (err: unknown) => {
        this.pending.delete(tracked);
        this.failure ??= err;
      },
    );
    this.pending.add(tracked);
    if (this.failure !== undefined) throw this.failure;
    while (this.pending.size >= this.limit) await Promise.race(this.pending);
  }

  async drain(): Promise<void> {
    await Promise.all(this.pending);
    if (this.failure !== undefined) throw this.failure;
  }
}

export type { TrialJob };
