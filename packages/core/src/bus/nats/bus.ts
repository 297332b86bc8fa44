import { JetStreamApiError, type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Report, TrialJob } from '../../types.ts';
import type {
  Bus,
  JobConsumerOptions,
  JobControl,
  ReportConsumerOptions,
  ReportSubscription,
  StopScope,
  Subscription,
} from '../contract.ts';
import { DaemonPresence } from './daemon-presence.ts';
import { JobConsumer } from './job-consumer.ts';
import { BusNames } from './names.ts';
import { redactServers } from './redact.ts';
import { messageOf, publishDurably, sleep } from './publish.ts';
import { type ReportHandler, ReportConsumer } from './report-consumer.ts';
import { ensureJobConsumer, ensureStreams, type StreamSettings } from './streams.ts';
import { encodeReport } from './report-codec.ts';
import { encodeStop, StopWatch } from './stops.ts';
import { rollCall, WorkerPresence } from './worker-presence.ts';

export interface NatsBusOptions {
  /** NATS server URL(s), e.g. 'nats://127.0.0.1:4222'. */
  servers: string | string[];
  /** Prefix of subjects, stream and consumer names ('sweepd' → SWEEPD_JOBS, sweepd.jobs.<pool>.<trial>); lets deployments and tests share a server. */
  prefix?: string;
  /** A job not acknowledged nor kept alive for this long is delivered again (its worker is taken for dead). Default 30 s. */
  ackWaitMs?: number;
  /** Deliveries of a job before its trial is reported failed. Default 3. */
  maxDeliver?: number;
  /** How often a running job and a held report batch are kept alive. Default ackWaitMs / 3 (at most 10 s). */
  heartbeatMs?: number;
  /** A job re-dispatched with the same trialId within this window is dropped even after it finished. Default 2 min. */
  duplicateWindowMs?: number;
  /**
   * How long a publish (dispatch, stop, report), an acknowledgement or a stop look-up keeps retrying
   * while the server is unreachable before it rejects. Default 60 s.
   */
  publishTimeoutMs?: number;
  /** Reports handed to the report handler at once. Default 1,000. */
  reportBatch?: number;
  /** Pause before a rejected report batch is handed over again. Default 200 ms. */
  retryDelayMs?: number;
  /** How long a stop is remembered for a trial still queued. Default 7 days. */
  stopRetentionMs?: number;
  /** Token the server requires (nats-server --auth). Default: SWEEPD_NATS_TOKEN from the environment, if set. */
  token?: string;
  /** Connection name shown by the server's monitoring. */
  name?: string;
  /** Between the heartbeats of the daemon reading the reports (a second daemon on the prefix is refused). Default 5 s. */
  daemonHeartbeatMs?: number;
  log?: (msg: string) => void;
  /** For what needs an operator now (two daemons on one prefix). Default: `log`. */
  logError?: (msg: string) => void;
}

interface Settings {
  streams: StreamSettings;
  daemonHeartbeatMs: number;
  ackWaitMs: number;
  maxDeliver: number;
  heartbeatMs: number;
  publishTimeoutMs: number;
  reportBatch: number;
  retryDelayMs: number;
}

/** Report acknowledgements wait longer than jobs: the daemon keeps its batches alive, and a restart replays at once. */
const REPORT_ACK_WAIT_MS = 60_000;

/**
 * The Bus over NATS JetStream: a work-queue stream of jobs (one durable pull consumer per pool), a
 * work-queue stream of reports (one durable consumer: the daemon's), and a stream of stops (latest
 * per trial) that workers both subscribe to and consult before a job starts.
 */
export async function connectNatsBus(options: NatsBusOptions): Promise<NatsBus> {
  const names = new BusNames(options.prefix ?? 'sweepd');
  const ackWaitMs = positive('ackWaitMs', options.ackWaitMs ?? 30_000);
  const settings: Settings = {
    streams: {
      duplicateWindowMs: positive('duplicateWindowMs', options.duplicateWindowMs ?? 120_000),
      stopRetentionMs: positive('stopRetentionMs', options.stopRetentionMs ?? 7 * 24 * 3600_000),
    },
    daemonHeartbeatMs: positive('daemonHeartbeatMs', options.daemonHeartbeatMs ?? 5_000),
    ackWaitMs,
    maxDeliver: positive('maxDeliver', options.maxDeliver ?? 3),
    heartbeatMs: positive('heartbeatMs', options.heartbeatMs ?? Math.min(10_000, Math.floor(ackWaitMs / 3))),
    publishTimeoutMs: positive('publishTimeoutMs', options.publishTimeoutMs ?? 60_000),
    reportBatch: positive('reportBatch', options.reportBatch ?? 1_000),
    retryDelayMs: Math.max(0, options.retryDelayMs ?? 200),
  };
  if (settings.heartbeatMs > ackWaitMs / 2)
    throw new Error(`heartbeatMs (${settings.heartbeatMs}) must be at most half of ackWaitMs (${ackWaitMs})`);
  const log = options.log ?? (() => {});
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name ?? 'sweepd',
      token: options.token ?? (process.env.SWEEPD_NATS_TOKEN || undefined),
      // Never give up: a worker or daemon outlives a NATS restart.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // Capturing a stack for every request (each publish and ack is one) cost more than half the CPU at 10k reports/s.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${redactServers(options.servers)}: ${messageOf(err)}`, { cause: err });
  }
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, names, settings.streams);
    return new NatsBus(nc, jsm, jetstream(nc), names, settings, log, options.logError ?? log);
  } catch (err) {
    await nc.close();
    throw new Error(`NATS at ${redactServers(options.servers)} has no usable JetStream for prefix '${names.prefix}': ${messageOf(err)}`, {
      cause: err,
    });
  }
}

