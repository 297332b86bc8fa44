import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { decodeReport } from './report-codec.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Report } from '../../types.ts';
import type { Subscription } from '../contract.ts';
import { confirmAcks } from './acks.ts';
import type { BusNames } from './names.ts';
import { messageOf, sleep } from './publish.ts';
import { resetReportConsumer } from './streams.ts';

export type ReportHandler = (batch: readonly Report[]) => Promise<void>;

/** The longest pause between two deliveries of a batch the handler refused. */
const MAX_RETRY_DELAY_MS = 5_000;

/** Refusals in a row said at info (a blip); from the next on, at growing intervals, as errors (an outage). */
const ERROR_AFTER_REFUSALS = 3;

export interface ReportConsumerContext {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: BusNames;
  maxBatch: number;
  ackWaitMs: number;
  heartbeatMs: number;
  /** Pause before a rejected batch is handed to the handler again. */
  retryDelayMs: number;
  retryTimeoutMs: number;
  log(msg: string): void;
  /** For what an operator must see: a handler that keeps refusing reports (the store away). */
  error(msg: string): void;
}

/** Stream sequences recently handed to the handler: a report redelivered after that is acknowledged, not handed over twice. */
const REMEMBERED_SEQUENCES = 200_000;

/**
 * How long each pull for reports lasts (the server's idle heartbeats come every half of it). A pull
 * the server ends without its messages (a 409: limits exceeded, a leadership change) or drops while
 * the client still counts it is renewed only after two missed heartbeats: with the client's default
 * of 30 s, reports then wait 30 s in the stream. Short pulls bound that to a few seconds, for one
 * pull request every 5 s while idle.
 */
const REPORT_PULL_EXPIRES_MS = 5_000;

/** What the client says of its pull that holds reports back; logged, so a late report says why. */
const PULL_TROUBLE: ReadonlySet<string> = new Set(['heartbeats_missed', 'exceeded_limits', 'consumer_deleted']);

/**
 * The daemon's side of the reports stream. One loop hands batches to the handler in stream order and
 * acknowledges a batch only after the handler resolves. A rejected batch is kept and handed over
 * again (a nak would let newer reports overtake it); its messages are kept alive with `working()`.
 */
