import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { BusNames } from './names.ts';

const STREAM_NAME_IN_USE = 10058;

export interface StreamSettings {
  duplicateWindowMs: number;
  stopRetentionMs: number;
}

/** Creates the bus's three streams, or brings existing ones to this configuration. */
export async function ensureStreams(jsm: JetStreamManager, names: BusNames, settings: StreamSettings): Promise<void> {
  const duplicateWindow = nanos(settings.duplicateWindowMs);
  await ensureStream(jsm, {
    name: names.jobsStream,
    subjects: [names.jobsSubjects],
    // A job leaves the stream when a worker acknowledges it.
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    // One message per trial subject, and a second publish is refused while the first is pending:
    // a re-dispatch of a queued or running trial is a no-op however late it comes.
    discard: DiscardPolicy.New,
    max_msgs_per_subject: 1,
    discard_new_per_subject: true,
    duplicate_window: duplicateWindow,
  });
  await ensureStream(jsm, {
    name: names.reportsStream,
    subjects: [names.reportsSubjects],
    // Reports stay until the daemon acknowledges them, however long it is away.
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: duplicateWindow,
  });
  await ensureStream(jsm, {
    name: names.stopsStream,
    subjects: [names.stopsSubjects],
    // The latest stop per trial, kept long enough for a queued job to meet it when a worker picks it up.
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_msgs_per_subject: 1,
    max_age: nanos(settings.stopRetentionMs),
    duplicate_window: Math.min(duplicateWindow, nanos(settings.stopRetentionMs)),
  });
  await ensureStream(jsm, {
    name: names.daemonStream,
    subjects: [names.daemonSubject],
    // The latest heartbeat of the daemon reading the reports (see daemon-presence.ts).
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_msgs_per_subject: 1,
    max_age: nanos(DAEMON_HEARTBEAT_MAX_AGE_MS),
    duplicate_window: nanos(Math.min(settings.duplicateWindowMs, DAEMON_HEARTBEAT_MAX_AGE_MS)),
  });
}

/** A daemon heartbeat older than this is gone from its stream: its daemon is long dead. */
export const DAEMON_HEARTBEAT_MAX_AGE_MS = 60_000;

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE)) throw err;
    const { name, retention: _fixed, storage: _alsoFixed, ...changeable } = config;
    const theirs = (await jsm.streams.info(name)).config.subjects ?? [];
    const ours = config.subjects ?? [];
    // Stream names are the prefix upper-cased: 'teamA' and 'teama' name the same streams. Updating
    // one's to the other's subjects would take every job and report away from the first deployment.
    const [a, b] = [theirs.join(' '), ours.join(' ')];
    if (a !== b && a.toLowerCase() === b.toLowerCase())
      throw new Error(
        `NATS stream ${name} belongs to another sweepd prefix (its subjects: ${theirs.join(', ')}; this one's: ${ours.join(', ')}): ` +
          'stream names are the prefix in capitals, so prefixes that differ only in case share them; choose a prefix that differs in more than case (SWEEPD_NATS_PREFIX)',
      );
    await jsm.streams.update(name, changeable);
  }
}

export interface JobConsumerSettings {
  ackWaitMs: number;
}

/**
 * The durable pull consumer of one pool, shared by every worker of that pool, and its ack wait. An
 * existing one is used as it is: adding it again with another ack wait would change it under the
 * workers already running, whose keep-alives are paced for the old one (their live trials would be
 * redelivered to a second worker while still running).
 */
export async function ensureJobConsumer(
  jsm: JetStreamManager,
  names: BusNames,
  pool: string,
  settings: JobConsumerSettings,
): Promise<{ durable: string; ackWaitMs: number }> {
  const durable = names.jobsConsumer(pool);
  try {
    const existing = await jsm.consumers.info(names.jobsStream, durable);
    return { durable, ackWaitMs: (existing.config.ack_wait ?? nanos(settings.ackWaitMs)) / 1e6 };
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.status === 404)) throw err;
  }
  await jsm.consumers.add(names.jobsStream, {
    durable_name: durable,
    filter_subject: names.poolFilter(pool),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(settings.ackWaitMs),
    // Unlimited on the server: the worker counts deliveries itself and ends the trial as failed on the
    // first delivery past maxDeliver, which also covers a worker that died on the last attempt
    // (server 2.9 would leave such a message in the stream, undelivered, forever).
    max_deliver: -1,
    max_ack_pending: 10_000,
    deliver_policy: DeliverPolicy.All,
  });
  return { durable, ackWaitMs: settings.ackWaitMs };
}

/**
 * Recreates the daemon's report consumer. The reports stream holds only unacknowledged reports, so a
 * fresh consumer hands them over at once and in stream order, including those a crashed daemon had
 * received but not acknowledged (an old consumer would redeliver those only after their ack wait,
 * behind newer reports).
 */
export async function resetReportConsumer(jsm: JetStreamManager, names: BusNames, ackWaitMs: number): Promise<void> {
  try {
    await jsm.consumers.delete(names.reportsStream, names.reportsConsumer);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.status === 404)) throw err;
  }
  await jsm.consumers.add(names.reportsStream, {
    durable_name: names.reportsConsumer,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    max_deliver: -1,
    max_ack_pending: 20_000,
    deliver_policy: DeliverPolicy.All,
  });
}
