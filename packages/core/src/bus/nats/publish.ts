import { JetStreamApiError, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** The stream refused a second message on a subject that allows one (discard_new_per_subject). */
const MAX_MSGS_PER_SUBJECT_EXCEEDED = 10077;

export interface DurablePublishOptions {
  msgID?: string;
  /** Overall time to keep retrying while the server is unreachable. */
  timeoutMs: number;
  /** Called once per failed attempt that will be retried. */
  onRetry?: (err: unknown, attempt: number) => void;
}

export type DurablePublishResult = PubAck | 'subject-occupied';

/**
 * Publishes to JetStream and returns once the server has stored the message. While the server is
 * unreachable (restart, network) the client reconnects on its own; this retries the publish, with the
 * same message id so a stored-but-unacknowledged attempt is deduplicated, until `timeoutMs` runs out.
 * A refusal because the subject already holds its one message comes back as 'subject-occupied'.
 */
export async function publishDurably(
  nc: NatsConnection,
  js: JetStreamClient,
  subject: string,
  data: string,
  options: DurablePublishOptions,
): Promise<DurablePublishResult> {
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now();
    try {
      return await js.publish(subject, data, { msgID: options.msgID, timeout: Math.max(500, Math.min(5_000, remaining)) });
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === MAX_MSGS_PER_SUBJECT_EXCEEDED) return 'subject-occupied';
      if (!isTransient(err) || nc.isClosed() || Date.now() + 100 >= deadline) {
        throw new Error(`publish to ${subject} failed after ${attempt} attempt(s): ${messageOf(err)}`, { cause: err });
      }
      options.onRetry?.(err, attempt);
      await sleep(Math.min(1_000, 100 * attempt, Math.max(0, deadline - Date.now())));
    }
  }
}

/** Errors that a reconnect can cure: timeouts, no JetStream responder yet, a dropped connection. */
export function isTransient(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.status === 503 || err.status === 408;
  return true;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
