import type { JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { messageOf, sleep } from './publish.ts';

const ACK = '+ACK';

/** The consumer messages came from: when it is gone, so are they, and an ack has nothing to remove. */
export interface AckedConsumer {
  jsm: JetStreamManager;
  stream: string;
  durable: string;
  /** Each attempt first checks that the last message is still the stream's at its sequence (see stillThere). */
  checkSequence?: boolean;
}

/**
 * Acknowledges messages and waits until the server confirms the last one; the acks travel on one
 * connection and the server handles them in order, so that confirmation covers them all. Unlike
 * JsMsg.ackAck, which refuses a second try, this retries (acks are idempotent) while the server is
 * away, so a finished job or an ingested report is not delivered again after a reconnect. It stops,
 * resolving 'message-gone', once the messages are known gone with the server's storage: the server
 * answers that no one takes the ack and the consumer is gone (retried until the deadline, the ack
 * held a worker's slot, or the daemon's reports, for a minute), or, with checkSequence, the stream
 * holds another message at the last one's sequence.
 */
export async function confirmAcks(
  nc: NatsConnection,
  msgs: readonly JsMsg[],
  timeoutMs: number,
  from?: AckedConsumer,
): Promise<'acked' | 'message-gone'> {
  const last = msgs.at(-1);
  if (!last) return 'acked';
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      if (from?.checkSequence && !(await stillThere(from, last))) return 'message-gone';
      for (let i = 0; i < msgs.length - 1; i++) nc.publish(replyOf(msgs[i] as JsMsg), ACK);
      await nc.request(replyOf(last), ACK, { timeout: Math.max(500, Math.min(5_000, deadline - Date.now())) });
      return 'acked';
    } catch (err) {
      if (from && /no responders/i.test(messageOf(err)) && (await consumerGone(from))) return 'message-gone';
      if (nc.isClosed() || Date.now() >= deadline) {
        throw new Error(`acknowledging ${msgs.length} message(s) on ${last.subject} failed after ${attempt} attempt(s): ${messageOf(err)}`);
      }
      await sleep(250);
    }
  }
}

/**
 * Whether the stream still holds, at the message's sequence, a message of its subject, or none: a
 * stream made again after a storage loss numbers from 1 again, and there another trial's job (each
 * trial has a subject of its own) would be removed by the ack. Undefined when the stream is gone.
 */
async function stillThere({ jsm, stream }: AckedConsumer, msg: JsMsg): Promise<boolean | undefined> {
  try {
    const stored = await jsm.streams.getMessage(stream, { seq: msg.seq });
    return stored === null || stored.subject === msg.subject;
  } catch (err) {
    if (/stream not found/i.test(messageOf(err))) return undefined;
    throw err;
  }
}

/** Whether the server says the consumer (or its stream) does not exist; false while it cannot be asked. */
async function consumerGone({ jsm, stream, durable }: AckedConsumer): Promise<boolean> {
  try {
    await jsm.consumers.info(stream, durable);
    return false;
  } catch (err) {
    return /(consumer|stream) not found/i.test(messageOf(err));
  }
}

/** The ack subject of a JetStream message (JsMsgImpl exposes it; the JsMsg type does not). */
function replyOf(msg: JsMsg): string {
  const reply = (msg as unknown as { reply?: unknown }).reply;
  if (typeof reply !== 'string' || reply.length === 0) throw new Error(`message on ${msg.subject} has no ack subject`);
  return reply;
}