export class ReportConsumer implements Subscription {
  private pending: JsMsg[] = [];
  /** The stream's last sequence when the consumer started, and the highest sequence handed over and taken since. */
  private backlogThrough = 0;
  private handledThrough = 0;
  private readonly handled = new Set<number>();
  /** When the reports stream was made, as last seen: another time means it was made again, its sequences from 1. */
  private streamCreated: string | undefined;
  private messages: ConsumerMessages | undefined;
  private reader: Promise<void> = Promise.resolve();
  private closed = false;
  private resyncWanted = false;
  private wake: (() => void) | undefined;
  private room: (() => void) | undefined;
  /** Ends the pause before a refused batch is delivered again (close). */
  private endPause: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly ctx: ReportConsumerContext,
    private readonly handler: ReportHandler,
  ) {}

  static async start(ctx: ReportConsumerContext, handler: ReportHandler): Promise<ReportConsumer> {
    const consumer = new ReportConsumer(ctx, handler);
    // The stream keeps only reports not yet taken: the last one in it now is where caughtUp() ends.
    const info = await ctx.jsm.streams.info(ctx.names.reportsStream);
    consumer.backlogThrough = info.state.last_seq;
    consumer.streamCreated = info.created;
    await consumer.subscribe();
    consumer.loop = consumer.run();
    return consumer;
  }

  /** Whether the reports in the stream when this consumer started have all been handed over and taken (see Bus). */
  async caughtUp(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let check = 0; ; check++) {
      if (this.handledThrough >= this.backlogThrough) return true;
      // Some may be gone without passing here (nothing queued at all, malformed ones, taken before a resync): ask the stream at once and now and then.
      if (check % 20 === 0) {
        try {
          const { state } = await this.ctx.jsm.streams.info(this.ctx.names.reportsStream);
          if (state.messages === 0 || state.first_seq > this.backlogThrough) return true;
        } catch (err) {
          // A reconnect mid-backlog, say: not an answer, and no reason to fail the daemon's start.
          if (check === 0) this.ctx.log(`could not read the reports stream's state, still waiting: ${messageOf(err)}`);
        }
      }
      if (Date.now() >= deadline || this.closed) return false;
      await sleep(10); // a restarted daemon waits on this before it dispatches: keep the wait short
    }
  }

  /** After a reconnect: reports in flight when the connection dropped would come back only after their ack wait, behind newer ones; start over from the first unacknowledged report instead. */
  requestResync(): void {
    this.resyncWanted = true;
    this.notify();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.messages?.stop();
    this.notify();
    await this.loop;
    await this.reader;
  }

  private notify(): void {
    this.wake?.();
    this.room?.();
    if (this.closed) this.endPause?.();
  }

  private async subscribe(): Promise<void> {
    const { jsm, js, names } = this.ctx;
    const { created } = await jsm.streams.info(names.reportsStream);
    if (created !== this.streamCreated) {
      // NATS lost its storage and the stream was made again: its sequences start over, and a
      // remembered one would drop a new report as a repeat.
      this.handled.clear();
      this.handledThrough = 0;
      this.backlogThrough = 0;
      this.streamCreated = created;
    }
    await resetReportConsumer(jsm, names, this.ctx.ackWaitMs);
    const consumer = await js.consumers.get(names.reportsStream, names.reportsConsumer);
    const messages = await consumer.consume({ max_messages: this.ctx.maxBatch, expires: REPORT_PULL_EXPIRES_MS });
    this.messages = messages;
    void this.watchPull(messages);
    this.reader = this.read(messages);
  }

  private async watchPull(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const status of messages.status())
        if (PULL_TROUBLE.has(status.type) && !this.closed) this.ctx.log(`pulling reports: ${JSON.stringify(status)}`);
    } catch {
      // The status iterator ends with the pull (a resync, close).
    }
  }

  private async read(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const msg of messages) {
        this.pending.push(msg);
        this.wake?.();
        // Bounded: past two batches, stop taking messages so the client stops pulling.
        while (this.pending.length >= 2 * this.ctx.maxBatch && !this.closed && this.messages === messages) {
          await new Promise<void>((resolve) => {
            this.room = resolve;
          });
        }
      }
    } catch (err) {
      if (!this.closed) this.ctx.log(`reading reports stopped: ${messageOf(err)}`);
    }
  }

  private async resync(): Promise<void> {
    this.resyncWanted = false;
    this.messages?.stop();
    this.notify();
    await this.reader;
    this.pending = [];
    while (!this.closed) {
      try {
        await this.subscribe();
        return;
      } catch (err) {
        this.ctx.log(`re-subscribing to reports failed, retrying: ${messageOf(err)}`);
        await sleep(500);
      }
    }
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      if (this.resyncWanted) {
        await this.resync();
        continue;
      }
      if (this.pending.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      const batch = this.pending.splice(0, this.ctx.maxBatch);
      this.room?.();
      const reports = this.decode(batch);
      if (
        reports.length > 0 &&
        !(await this.deliver(
          reports.map((r) => r.report),
          batch,
        ))
      )
        return;
      for (const { seq } of reports) this.remember(seq);
      try {
        const from = { jsm: this.ctx.jsm, stream: this.ctx.names.reportsStream, durable: this.ctx.names.reportsConsumer };
        if ((await confirmAcks(this.ctx.nc, batch, this.ctx.retryTimeoutMs, from)) === 'message-gone')
          this.ctx.log(`${batch.length} report(s) handled, not acknowledged: NATS came back without its storage, which held them`);
      } catch (err) {
        // They will be delivered again and recognised as already handled.
        this.ctx.log(messageOf(err));
      }
    }
  }

  /** Reports of a batch not yet handed over, in order; duplicates and malformed messages are dropped (and acknowledged). */
  private decode(batch: readonly JsMsg[]): Array<{ seq: number; report: Report }> {
    const out: Array<{ seq: number; report: Report }> = [];
    const seen = new Set<number>();
    for (const msg of batch) {
      const seq = msg.seq;
      if (this.handled.has(seq) || seen.has(seq)) continue;
      seen.add(seq);
      try {
        out.push({ seq, report: decodeReport(msg.string()) });
      } catch (err) {
        this.ctx.log(`dropping a malformed report (stream sequence ${seq}): ${messageOf(err)}`);
      }
    }
    return out;
  }

  /** Hands a batch over until the handler accepts it; false if the consumer closed first. */
  private async deliver(reports: Report[], batch: readonly JsMsg[]): Promise<boolean> {
    const keepAlive = setInterval(() => {
      for (const msg of batch) msg.working();
      for (const msg of this.pending) msg.working();
    }, this.ctx.heartbeatMs);
    try {
      for (let rejections = 1; ; rejections++) {
        try {
          await this.handler(reports);
          if (rejections > 1) this.ctx.log(`report handler took ${reports.length} report(s) after ${rejections - 1} refusal(s)`);
          return true;
        } catch (err) {
          // The pause grows (a store that is away is not asked five times a second), capped so the
          // reports flow soon after it is back. A refusal or three is a blip (a deadlock retried, a
          // failover), said at info; from the 4th in a row it is an outage, said as an error at 4, 8, 16, ….
          const delay = Math.min(MAX_RETRY_DELAY_MS, this.ctx.retryDelayMs * 2 ** (rejections - 1));
          const said = `report handler rejected ${reports.length} report(s) (${rejections} time(s) in a row); delivering them again in ${delay} ms: ${messageOf(err)}`;
          if (rejections <= ERROR_AFTER_REFUSALS) this.ctx.log(said);
          else if ((rejections & (rejections - 1)) === 0) this.ctx.error(said);
          if (this.closed) return false;
          await this.pause(delay);
        }
        if (this.closed) return false;
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Waits `ms`, or less: close() ends the wait at once, so that it is not held up by a pause of seconds. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        if (this.endPause === end) this.endPause = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.endPause = end;
    });
  }

  private remember(seq: number): void {
    if (seq > this.handledThrough) this.handledThrough = seq;
    this.handled.add(seq);
    if (this.handled.size > REMEMBERED_SEQUENCES) {
      const oldest = this.handled.values().next().value;
      if (oldest !== undefined) this.handled.delete(oldest);
    }
  }
}