export class NatsBus implements Bus {
  readonly kind = 'nats';
  private readonly stops: StopWatch;
  private readonly workers: WorkerPresence;
  private readonly jobConsumers = new Set<JobConsumer>();
  private reportConsumer: ReportConsumer | undefined;
  private presence: DaemonPresence | undefined;
  /** The daemon's: told when NATS comes back without the jobs it held (see checkStorage). */
  private onJobsLost: (() => void) | undefined;
  /** When the jobs stream the daemon dispatches to was made: another time means it was made again, empty. */
  private jobsStreamCreated: string | undefined;
  private closing = false;
  private readonly statusLoop: Promise<void>;

  constructor(
    /** The underlying connection (tests close it to play a worker that died). */
    readonly connection: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    readonly names: BusNames,
    private readonly settings: Settings,
    private readonly log: (msg: string) => void,
    private readonly logError: (msg: string) => void = log,
  ) {
    this.stops = new StopWatch(connection, jsm, names, log);
    this.workers = new WorkerPresence(connection, names, workerName(), () => this.stops.running.keys(), log);
    this.statusLoop = this.watchStatus();
  }

  /** The pools of the jobs stream's durable consumers: each was made by a worker that joined the pool. */
  async knownPools(): Promise<readonly string[]> {
    this.assertOpen();
    const pools: string[] = [];
    for await (const info of this.jsm.consumers.list(this.names.jobsStream)) {
      const pool = this.names.poolOfFilter(info.config.filter_subject ?? '');
      if (pool !== undefined) pools.push(pool);
    }
    return pools.sort();
  }

  /**
   * The pools whose workers answer a roll call. Not the jobs a pool's consumer holds unacknowledged:
   * a worker killed under a trial leaves its job pending until another worker takes it.
   */
  async livePools(): Promise<readonly string[]> {
    this.assertOpen();
    const { pools } = await rollCall(this.connection, this.names);
    for await (const info of this.jsm.consumers.list(this.names.jobsStream)) {
      const pool = this.names.poolOfFilter(info.config.filter_subject ?? '');
      // An idle worker always has a pull request waiting (each lasts 5 s), whether it answers roll calls or not.
      if (pool !== undefined && info.num_waiting > 0) pools.add(pool);
    }
    return [...pools].sort();
  }

  /** The trials the workers answering a roll call run now. */
  async runningTrials(): Promise<ReadonlySet<string>> {
    this.assertOpen();
    return (await rollCall(this.connection, this.names)).trials;
  }

  async dispatch(jobs: readonly TrialJob[]): Promise<void> {
    this.assertOpen();
    // Check every job before sending any, so a bad one does not leave a batch half dispatched.
    const subjects = jobs.map((job, i) => {
      if (typeof job?.trialId !== 'string') throw new Error(`dispatch: job ${i} has no trialId`);
      try {
        return this.names.jobSubject(job.pool, job.trialId);
      } catch (err) {
        throw new Error(`dispatch: job ${i} (trial ${job.trialId}): ${messageOf(err)}`);
      }
    });
    // All publishes in flight at once, then wait for every acknowledgement.
    const results = await Promise.allSettled(
      jobs.map((job, i) =>
        publishDurably(this.connection, this.js, subjects[i] as string, JSON.stringify(job), {
          msgID: jobMessageId(job),
          timeoutMs: this.settings.publishTimeoutMs,
        }),
      ),
    );
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    if (failed.length > 0) throw new Error(`dispatch: ${failed.length} of ${jobs.length} job(s) not stored: ${messageOf(failed[0])}`);
  }

