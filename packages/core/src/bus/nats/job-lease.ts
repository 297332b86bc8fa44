/**
 * How near the ack wait a gap between confirmed heartbeats may come before the hold counts as lost:
 * the server checks its pending jobs on its own timer, so a gap just under the ack wait is no proof.
 */
const LAPSE_FRACTION = 0.75;
/** Between heartbeats sent again while the connection is down. */
const RETRY_MS = 100;

/**
 * A worker's hold on a job it runs. JetStream hands a job to another worker once it has heard nothing
 * from the first for the ack wait. A first worker that was only stalled (stopped, paused, cut off)
 * runs on, and nothing on its message says the job has moved; its late acknowledgement would then
 * remove the job the other worker now holds, and should that one die, nothing would deliver it again.
 *
 * So each heartbeat is confirmed by a round trip to the server, and the hold counts as lapsed when,
 * between one confirmed heartbeat's sending and the next one's confirmation, most of an ack wait
 * went by: the server may have handed the job on. A delivery whose hold lapsed never acknowledges
 * nor hands back its job, and its end says so, for the daemon to settle (see JobConsumer).
 */
export class JobLease {
  /** When the last confirmed heartbeat was sent (at first, when the job arrived). */
  private heldSince: number;
  private beating: Promise<boolean> | undefined;
  private gap: number | undefined;

  constructor(
    /** Tells the server the job is still being worked on. */
    private readonly touch: () => void,
    /** Resolves once the server has handled what was sent before it (a round trip). */
    private readonly confirm: () => Promise<void>,
    private readonly ackWaitMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.heldSince = now();
  }

  /** Whether the hold lapsed at some point. */
  get lapsed(): boolean {
    return this.gap !== undefined;
  }

  /** The gap (ms) without a confirmed heartbeat that made the hold lapse, if it did. */
  get lapsedFor(): number | undefined {
    return this.gap;
  }

  /**
   * Sends a heartbeat, unless one is still on its way, and resolves whether it was confirmed (a
   * round trip refused while the connection is down is not).
   */
  beat(): Promise<boolean> {
    if (this.beating) return this.beating;
    const sent = this.now();
    this.touch();
    this.beating = this.confirm()
      .then(
        () => {
          this.note(this.now() - this.heldSince);
          this.heldSince = sent;
          return true;
        },
        // Unconfirmed: the next heartbeat's gap counts from the last confirmed one.
        () => false,
      )
      .finally(() => {
        this.beating = undefined;
      });
    return this.beating;
  }

  /**
   * Whether the hold lapsed, after one more confirmed heartbeat: heartbeats are sent until one is
   * confirmed. None confirmed within an ack wait (the server unreachable) counts as a lapse:
   * nothing vouches for the hold.
   */
  async check(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const waited = new Promise<false>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        resolve(false);
      }, this.ackWaitMs);
    });
    try {
      while (!(await Promise.race([this.beat(), waited]))) {
        if (timedOut) {
          this.note(this.now() - this.heldSince);
          break;
        }
        await Promise.race([new Promise((r) => setTimeout(r, RETRY_MS)), waited]);
      }
    } finally {
      clearTimeout(timer);
    }
    return this.lapsed;
  }

  private note(gap: number): void {
    if (gap > this.ackWaitMs * LAPSE_FRACTION) this.gap = Math.max(this.gap ?? 0, gap);
  }
}
