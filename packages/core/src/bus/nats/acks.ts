import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { messageOf, sleep } from './publish.ts';

const ACK = '+ACK';

/**
 * Acknowledges messages and waits until the server confirms the last one; the acks travel on one
 * connection and the server handles them in order, so that confirmation covers them all. Unlike
 * JsMsg.ackAck, which refuses a second try, this retries (acks are idempotent) while the server is
 * away, so a finished job or an ingested report is not delivered again after a reconnect.
 */
export async function confirmAcks(nc: NatsConnection, msgs: readonly JsMsg[], timeoutMs: number): Promise<void> {
  const last = msgs.at(-1);
  if (!last) return;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      for (let i = 0; i < msgs.length - 1; i++) nc.publish(replyOf(msgs[i] as JsMsg), ACK);
      await nc.request(replyOf(last), ACK, { timeout: Math.max(500, Math.min(5_000, deadline - Date.now())) });
      return;
    } catch (err) {
      if (nc.isClosed() || Date.now() >= deadline) {
        throw new Error(`acknowledging ${msgs.length} message(s) on ${last.subject} failed after ${attempt} attempt(s): ${messageOf(err)}`);
      }
      await sleep(250);
    }
  }
}

/** The ack subject of a JetStream message (JsMsgImpl exposes it; the JsMsg type does not). */
function replyOf(msg: JsMsg): string {
  const reply = (msg as unknown as { reply?: unknown }).reply;
  if (typeof reply !== 'string' || reply.length === 0) throw new Error(`message on ${msg.subject} has no ack subject`);
  return reply;
}