  async stop(trialId: string, reason: string, scope: StopScope = {}): Promise<void> {
    this.assertOpen();
    const stop = scope.upToAttempt !== undefined ? { trialId, reason, upToAttempt: scope.upToAttempt } : { trialId, reason };
    await publishDurably(this.connection, this.js, this.names.stopSubject(trialId), encodeStop(stop), {
      msgID: `stop:${trialId}:${randomUUID()}`,
      timeoutMs: this.settings.publishTimeoutMs,
    });
  }

  async consumeReports(handler: ReportHandler, options: ReportConsumerOptions = {}): Promise<ReportSubscription> {
    this.assertOpen();
    if (this.reportConsumer) throw new Error('NatsBus: reports already have a consumer');
    this.jobsStreamCreated = (await this.jsm.streams.info(this.names.jobsStream)).created;
    // Refused (DaemonConflictError) while another daemon reads this prefix's reports.
    const presence = await DaemonPresence.claim(this.js, this.jsm, this.names, {
      intervalMs: this.settings.daemonHeartbeatMs,
      log: this.log,
      error: this.logError,
    });
    this.presence = presence;
    let consumer: ReportConsumer;
    try {
      consumer = await ReportConsumer.start(
        {
          nc: this.connection,
          js: this.js,
          jsm: this.jsm,
          names: this.names,
          maxBatch: this.settings.reportBatch,
          ackWaitMs: REPORT_ACK_WAIT_MS,
          heartbeatMs: Math.min(this.settings.heartbeatMs, REPORT_ACK_WAIT_MS / 3),
          retryDelayMs: this.settings.retryDelayMs,
          retryTimeoutMs: this.settings.publishTimeoutMs,
          log: this.log,
          error: this.logError,
        },
        handler,
      );
    } catch (err) {
      await presence.release();
      this.presence = undefined;
      throw err;
    }
    this.reportConsumer = consumer;
    this.onJobsLost = options.onJobsLost;
    return {
      close: async () => {
        await consumer.close();
        if (this.reportConsumer === consumer) {
          this.reportConsumer = undefined;
          this.onJobsLost = undefined;
        }
        await presence.release();
        if (this.presence === presence) this.presence = undefined;
      },
      caughtUp: (timeoutMs) => consumer.caughtUp(timeoutMs),
    };
  }

  async consumeJobs(options: JobConsumerOptions, handler: (job: TrialJob, control: JobControl) => Promise<void>): Promise<Subscription> {
    this.assertOpen();
    this.names.poolFilter(options.pool); // a clear error for a bad pool before anything is created
    const { durable, ackWaitMs } = await ensureJobConsumer(this.jsm, this.names, options.pool, { ackWaitMs: this.settings.ackWaitMs });
    if (ackWaitMs !== this.settings.ackWaitMs)
      this.log(
        `pool ${options.pool}: its job consumer's ack wait is ${ackWaitMs} ms (set by the worker that created it), not this worker's ` +
          `${this.settings.ackWaitMs} ms; using ${ackWaitMs} ms. Give every worker the same SWEEPD_NATS_ACK_WAIT_MS, or delete the ` +
          `consumer ${durable} while no worker runs to change it`,
      );
    this.stops.listen();
    const consumer = new JobConsumer(
      {
        nc: this.connection,
        js: this.js,
        jsm: this.jsm,
        stream: this.names.jobsStream,
        durable,
        stops: this.stops,
        maxDeliver: this.settings.maxDeliver,
        // Paced for the consumer's ack wait, whoever set it.
        heartbeatMs: Math.min(this.settings.heartbeatMs, Math.floor(ackWaitMs / 3)),
        ackWaitMs,
        retryTimeoutMs: this.settings.publishTimeoutMs,
        publishReport: (report) => this.publishReport(report),
        requeue: async (subject, job) => {
          const stored = await publishDurably(this.connection, this.js, subject, JSON.stringify(job), {
            msgID: jobMessageId(job),
            timeoutMs: this.settings.publishTimeoutMs,
          });
          if (stored === 'subject-occupied') throw new Error('the stream still holds a job for the trial');
        },
        worker: workerName(),
        recreate: async () => {
          await ensureStreams(this.jsm, this.names, this.settings.streams);
          await ensureJobConsumer(this.jsm, this.names, options.pool, { ackWaitMs });
        },
        log: this.log,
      },
      options,
      handler,
    );
    this.jobConsumers.add(consumer);
    this.workers.join(options.pool);
    return {
      close: async () => {
        if (this.jobConsumers.delete(consumer)) this.workers.leave(options.pool);
        await consumer.close();
      },
    };
  }

