import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { BusNames } from './names.ts';
import { messageOf } from './publish.ts';

/** How long the daemon waits for workers to answer who is there. */
export const ROLL_CALL_WAIT_MS = 500;

interface Answer {
  worker: string;
  pools: string[];
  /** The trials the worker runs now. */
  running: string[];
}

/** What the workers that answered a roll call serve and run. */
export interface RollCall {
  pools: Set<string>;
  trials: Set<string>;
}

/**
 * A worker answers the daemon's roll call with the pools it serves. The jobs consumer cannot tell a
 * busy worker from a dead one: both hold a job unacknowledged and send no pull request, and a job
 * whose worker was killed stays pending for ever when no other worker is there to take it.
 */
export class WorkerPresence {
  private readonly pools = new Map<string, number>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: BusNames,
    private readonly worker: string,
    /** The trials this worker runs now. */
    private readonly running: () => Iterable<string>,
    private readonly log: (msg: string) => void,
  ) {}

  /** This worker serves `pool` (once per job consumer); it answers roll calls from now on. */
  join(pool: string): void {
    this.pools.set(pool, (this.pools.get(pool) ?? 0) + 1);
    this.subscription ??= this.nc.subscribe(this.names.rollCallSubject, {
      callback: (err, msg) => {
        if (err) return this.log(`roll call subscription: ${err.message}`);
        const answer: Answer = { worker: this.worker, pools: [...this.pools.keys()], running: [...this.running()] };
        msg.respond(JSON.stringify(answer));
      },
    });
  }

  leave(pool: string): void {
    const left = (this.pools.get(pool) ?? 0) - 1;
    if (left > 0) this.pools.set(pool, left);
    else this.pools.delete(pool);
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }
}

/**
 * What the workers that answer a roll call within `waitMs` serve and run (none answering: nothing).
 * Throws rather than answer "nobody" when silence proves nothing: the connection was down (a
 * request then just times out), or this process was too busy to read the answers in time.
 */
export async function rollCall(nc: NatsConnection, names: BusNames, waitMs = ROLL_CALL_WAIT_MS): Promise<RollCall> {
  const found: RollCall = { pools: new Set(), trials: new Set() };
  await nc.flush(); // the server is there to ask
  const started = Date.now();
  try {
    const answers = await nc.requestMany(names.rollCallSubject, '', { strategy: 'timer', maxWait: waitMs });
    for await (const m of answers) {
      const answer = parseAnswer(m.string());
      for (const pool of answer?.pools ?? []) found.pools.add(pool);
      for (const trial of answer?.running ?? []) found.trials.add(trial);
    }
  } catch (err) {
    // No worker at all: the server says at once that nobody listens.
    if (!/no responders|503/i.test(messageOf(err))) throw err;
  }
  await nc.flush(); // and was there throughout
  const took = Date.now() - started;
  if (took > waitMs * STALL_FACTOR) {
    throw new Error(`the roll call took ${took} ms, not ${waitMs}: this process was too busy to count the answers`);
  }
  return found;
}

/** A roll call taking this many times its wait shows a stalled event loop: answers may be unread. */
const STALL_FACTOR = 1.5;

function parseAnswer(text: string): Answer | undefined {
  try {
    const value = JSON.parse(text) as Partial<Answer>;
    const strings = (list: unknown): list is string[] => Array.isArray(list) && list.every((p) => typeof p === 'string');
    if (typeof value.worker === 'string' && strings(value.pools) && strings(value.running)) {
      return { worker: value.worker, pools: value.pools, running: value.running };
    }
  } catch {
    // fall through
  }
  return undefined;
}
