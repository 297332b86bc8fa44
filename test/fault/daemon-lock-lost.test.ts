import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, startDaemonProcess } from '../support/daemon-process.ts';
import { createTempDatabase } from '../support/postgres-db.ts';

// The daemon's hold on its PostgreSQL database is a session lock: it goes with its connection. When
// that connection is ended and another process takes the lock before the daemon can take it again
// (a second daemon started during a server restart), the first daemon must not run on beside it:
// it says why and exits 1.
const DAEMON_LOCK_KEY = 7_303_656_420;

let db: Awaited<ReturnType<typeof createTempDatabase>> | undefined;
let daemon: DaemonProcess | undefined;
let other: postgres.Sql | undefined;

beforeAll(async () => {
  db = await createTempDatabase('sweepd_lock');
  daemon = await startDaemonProcess({ args: ['--database-url', db.url, '--workers', '0'] });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await other?.end({ timeout: 1 });
  await db?.drop();
});

describe('fault: the daemon loses its database lock to another process', () => {
  it('says so on stderr and exits 1', async () => {
    if (!daemon || !db) throw new Error('setup failed');
    const d = daemon;
    other = postgres(db.url, { max: 1, onnotice: () => undefined });
    const name = new URL(db.url).pathname.slice(1);
    // End the daemon's lock session, and take the lock at once, as a second daemon would. The
    // timeout makes the termination wait until the backend has gone, and its lock with it:
    // without it the lock could still be held when the next query asks for it.
    const killed = await other`
      select pg_terminate_backend(l.pid, 5000) from pg_locks l join pg_database g on g.oid = l.database
      where l.locktype = 'advisory' and l.classid = 1 and l.objid = 3008689124 and g.datname = ${name}`;
    expect(killed).toHaveLength(1);
    const [row] = await other<{ locked: boolean }[]>`select pg_try_advisory_lock(${DAEMON_LOCK_KEY}) as locked`;
    expect(row?.locked).toBe(true);

    const code = await new Promise<number | null>((resolve) => {
      if (d.child.exitCode !== null) return resolve(d.child.exitCode);
      d.child.once('exit', (c) => resolve(c));
    });
    expect(code, d.logs()).toBe(1);
    expect(d.logs()).toMatch(/lost the hold on the PostgreSQL database .*another sweepd daemon is using/);
  }, 30_000);
});
