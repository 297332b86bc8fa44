import { JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { BusNames } from './names.ts';
import { messageOf, sleep } from './publish.ts';

/** One heartbeat of the daemon reading a prefix's reports. */
interface Heartbeat {
  id: string;
  host: string;
  pid: number;
}

export interface PresenceOptions {
  /** Between heartbeats. */
  intervalMs: number;
  log(msg: string): void;
  /** For a second daemon found heartbeating beside this one (both passed the claim at once). */
  error(msg: string): void;
}

/** Thrown when another daemon reads this prefix's reports: two would take each other's. */
export class DaemonConflictError extends Error {
  constructor(
    readonly other: string,
    prefix: string,
  ) {
    super(
      `another sweepd daemon (${other}) is reading the reports of NATS prefix '${prefix}' on this server: two daemons would ` +
        `take each other's reports and leave studies waiting. Stop it first, or give this daemon a prefix of its own (SWEEPD_NATS_PREFIX)`,
    );
    this.name = 'DaemonConflictError';
  }
}

/**
 * The daemon's claim on a prefix: it heartbeats on the prefix's daemon subject while it reads the
 * reports, and a daemon that starts where another heartbeats refuses to. A heartbeat left by a
 * daemon that died is told from a live one by waiting for the next: none within two intervals, and
 * the claim is taken over. A daemon that closes takes its heartbeat away, so the next starts at once.
 */
export class DaemonPresence {
  private readonly me: Heartbeat = { id: randomUUID(), host: hostname(), pid: process.pid };
  private timer: NodeJS.Timeout | undefined;
  /** The dead daemon this one took over from: its last heartbeat is no conflict. */
  private replaced: string | undefined;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: BusNames,
    private readonly options: PresenceOptions,
  ) {}

  static async claim(js: JetStreamClient, jsm: JetStreamManager, names: BusNames, options: PresenceOptions): Promise<DaemonPresence> {
    const presence = new DaemonPresence(js, jsm, names, options);
    const seen = await presence.latest();
    if (seen && seen.beat.id !== presence.me.id) presence.replaced = seen.beat.id;
    if (seen && seen.beat.id !== presence.me.id && !diedOnThisHost(seen.beat)) {
      // Alive if it heartbeats again; a crashed daemon's last heartbeat just sits there.
      const deadline = Date.now() + 2 * options.intervalMs + 1_000;
      let released = false;
      while (Date.now() < deadline && !released) {
        await sleep(Math.min(500, options.intervalMs));
        const now = await presence.latest();
        released = now === undefined; // it closed meanwhile and took its heartbeat away
        if (now && now.seq !== seen.seq && now.beat.id !== presence.me.id) throw new DaemonConflictError(describe(now.beat), names.prefix);
      }
      if (!released)
        options.log(`NATS prefix '${names.prefix}': the daemon ${describe(seen.beat)} left a heartbeat but sends no more; taking over`);
    }
    await presence.beat();
    presence.timer = setInterval(() => void presence.beat(), options.intervalMs);
    presence.timer.unref();
    return presence;
  }

  /** Stops heartbeating and takes the last heartbeat away, so the next daemon need not wait. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    try {
      const seen = await this.latest();
      if (seen?.beat.id === this.me.id) await this.jsm.streams.purge(this.names.daemonStream, { filter: this.names.daemonSubject });
    } catch (err) {
      this.options.log(`could not take this daemon's heartbeat away: ${messageOf(err)}`);
    }
  }

  private async beat(): Promise<void> {
    try {
      const seen = await this.latest();
      // Two daemons started at the same moment: both passed the claim. Said loudly, every beat.
      if (seen && seen.beat.id !== this.me.id && seen.beat.id !== this.replaced)
        this.options.error(new DaemonConflictError(describe(seen.beat), this.names.prefix).message);
      await this.js.publish(this.names.daemonSubject, JSON.stringify(this.me));
    } catch (err) {
      this.options.log(`daemon heartbeat not sent: ${messageOf(err)}`);
    }
  }

  private async latest(): Promise<{ seq: number; beat: Heartbeat } | undefined> {
    try {
      const msg = await this.jsm.streams.getMessage(this.names.daemonStream, { last_by_subj: this.names.daemonSubject });
      if (!msg) return undefined;
      return { seq: msg.seq, beat: msg.json<Heartbeat>() };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.status === 404) return undefined;
      throw err;
    }
  }
}

function describe(beat: Heartbeat): string {
  return `${beat.host}:${beat.pid}`;
}

/** Whether the heartbeat is from a process of this host that no longer exists: no need to wait for its next. */
function diedOnThisHost(beat: Heartbeat): boolean {
  if (beat.host !== hostname() || !Number.isInteger(beat.pid)) return false;
  try {
    process.kill(beat.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
