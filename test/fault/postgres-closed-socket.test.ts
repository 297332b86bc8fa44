import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/daemon-process.ts';
import { ADMIN_URL } from '../support/postgres-db.ts';

// postgres-js 3.4.9 writes to a connection's socket from a timer after the socket has closed when
// the server ends a connection a transaction holds (porsager/postgres#1208): a TypeError no caller
// can catch, which ends the daemon in the middle of a PostgreSQL restart. sweepd installs the driver
// with a patch (patches/, applied by patch-package at npm install) that fails the transaction
// instead. This runs the reproduction in a process of its own: the transaction must reject
// with CONNECTION_CLOSED, the process live on, and the pool serve queries and transactions again.
const REPRODUCTION = `
import postgres from 'postgres';
const url = process.env.DATABASE_URL;
const sql = postgres(url, { max: 2, onnotice: () => {} });
const killer = postgres(url, { max: 1 });
let pid = null;
const tx = sql.begin(async (t) => {
  const [row] = await t\`select pg_backend_pid() as pid\`;
  pid = row.pid;
  await t\`select pg_sleep(2)\`;
});
while (pid === null) await new Promise((r) => setTimeout(r, 50));
await killer\`select pg_terminate_backend(\${pid})\`;
console.log('transaction:', await tx.then(() => 'committed', (e) => e.code));
await new Promise((r) => setTimeout(r, 500));
console.log('query:', (await sql\`select 1 as x\`)[0].x);
console.log('transaction again:', await sql.begin(async (t) => (await t\`select 2 as y\`)[0].y));
await sql.end({ timeout: 2 });
await killer.end({ timeout: 2 });
`;

describe('fault: PostgreSQL ends a connection in the middle of a transaction', () => {
  it('the transaction fails with CONNECTION_CLOSED and the process lives on (the driver patch is applied)', async () => {
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', REPRODUCTION],
        { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: ADMIN_URL }, timeout: 30_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });
    expect(run.out).not.toMatch(/TypeError/);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toBe('transaction: CONNECTION_CLOSED\nquery: 1\ntransaction again: 2\n');
  }, 40_000);
});
