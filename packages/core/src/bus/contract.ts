import type { Report, TrialJob } from '../types.ts';

export interface Subscription {
  /** Stops consuming; resolves when in-flight handlers have settled. */
  close(): Promise<void>;
}

/** The daemon's subscription to reports. */
export interface ReportSubscription extends Subscription {
  /**
   * Resolves once every report published before the subscription started has been handed to the
   * handler and taken (a restarted daemon reads what came in while it was down before it sends any
   * job out again), or after `timeoutMs`, resolving false.
   */
  caughtUp(timeoutMs: number): Promise<boolean>;
}

export interface ReportConsumerOptions {
  /**
   * Called when the bus finds that the jobs it held are gone (NATS came back without its storage):
   * the daemon sends its unfinished trials' jobs again. A job the bus still holds is refused as a
   * duplicate, so sending one too many is harmless. A bus that cannot lose jobs never calls it.
   */
  onJobsLost?(): void;
}

export interface StopScope {
  /**
   * Only the deliveries of the trial's job up to this one (counting priorAttempts): an earlier
   * delivery that runs on after a later one began, on a worker that was cut off for a while.
   */
  upToAttempt?: number;
}

/** What a job handler gets besides the job. */
export interface JobControl {
  /** Aborted when the daemon stops this trial, or the bus is closing. */
  signal: AbortSignal;
  /** Why `signal` was aborted: the stop reason, or 'shutdown'. */
  readonly stopReason: string | undefined;
  /** Tells the bus the job is still being worked on (so it is not redelivered). */
  heartbeat(): void;
  /** How many times this job has been handed out, counting this one. */
  attempt: number;
}

export interface JobConsumerOptions {
  pool: string;
  /** Jobs handled at once by this consumer. */
  concurrency: number;
}

/**
 * Carries jobs to workers, reports back to the daemon, and stop signals to running jobs.
 *
 * Delivery guarantees every implementation gives (the contract suite checks them):
 * - a job dispatched twice with the same trialId while still pending is delivered once;
 * - a job handler that throws or whose worker dies leaves the job to be delivered again;
 * - a job is acknowledged only after its handler resolves (which it does after publishing the final report);
 * - reports are delivered at least once and in publish order per trial; the report handler
 *   acknowledges a batch by resolving, and a rejected batch is delivered again;
 * - a report subscription's caughtUp() resolves only after the reports published before it started were taken;
 * - stop(trialId) aborts the handler running that trial, and a job stopped before it started
 *   is never handed to a handler; a stop scoped to deliveries up to N (upToAttempt) aborts only
 *   such a delivery, and a later one runs on or starts as if there were no stop.
 */
export interface Bus {
  readonly kind: string;

  // Daemon side.
  dispatch(jobs: readonly TrialJob[]): Promise<void>;
  stop(trialId: string, reason: string, scope?: StopScope): Promise<void>;
  consumeReports(handler: (batch: readonly Report[]) => Promise<void>, options?: ReportConsumerOptions): Promise<ReportSubscription>;
  /**
   * The pools a worker has joined on this bus, ever (a shared broker keeps them while the workers
   * come and go), where the bus can tell: a study for any other pool waits until a worker joins it.
   */
  knownPools?(): Promise<readonly string[]>;
  /**
   * The pools with a worker on them now (waiting for a job, or running one), where the bus can
   * tell: a known pool missing here is one whose workers have all gone.
   */
  livePools?(): Promise<readonly string[]>;
  /**
   * The trials the workers on this bus run now, where the bus can tell: a trial missing here has
   * lost its worker (killed, or cut off from the broker), and waits for another to take its job.
   */
  runningTrials?(): Promise<ReadonlySet<string>>;

  // Worker side.
  consumeJobs(options: JobConsumerOptions, handler: (job: TrialJob, control: JobControl) => Promise<void>): Promise<Subscription>;
  publishReport(report: Report): Promise<void>;

  close(): Promise<void>;
}
