import postgres from 'postgres';
import { StoreError } from './errors.ts';

/** Held by the one daemon that uses a database (two would share one report stream and lose reports). */
export const DAEMON_LOCK_KEY = 7_303_656_420;

export interface DaemonLockOptions {
  /** How often the hold is checked (default 5 s). */
  checkMs?: number;
  /** Told once when the lock was lost and another process holds it now; the hold is then given up. */
  onLost?: (err: StoreError) => void;
  log?: (msg: string) => void;
}

const refusal = (shown: string) =>
  `another sweepd daemon is using the PostgreSQL database ${shown}: stop it first, or give this daemon a database of its own ` +
  '(two daemons on one database would take each other’s reports)';

/**
 * A daemon's hold on its PostgreSQL database: a session advisory lock on a connection of its own.
 * A session lock lives as long as its connection, and when that drops (a server restart, a killed
 * backend) the lock is gone while the daemon runs on. So the hold is checked every few seconds and
 * taken again on a new connection; if another daemon took it meanwhile, `onLost` is told.
 */
export class DaemonLock {
  private readonly timer: NodeJS.Timeout;
  private checking: Promise<void> | undefined;
  private released = false;
  /** The last check could not reach the server: said once per outage, not every few seconds. */
  private unreachable = false;

  private constructor(
    /** A client of one connection, so that the lock's session is the only one it has. */
    private readonly client: postgres.Sql,
    private readonly shown: string,
    private readonly options: DaemonLockOptions,
  ) {
    this.timer = setInterval(() => void this.check(), options.checkMs ?? 5_000);
    this.timer.unref();
  }

  /** Takes the lock, or throws a StoreError naming the database when another process holds it. */
  static async take(url: string, shown: string, options: DaemonLockOptions = {}): Promise<DaemonLock> {
    // Not a connection reserved from the store's pool: postgres-js crashes the process on a query
    // to a reserved connection the server has ended, while a pool of one reconnects.
    const client = postgres(url, { max: 1, idle_timeout: 0, max_lifetime: null, connect_timeout: 10, onnotice: () => undefined });
    try {
      if (!(await lockOn(client))) throw new StoreError(refusal(shown));
      return new DaemonLock(client, shown, options);
    } catch (err) {
      await client.end({ timeout: 5 });
      throw err;
    }
  }

  /** Checks the hold now (the timer does this every checkMs); a check already running is joined. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    if (this.released) return;
    try {
      // The lock itself, not the backend's pid: a server restarted in a fresh PID namespace (a
      // container) can give the new session the old pid.
      const held = await holds(this.client);
      this.unreachable = false;
      if (held) return;
      const taken = await lockOn(this.client);
      if (this.released) return;
      if (!taken) {
        await this.release();
        this.options.onLost?.(
          new StoreError(`lost the hold on the PostgreSQL database ${this.shown} when its connection dropped: ${refusal(this.shown)}`),
        );
        return;
      }
      this.options.log?.(`store: the hold on ${this.shown} went with its connection and is taken again`);
    } catch (err) {
      // The server is away or the connection broke mid-query: the next check tries again.
      if (this.released || this.unreachable) return;
      this.unreachable = true;
      this.options.log?.(`store: cannot check the hold on ${this.shown} yet (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  /** Stops checking and ends the lock's connection, and with its session the lock. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.client.end({ timeout: 5 });
  }
}

/** Tries the lock on this connection: whether it is taken (false: another session holds it). */
async function lockOn(client: postgres.Sql): Promise<boolean> {
  const [row] = await client<{ locked: boolean }[]>`select pg_try_advisory_lock(${DAEMON_LOCK_KEY}) as locked`;
  return row?.locked === true;
}

/** Whether this connection's session holds the lock (a bigint key shows in pg_locks as classid, objid). */
async function holds(client: postgres.Sql): Promise<boolean> {
  const key = BigInt(DAEMON_LOCK_KEY);
  const [row] = await client<{ held: boolean }[]>`
    select exists(
      select 1 from pg_locks
      where locktype = 'advisory' and classid = ${Number(key >> 32n)} and objid = ${Number(key & 0xffffffffn)} and objsubid = 1
        and pid = pg_backend_pid() and granted
    ) as held`;
  return row?.held === true;
}
