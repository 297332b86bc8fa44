import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { FinalReport } from '../../types.ts';
import type { JobLease } from './job-lease.ts';
import type { BusNames } from './names.ts';
import { messageOf, sleep } from './publish.ts';

/** A trial this process is running (or about to run), how to stop it, and its hold on the job. */
export interface RunningTrial {
  controller: AbortController;
  reason: string | undefined;
  lease?: JobLease;
  /** Which delivery of its trial this is, counting priorAttempts. */
  attempt: number;
  /** The stored job message it runs (see messageKey in job-consumer.ts). */
  message?: string;
  /** Stopped as an earlier delivery a later one replaced: it must leave the job to that one. */
  superseded?: boolean;
  /** The end this run sent (the runner sends it before the job settles). */
  endSent?: FinalReport;
  /** The end, once the server confirmed it stored it. */
  endStored?: FinalReport;
}

export interface StopMessage {
  trialId: string;
  reason: string;
  /** Only deliveries up to this one (see StopScope). */
  upToAttempt?: number;
}

/**
 * Stops reach workers two ways: live, through a plain subscription to the stop subjects (a stop is a
 * JetStream publish, which core subscribers see too), and by a look-up in the stops stream before a
 * job starts, so a trial stopped while still queued, even before any worker existed, never runs.
 */
export class StopWatch {
  readonly running = new Map<string, RunningTrial>();
  private subscription: NatsSubscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly names: BusNames,
    private readonly log: (msg: string) => void,
  ) {}

  /** Subscribes once; later calls are no-ops. */
  listen(): void {
    if (this.subscription) return;
    this.subscription = this.nc.subscribe(this.names.stopsSubjects, {
      callback: (err, msg) => {
        if (err) return this.log(`stop subscription: ${err.message}`);
        const stop = parseStop(msg.string());
        if (!stop) return this.log(`ignoring a malformed stop message on ${msg.subject}: ${printable(msg.string())}`);
        this.abort(stop.trialId, stop.reason, stop.upToAttempt);
      },
    });
  }

  /** Aborts this process's run of the trial, unless it is a later delivery than `upToAttempt`. */
  abort(trialId: string, reason: string, upToAttempt?: number): void {
    const run = this.running.get(trialId);
    if (!run || (upToAttempt !== undefined && run.attempt > upToAttempt)) return;
    // Whatever stopped it first: a later delivery holds the job now, and must keep it.
    if (upToAttempt !== undefined) run.superseded = true;
    run.reason ??= reason;
    run.controller.abort(new Error(reason));
  }

  /** The stop recorded for a trial, if any. Retries while the server is unreachable, up to `timeoutMs`. */
  async recordedStop(trialId: string, timeoutMs: number): Promise<StopMessage | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const stored = await this.jsm.streams.getMessage(this.names.stopsStream, { last_by_subj: this.names.stopSubject(trialId) });
        if (!stored) return undefined;
        const stop = parseStop(stored.string());
        // Not a stop this bus wrote: say so, rather than run the trial as if nothing were there.
        if (!stop)
          this.log(`ignoring a malformed stop message for trial ${trialId} (stream sequence ${stored.seq}): ${printable(stored.string())}`);
        return stop;
      } catch (err) {
        if (this.nc.isClosed() || Date.now() >= deadline) throw new Error(`cannot look up stops of trial ${trialId}: ${messageOf(err)}`);
        await sleep(200);
      }
    }
  }

  /** After a reconnect: stops published while this connection was away were missed live; look them up. */
  async recheckRunning(timeoutMs: number): Promise<void> {
    for (const trialId of [...this.running.keys()]) {
      try {
        const stop = await this.recordedStop(trialId, timeoutMs);
        if (stop) this.abort(trialId, stop.reason, stop.upToAttempt);
      } catch (err) {
        this.log(messageOf(err));
      }
    }
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }
}

export function encodeStop(stop: StopMessage): string {
  return JSON.stringify(stop);
}

function parseStop(text: string): StopMessage | undefined {
  try {
    const value = JSON.parse(text) as Partial<StopMessage>;
    if (typeof value.trialId === 'string' && typeof value.reason === 'string') {
      const scoped = typeof value.upToAttempt === 'number' ? { upToAttempt: value.upToAttempt } : {};
      return { trialId: value.trialId, reason: value.reason, ...scoped };
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** The start of a message, for a log line: at most 200 characters, control characters escaped. */
function printable(text: string): string {
  const head = JSON.stringify(text.slice(0, 200));
  return text.length > 200 ? `${head}…` : head;
}
