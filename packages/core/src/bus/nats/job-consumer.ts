import type { Consumer, ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Report, TrialJob } from '../../types.ts';
import type { JobConsumerOptions, JobControl, Subscription } from '../contract.ts';
import { confirmAcks } from './acks.ts';
import { JobLease } from './job-lease.ts';
import { messageOf, sleep } from './publish.ts';
import type { RunningTrial, StopWatch } from './stops.ts';

export type JobHandler = (job: TrialJob, control: JobControl) => Promise<void>;

/**
 * One stored job message, across its deliveries: its stream sequence alone is not, as a stream the
 * server made again after losing its storage numbers its messages from 1 again.
 */
function messageKey(msg: JsMsg, job: TrialJob): string {
  return `${msg.info.streamSequence}:${msg.info.timestampNanos}:${job.trialId}`;
}

/** Which delivery of its trial a message is: its delivery count after those of the job's earlier messages (handed back). */
function trialAttempt(msg: JsMsg, job: TrialJob): number {
  return (job.priorAttempts ?? 0) + msg.info.deliveryCount;
}

export interface JobConsumerContext {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  durable: string;
  stops: StopWatch;
  maxDeliver: number;
  heartbeatMs: number;
  /** The pool consumer's ack wait: a worker silent for this long may have lost its job to another. */
  ackWaitMs: number;
  /** How long acknowledgements and stop look-ups keep retrying while the server is away. */
  retryTimeoutMs: number;
  publishReport(report: Report): Promise<void>;
  /** Publishes `job` to `subject` again, as a new message (deduplicated by its jobMessageId). */
  requeue(subject: string, job: TrialJob): Promise<void>;
  /** This worker's name, for the reports it sends itself. */
  worker: string;
  /** Creates the streams and this pool's consumer again, should the server have lost them. */
  recreate(): Promise<void>;
  log(msg: string): void;
}

/** How many jobs left by deliveries that ended here are remembered (see JobConsumer.endedHere). */
const ENDED_LEFT_KEPT = 1_000;
/** How long one pull request waits on the server for jobs before the next is sent. */
const PULL_EXPIRES_MS = 5_000;

/**
 * Pulls a pool's jobs, never more than `concurrency` at once (each pull asks for exactly the free
 * slots, so a busy worker holds no job another worker could run), and settles each job by the
 * outcome of its handler.
 */
export class JobConsumer implements Subscription {
  private readonly concurrency: number;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private pull: ConsumerMessages | undefined;
  private slotFreed: (() => void) | undefined;
  private readonly loop: Promise<void>;
  /** Jobs this consumer's deliveries ended after their hold lapsed (see messageKey): the delivery count of each. */
  private readonly endedLeft = new Map<string, number>();

