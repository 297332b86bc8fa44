import type { Report, TrialJob } from '../types.ts';
import type { Bus, JobConsumerOptions, JobControl, ReportSubscription, StopScope, Subscription } from './contract.ts';

/** A delivery a handler runs now: how to stop it, and which delivery of its trial it is (counting priorAttempts). */
interface RunningJob {
  controller: AbortController;
  reason?: string;
  attempt: number;
}

type JobHandler = (job: TrialJob, control: JobControl) => Promise<void>;

interface Consumer {
  pool: string;
  concurrency: number;
  active: number;
  handler: JobHandler;
  closed: boolean;
  inFlight: Set<Promise<void>>;
}

interface Pending {
  job: TrialJob;
  attempt: number;
}

export interface LocalBusOptions {
  /** Deliveries of one job before its trial is reported failed. */
  maxDeliver?: number;
  /** Reports handed to the report handler at once. */
  maxBatch?: number;
  /** Delay before a rejected report batch is delivered again; it doubles while the handler keeps rejecting. Default 200 ms. */
  retryDelayMs?: number;
  /** The longest delay between two deliveries of a rejected batch. Default 5 s. */
  maxRetryDelayMs?: number;
  /** Where rejected batches are told about. Default: standard error. */
  log?: (msg: string) => void;
}

/**
 * The in-process bus of the embedded daemon: same guarantees as the NATS bus, in memory.
 * A daemon crash loses its queue, which is fine: the queue is derived from the Store, and the
 * study loop re-dispatches queued and running trials when it starts.
 */
export class LocalBus implements Bus {
  readonly kind = 'local';
  private readonly queues = new Map<string, Pending[]>();
  /** trialIds queued or running: a second dispatch of one of them is a no-op. */
  private readonly known = new Set<string>();
  private readonly running = new Map<string, RunningJob>();
  private readonly consumers: Consumer[] = [];
  private readonly reports: Report[] = [];
  private reportHandler: ((batch: readonly Report[]) => Promise<void>) | undefined;
  private draining = false;
  /** Reports the handler has taken, ever: how caughtUp() knows the queue it started with is done. */
  private reportsTaken = 0;
  /** Set by close(): no more jobs are taken or delivered, while the runs it aborts may still report. */
  private closing = false;
  /** Set once close() is done: reports are refused too. */
  private closed = false;
  /** The one close in progress or done: a second close() waits for it. */
  private closingDone: Promise<void> | undefined;
  private readonly maxDeliver: number;
  private readonly maxBatch: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly log: (msg: string) => void;