  async publishReport(report: Report): Promise<void> {
    // Allowed while closing: handlers aborted by close() may still report until the connection drains.
    if (this.connection.isClosed()) throw new Error('NatsBus: the NATS connection is closed');
    // The end of a delivery that lost its hold on the job says so: the job is then left unacknowledged.
    const run = report.kind === 'final' ? this.stops.running.get(report.trialId) : undefined;
    const sent: Report = report.kind === 'final' && run?.lease && (await run.lease.check()) ? { ...report, leaseLapsed: true } : report;
    if (run && sent.kind === 'final') run.endSent = sent;
    await publishDurably(this.connection, this.js, this.names.reportSubject(report.trialId), encodeReport(sent), {
      // Set once, so a retried publish whose first try was stored is deduplicated.
      msgID: randomUUID(),
      timeoutMs: this.settings.publishTimeoutMs,
    });
    if (run && sent.kind === 'final') run.endStored = sent;
  }

  /**
   * Aborts running jobs with stopReason 'shutdown' and waits for their handlers: a handler that resolves
   * has finished its job (acknowledged); one that rejects hands it back to the queue for another worker.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // A worker going away no longer answers for its pools.
    this.workers.close();
    for (const trialId of this.stops.running.keys()) this.stops.abort(trialId, 'shutdown');
    // Every part is closed even when one fails, and each failure is told: close is best effort, not silent.
    const closed = await Promise.allSettled([...this.jobConsumers].map((c) => c.close()));
    for (const r of closed) if (r.status === 'rejected') this.log(`closing a job consumer failed: ${messageOf(r.reason)}`);
    this.jobConsumers.clear();
    try {
      await this.reportConsumer?.close();
    } catch (err) {
      this.log(`closing the report consumer failed: ${messageOf(err)}`);
    }
    this.reportConsumer = undefined;
    await this.presence?.release();
    this.presence = undefined;
    this.stops.close();
    if (!this.connection.isClosed()) {
      try {
        await this.connection.drain();
      } catch (err) {
        this.log(`draining the NATS connection failed, closing it: ${messageOf(err)}`);
        await this.connection.close();
      }
    }
    await this.statusLoop;
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') this.log(`NATS disconnected from ${status.server}; reconnecting`);
      if (status.type === 'reconnect') {
        this.log(`NATS reconnected to ${status.server}`);
        if (this.reportConsumer) void this.checkStorage();
        this.reportConsumer?.requestResync();
        void this.stops.recheckRunning(this.settings.publishTimeoutMs);
      }
    }
  }

  /**
   * The daemon's check after a reconnect: a jobs stream that is gone, or was made again since (by a
   * worker that found it gone), means NATS came back without its storage and the queued jobs went
   * with it. The streams are made again and the daemon told, so its unfinished trials go out again
   * rather than wait for a restart. Retried while JetStream is not answering yet.
   */
  private async checkStorage(): Promise<void> {
    const deadline = Date.now() + this.settings.publishTimeoutMs;
    for (let attempt = 1; !this.closing && this.reportConsumer; attempt++) {
      try {
        let created = await this.jobsStreamCreatedNow();
        if (created === this.jobsStreamCreated) return;
        if (created === undefined) {
          await ensureStreams(this.jsm, this.names, this.settings.streams);
          created = await this.jobsStreamCreatedNow();
        }
        this.jobsStreamCreated = created;
        this.logError(
          'NATS came back without its storage: the queued jobs and unread reports it held are lost. ' +
            'Its streams are made again, and the unfinished trials sent out again (each starts over)',
        );
        this.reportConsumer?.requestResync();
        this.onJobsLost?.();
        return;
      } catch (err) {
        if (Date.now() >= deadline) {
          this.log(`could not check NATS's streams after the reconnect: ${messageOf(err)}`);
          return;
        }
        await sleep(Math.min(1_000, 100 * attempt));
      }
    }
  }

  /** When the jobs stream was made, or undefined when there is none. */
  private async jobsStreamCreatedNow(): Promise<string | undefined> {
    try {
      return (await this.jsm.streams.info(this.names.jobsStream)).created;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('NatsBus is closed');
    if (this.connection.isClosed()) throw new Error('NatsBus: the NATS connection is closed');
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`NatsBus option ${name} must be a positive number, got ${value}`);
  return value;
}

/** How a worker names itself in its reports and roll-call answers. */
function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * A job's message id, for the stream's deduplication of retried publishes: one per trial and
 * delivery count before it, so a job sent again after a hand-back or a restart is not taken for a
 * repeat of the first (within the duplicate window it would be dropped, and the trial never run).
 * That a trial's job is never queued twice is the stream's one-message-per-subject rule.
 */
export function jobMessageId(job: TrialJob): string {
  return job.priorAttempts ? `${job.trialId}:${job.priorAttempts}` : job.trialId;
}