  constructor(
    private readonly ctx: JobConsumerContext,
    options: JobConsumerOptions,
    private readonly handler: JobHandler,
  ) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`consumeJobs: concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.concurrency = options.concurrency;
    this.loop = this.pullLoop();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pull?.stop();
    this.slotFreed?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async pullLoop(): Promise<void> {
    let consumer: Consumer | undefined;
    while (!this.closed) {
      const free = this.concurrency - this.inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
        });
        continue;
      }
      try {
        consumer ??= await this.ctx.js.consumers.get(this.ctx.stream, this.ctx.durable);
        this.pull = await consumer.fetch({ max_messages: free, expires: PULL_EXPIRES_MS });
        if (this.closed) this.pull.stop();
        for await (const msg of this.pull) this.start(msg);
      } catch (err) {
        if (this.closed || this.ctx.nc.isClosed()) break;
        this.ctx.log(`pulling jobs from ${this.ctx.durable} failed, retrying: ${messageOf(err)}`);
        // Looked up afresh: a server restarted without its storage has lost the consumer (and the
        // streams), and pulls on the old one fail forever; they are created again here.
        consumer = undefined;
        if (/not found|no responders|jetstream is not enabled/i.test(messageOf(err))) {
          await this.ctx.recreate().catch((e: unknown) => this.ctx.log(`creating the job consumer again failed: ${messageOf(e)}`));
        }
        await sleep(250);
      } finally {
        this.pull = undefined;
      }
    }
  }

  private start(msg: JsMsg): void {
    const done = this.settle(msg).catch((err) => this.ctx.log(`job ${msg.subject}: ${messageOf(err)}`));
    this.inFlight.add(done);
    void done.finally(() => {
      this.inFlight.delete(done);
      this.slotFreed?.();
      this.slotFreed = undefined;
    });
  }

  private async settle(msg: JsMsg): Promise<void> {
    const attempt = msg.info.deliveryCount;
    let job: TrialJob;
    try {
      job = JSON.parse(msg.string()) as TrialJob;
      if (typeof job?.trialId !== 'string') throw new Error('no trialId');
    } catch (err) {
      this.ctx.log(`dropping malformed job on ${msg.subject}: ${messageOf(err)}`);
      return this.ack(msg);
    }

    if (this.endedHere(msg, job)) return this.ack(msg);
    if (this.runsHere(msg, job)) return;

    if (attempt > this.ctx.maxDeliver) {
      // The previous delivery was the last one allowed and its worker never settled it: it died.
      return this.fail(msg, job, `job delivered ${attempt - 1} times without finishing (its worker stopped answering)`);
    }

    const lease = new JobLease(
      () => msg.working(),
      () => this.ctx.nc.flush(),
      this.ctx.ackWaitMs,
    );
    const run: RunningTrial = {
      controller: new AbortController(),
      reason: undefined,
      lease,
      attempt: trialAttempt(msg, job),
      message: messageKey(msg, job),
    };
    const { running } = this.ctx.stops;
    // Registered before the look-up, so a stop arriving during it aborts this run.
    running.set(job.trialId, run);
    const heartbeat = setInterval(() => void lease.beat(), this.ctx.heartbeatMs);
    try {
      const stop = await this.ctx.stops.recordedStop(job.trialId, this.ctx.retryTimeoutMs);
      if (stop) this.ctx.stops.abort(job.trialId, stop.reason, stop.upToAttempt);
      // Pulled as this consumer was closing: not started, so it goes straight back to the queue.
      if (this.closed && run.reason === undefined) run.reason = 'shutdown';
      if (run.reason !== undefined) {
        // Stopped before it started: it never reaches the handler. At shutdown it goes back to the queue.
        if ((await lease.check()) || run.superseded) return this.leave(job, run);
        if (run.reason === 'shutdown') return this.handBack(msg, job);
        // A trial stopped while running whose worker died is delivered again and met here: its end
        // is reported, or the daemon would wait for it forever (for one stopped while queued, the
        // daemon has ended it already and ignores this).
        await this.ctx.publishReport({ kind: 'final', studyId: job.studyId, trialId: job.trialId, state: 'stopped', reason: run.reason });
        return this.ack(msg);
      }
      const control: JobControl = {
        signal: run.controller.signal,
        get stopReason() {
          return run.reason;
        },
        heartbeat: () => void lease.beat(),
        attempt,
      };
      let failure: { error: unknown } | undefined;
      try {
        await this.handler(job, control);
      } catch (error) {
        failure = { error };
      }
      if ((await lease.check()) || run.superseded) {
        await this.flagEnd(run);
        if (!failure && !run.superseded && run.endStored?.leaseLapsed) this.rememberEndedLeft(msg, job);
        return this.leave(job, run);
      }
      if (!failure) return this.ack(msg);
      if (run.reason === 'shutdown') return this.handBack(msg, job);
      if (run.reason !== undefined) return this.ack(msg);
      if (attempt >= this.ctx.maxDeliver) {
        return this.fail(msg, job, `job delivered ${attempt} times without success; last error: ${messageOf(failure.error)}`);
      }
      msg.nak();
    } finally {
      clearInterval(heartbeat);
      if (running.get(job.trialId) === run) running.delete(job.trialId);
    }
  }

  /**
   * A delivery whose hold on its job lapsed while it ran leaves the job as it is: an ack would remove
   * it from under another delivery holding it now, a nak or a hand-back would deliver it once more.
   * Its end, flagged leaseLapsed, lets the daemon settle it: a later delivery goes on if one began,
   * else the trial ends and a stop meets the job's next delivery. With no one holding it, the server
   * delivers the job again after the ack wait.
   */
  private leave(job: TrialJob, run: RunningTrial): void {
    const lapsedFor = run.lease?.lapsedFor;
    const why =
      lapsedFor !== undefined
        ? `no heartbeat of this worker reached NATS for ${(lapsedFor / 1000).toFixed(1)} s, near or past the ack wait of ` +
          `${this.ctx.ackWaitMs / 1000} s, so NATS may have handed the job to another worker`
        : 'the daemon stopped it as an earlier delivery, its job now with another worker';
    this.ctx.log(`trial ${job.trialId} (delivery ${run.attempt}): ${why}; it is left unacknowledged, for the daemon to settle`);
  }

  /**
   * A job left unacknowledged by a delivery that ended here (its flagged end stored) comes back to
   * this worker with no delivery in between: no other worker took it, and the daemon, reading that
   * end, ends the trial and stops the job. It is acknowledged here without running, rather than
   * training the trial again until that stop arrives (the daemon may read the end after the ack wait).
   */
  private endedHere(msg: JsMsg, job: TrialJob): boolean {
    const key = messageKey(msg, job);
    const endedAs = this.endedLeft.get(key);
    if (endedAs === undefined) return false;
    this.endedLeft.delete(key);
    if (msg.info.deliveryCount !== endedAs + 1) return false;
    this.ctx.log(
      `trial ${job.trialId}: delivered again to this worker, which ended it as delivery ${endedAs}; acknowledged without running`,
    );
    return true;
  }

  /**
   * The very delivery this worker is running, made again: a NATS server restarted after a crash can
   * forget a delivery it made (it writes consumer state behind) and make it again, to any worker. Here
   * it is left to the run under way, unacknowledged: that run's heartbeats hold the job and its ack
   * removes it. Run too, it would end the trial early (meeting the trial's stop at once, say) while
   * the first run's epochs were still on their way, and take that run's place in the stop watch.
   */
  private runsHere(msg: JsMsg, job: TrialJob): boolean {
    const run = this.ctx.stops.running.get(job.trialId);
    if (run?.message !== messageKey(msg, job) || run.attempt !== trialAttempt(msg, job)) return false;
    this.ctx.log(
      `trial ${job.trialId}: delivery ${run.attempt} made again while this worker runs it (NATS forgot it made it); left to the run under way`,
    );
    return true;
  }

  private rememberEndedLeft(msg: JsMsg, job: TrialJob): void {
    // Bounded: a job's next delivery comes within an ack wait or goes to another worker.
    if (this.endedLeft.size >= ENDED_LEFT_KEPT) this.endedLeft.delete(this.endedLeft.keys().next().value as string);
    this.endedLeft.set(messageKey(msg, job), msg.info.deliveryCount);
  }

  /**
   * The hold lapsed after the end went out unflagged (the connection dropped while it was sent, say):
   * the end is sent again, flagged, or the daemon would end the trial and its job, left in the
   * queue, would train it once more.
   */
  private async flagEnd(run: RunningTrial): Promise<void> {
    if (!run.endSent || run.endSent.leaseLapsed) return;
    try {
      await this.ctx.publishReport({ ...run.endSent, leaseLapsed: true });
    } catch (err) {
      this.ctx.log(`trial ${run.endSent.trialId}: could not say that its job was left unacknowledged: ${messageOf(err)}`);
    }
  }

  private async fail(msg: JsMsg, job: TrialJob, reason: string): Promise<void> {
    this.ctx.log(`trial ${job.trialId} failed: ${reason}`);
    await this.ctx.publishReport({ kind: 'final', studyId: job.studyId, trialId: job.trialId, state: 'failed', reason });
    await this.ack(msg);
  }

  /**
   * A job handed back at shutdown goes back to the queue as a new message, not as a nak: a nak
   * counts as a delivery, and three rolling restarts of healthy workers would fail the trial as if
   * they had died. The copy carries this delivery in priorAttempts, so the next one's attempt is
   * still higher (it trains from scratch). In this order: the daemon is told (the trial then reads
   * queued, not running on a worker that has gone, and the daemon queues it again should the copy
   * below not be stored), the job is acknowledged (the stream holds one job per trial, so the copy
   * can only follow it), and the copy is published. Should the daemon not be told, a nak.
   */
  private async handBack(msg: JsMsg, job: TrialJob): Promise<void> {
    const again: TrialJob = { ...job, priorAttempts: trialAttempt(msg, job) };
    try {
      await this.ctx.publishReport({
        kind: 'handback',
        studyId: job.studyId,
        trialId: job.trialId,
        worker: this.ctx.worker,
        reason: 'its worker shut down',
        attempt: again.priorAttempts,
      });
      await this.ack(msg);
    } catch (err) {
      this.ctx.log(`trial ${job.trialId}: could not hand it back (${messageOf(err)}); returning it to the queue by a nak`);
      msg.nak();
      return;
    }
    try {
      await this.ctx.requeue(msg.subject, again);
    } catch (err) {
      this.ctx.log(`trial ${job.trialId}: handed back, but its job was not queued again (${messageOf(err)}): the daemon queues it`);
    }
  }

  /** Acknowledges and waits for the server to confirm (which removes the job from the stream). */
  private async ack(msg: JsMsg): Promise<void> {
    const from = { jsm: this.ctx.jsm, stream: this.ctx.stream, durable: this.ctx.durable, checkSequence: true };
    if ((await confirmAcks(this.ctx.nc, [msg], this.ctx.retryTimeoutMs, from)) === 'message-gone')
      this.ctx.log(`job ${msg.subject}: not acknowledged, as NATS came back without its storage and the job with it`);
  }
}