  constructor(options: LocalBusOptions = {}) {
    this.maxDeliver = options.maxDeliver ?? 3;
    this.maxBatch = options.maxBatch ?? 1000;
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 200);
    this.maxRetryDelayMs = Math.max(this.retryDelayMs, options.maxRetryDelayMs ?? 5_000);
    this.log = options.log ?? ((msg) => process.stderr.write(`sweepd local bus: ${msg}\n`));
  }

  async dispatch(jobs: readonly TrialJob[]): Promise<void> {
    this.assertTakingWork();
    for (const job of jobs) {
      if (this.known.has(job.trialId)) continue;
      this.known.add(job.trialId);
      this.queue(job.pool).push({ job, attempt: 0 });
    }
    this.pumpJobs();
  }

  async stop(trialId: string, reason: string, scope: StopScope = {}): Promise<void> {
    const run = this.running.get(trialId);
    // A later delivery than the stop's scope runs on, and a queued one (always later) stays queued.
    if (scope.upToAttempt !== undefined && (!run || run.attempt > scope.upToAttempt)) return;
    if (run) {
      run.reason ??= reason;
      run.controller.abort(new Error(reason));
      return;
    }
    for (const q of this.queues.values()) {
      const i = q.findIndex((p) => p.job.trialId === trialId);
      if (i >= 0) {
        q.splice(i, 1);
        this.known.delete(trialId);
      }
    }
  }

  async consumeReports(handler: (batch: readonly Report[]) => Promise<void>): Promise<ReportSubscription> {
    this.assertTakingWork();
    if (this.reportHandler) throw new Error('LocalBus: reports already have a consumer');
    this.reportHandler = handler;
    // Reports are taken from the front, in order: once this many more have been taken, the ones queued now are.
    const target = this.reportsTaken + this.reports.length;
    queueMicrotask(() => void this.drainReports());
    return {
      close: async () => {
        this.reportHandler = undefined;
        while (this.draining) await new Promise((r) => setTimeout(r, 5));
      },
      caughtUp: async (timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        while (this.reportsTaken < target) {
          if (Date.now() >= deadline || this.reportHandler !== handler) return false;
          await new Promise((r) => setTimeout(r, 5));
        }
        return true;
      },
    };
  }

  async consumeJobs(options: JobConsumerOptions, handler: JobHandler): Promise<Subscription> {
    this.assertTakingWork();
    const consumer: Consumer = {
      pool: options.pool,
      concurrency: Math.max(1, options.concurrency),
      active: 0,
      handler,
      closed: false,
      inFlight: new Set(),
    };
    this.consumers.push(consumer);
    this.pumpJobs();
    return {
      close: async () => {
        consumer.closed = true;
        this.consumers.splice(this.consumers.indexOf(consumer), 1);
        await Promise.allSettled([...consumer.inFlight]);
      },
    };
  }

  async publishReport(report: Report): Promise<void> {
    this.assertOpen();
    this.reports.push(report);
    queueMicrotask(() => void this.drainReports());
  }

  /**
   * Aborts the running jobs ('shutdown') and waits for their handlers. Their reports are still taken
   * meanwhile and handed to the report handler before close() resolves, as the NATS bus keeps them:
   * a command trial's stop sequence lasts its stop_grace_s, and a script that does not read its
   * control file trains on through it, even to its last epoch (those epochs were lost, and the trial
   * trained again from scratch after the restart).
   */
  close(): Promise<void> {
    this.closingDone ??= this.shutDown();
    return this.closingDone;
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    for (const run of this.running.values()) {
      run.reason ??= 'shutdown';
      run.controller.abort(new Error('shutdown'));
    }
    await Promise.allSettled(this.consumers.flatMap((c) => [...c.inFlight]));
    await this.reportsHandedOver(CLOSE_REPORTS_MS);
    this.closed = true;
  }

  /** Waits until the queued reports are taken by a subscribed handler, or `ms` have passed (a handler whose store is away). */
  private async reportsHandedOver(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.reportHandler && (this.reports.length > 0 || this.draining) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    if (this.reports.length > 0) this.log(`closed with ${this.reports.length} report(s) not taken by the report handler`);
  }

  private queue(pool: string): Pending[] {
    let q = this.queues.get(pool);
    if (!q) {
      q = [];
      this.queues.set(pool, q);
    }
    return q;
  }

  private pumpJobs(): void {
    for (const consumer of this.consumers) {
      const q = this.queue(consumer.pool);
      while (!consumer.closed && consumer.active < consumer.concurrency && q.length > 0) {
        this.deliver(consumer, q.shift() as Pending);
      }
    }
  }

  private deliver(consumer: Consumer, pending: Pending): void {
    const { job } = pending;
    const attempt = pending.attempt + 1;
    const run: RunningJob = { controller: new AbortController(), attempt: (job.priorAttempts ?? 0) + attempt };
    this.running.set(job.trialId, run);
    consumer.active++;
    const control: JobControl = {
      signal: run.controller.signal,
      get stopReason() {
        return run.reason;
      },
      heartbeat() {},
      attempt,
    };
    const done = (async () => {
      let failed: unknown;
      try {
        await consumer.handler(job, control);
      } catch (err) {
        failed = err;
      }
      consumer.active--;
      this.running.delete(job.trialId);
      if (failed === undefined || run.reason !== undefined) {
        this.known.delete(job.trialId);
      } else if (attempt < this.maxDeliver && !this.closing) {
        this.log(
          `job of trial ${job.trialId} failed on delivery ${attempt} of ${this.maxDeliver}; delivering it again: ${messageOf(failed)}`,
        );
        this.queue(job.pool).push({ job, attempt });
      } else {
        this.known.delete(job.trialId);
        const reason = `delivery failed ${attempt} times; last error: ${messageOf(failed)}`;
        // At shutdown a delivery with deliveries left is not the trial's last: the next start dispatches it again.
        if (attempt >= this.maxDeliver && !this.closed) {
          await this.publishReport({ kind: 'final', studyId: job.studyId, trialId: job.trialId, state: 'failed', reason });
        }
      }
      if (!this.closing) this.pumpJobs();
    })();
    consumer.inFlight.add(done);
    void done.finally(() => consumer.inFlight.delete(done));
  }

  private async drainReports(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      let rejections = 0;
      while (this.reportHandler && this.reports.length > 0) {
        const batch = this.reports.slice(0, this.maxBatch);
        try {
          await this.reportHandler(batch);
          this.reports.splice(0, batch.length);
          this.reportsTaken += batch.length;
          rejections = 0;
        } catch (err) {
          // As the NATS bus does: the batch is kept, in order, and handed over again until the handler
          // takes it (dropping reports would lose trial results); the pause grows so a handler whose
          // store is away is not called in a tight loop, and is capped so it resumes soon after.
          const delay = Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** rejections);
          rejections++;
          this.log(
            `report handler rejected ${batch.length} report(s) (${rejections} time(s) in a row); delivering them again in ${delay} ms: ${messageOf(err)}`,
          );
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('LocalBus is closed');
  }

  private assertTakingWork(): void {
    if (this.closing) throw new Error('LocalBus is closed');
  }
}

/** How long close() waits for the report handler to take what the aborted runs reported. */
const CLOSE_REPORTS_MS = 10_000;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
