/**
 * One event as it goes out on the wire: `id` is monotonic per study; `text(rows)` is the event's
 * JSON with at most `rows` leaderboard rows (every row when undefined), serialized once per size
 * for every client that asked for that size.
 */
export interface LiveEvent {
  id: number;
  /** The study had ended, and none of its trials was still in flight, when this table was taken: nothing follows it, and the stream closes after it. */
  final: boolean;
  text(rows?: number): string;
}

/**
 * What one SSE client has not been sent yet. Bounded: a client that falls `limit` events behind
 * loses its queue and is marked as needing a snapshot instead, so a slow or stuck reader costs
 * the daemon at most `limit` references to strings it already holds, and never blocks it.
 */
export class ClientQueue {
  private items: LiveEvent[] = [];
  private snapshotNeeded = false;
  private closed = false;
  private wake: (() => void) | undefined;
  /** How many times this client overflowed (for tests and the log). */
  overflows = 0;

  constructor(private readonly limit: number) {}

  push(event: LiveEvent): void {
    if (this.closed) return;
    if (this.snapshotNeeded) {
      // Already dropped: the snapshot it will get is taken when it asks, so nothing to keep.
    } else if (this.items.length >= this.limit) {
      this.items = [];
      this.snapshotNeeded = true;
      this.overflows++;
    } else {
      this.items.push(event);
    }
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.items = [];
    this.notify();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get length(): number {
    return this.items.length;
  }

  /** The next event, 'snapshot' when the client fell behind, or undefined once closed. */
  async next(): Promise<LiveEvent | 'snapshot' | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      if (this.snapshotNeeded) {
        this.snapshotNeeded = false;
        return 'snapshot';
      }
      const item = this.items.shift();
      if (item) return item;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
