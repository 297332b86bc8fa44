import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTimeOf } from '../process-start.ts';
import { parseSpec, parseSpecText } from '../spec/parse.ts';
import { storeContractSuite } from '../testing/store-suite.ts';
import type { Store } from './contract.ts';
import { DirLockError, openStore, PgliteStore, PostgresStore, StoreError } from './index.ts';
import { newestKnownMigration } from './migrations.ts';
import { specInJsonMigration } from './spec-order.ts';

const ADMIN_URL = process.env.SWEEPD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const spec = parseSpec({
  name: 'store-test',
  objective: {},
  space: { learning_rate: { type: 'float', low: 0.001, high: 0.1 } },
  budget: { max_trials: 10, max_epochs: 3 },
});

/** A space neither alphabetical nor by length, as a user writes it; and its submitted text. */
const ORDER = ['learning_rate', 'optimizer', 'frozen_layers'];
const orderedText = [
  'name: order',
  'objective: {metric: val_auc_macro}',
  'space:',
  '  learning_rate: {type: float, low: 0.0001, high: 0.1, log: true}',
  '  optimizer: {type: categorical, choices: [sgd, adam]}',
  '  frozen_layers: {type: int, low: 0, high: 3}',
  'budget: {max_trials: 4, max_epochs: 2}',
].join('\n');

/**
 * A store as the version before the json spec column left it: a study stored, then the column made
 * jsonb again (which reorders its keys) and migration 0003 forgotten. `run` runs SQL on it raw.
 */
async function storedBeforeJsonColumn(open: () => Promise<Store>, run: (sql: string) => Promise<unknown>): Promise<string> {
  const store = await open();
  const study = await store.createStudy({ spec: parseSpecText(orderedText), specText: orderedText });
  await store.close();
  await run('alter table studies alter column spec type jsonb using spec::jsonb');
  await run(`delete from drizzle.__drizzle_migrations where created_at = ${specInJsonMigration()}`);
  return study.id;
}

describe('PGlite', () => {
  // A fresh PGlite directory takes seconds to initialise: make one migrated template, copy it per test.
  let root: string;
  let template: string;
  let dataDir: string;
  let serial = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sweepd-store-'));
    template = join(root, 'template');
    await (await openStore({ dataDir: template })).close();
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dataDir = join(root, `db-${serial++}`);
    await cp(template, dataDir, { recursive: true });
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  storeContractSuite('PGlite', () => openStore({ dataDir }));

  it('is the default store, kind pglite, and logs where it lives', async () => {
    const lines: string[] = [];
    const store = await openStore({ dataDir, log: (m) => lines.push(m) });
    try {
      expect(store.kind).toBe('pglite');
      expect(store).toBeInstanceOf(PgliteStore);
      expect(lines.join('\n')).toContain(dataDir);
    } finally {
      await store.close();
    }
  });

  it('refuses a second owner of the data directory in the same process, naming the directory and pid', async () => {
    const first = await openStore({ dataDir });
    try {
      const second = openStore({ dataDir });
      await expect(second).rejects.toBeInstanceOf(DirLockError);
      await expect(second).rejects.toThrow(dataDir);
      await expect(second).rejects.toThrow(`pid ${process.pid}`);
      // The refused open did not disturb the owner.
      expect((await first.listStudies()).length).toBe(0);
    } finally {
      await first.close();
    }
    // Released on close: the directory can be opened again.
    await expect(stat(`${dataDir}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
    await (await openStore({ dataDir })).close();
  });

  it('refuses a directory whose lock is held by another live process', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await writeFile(`${dataDir}.lock`, `${holder.pid} othertoken\n`);
      await expect(openStore({ dataDir })).rejects.toThrow(new RegExp(`${escapeRegExp(dataDir)}.*process ${holder.pid}`));
      // The other owner's lock is left in place.
      expect(await readFile(`${dataDir}.lock`, 'utf8')).toContain(String(holder.pid));
    } finally {
      holder.kill();
    }
  });

  it('takes over a stale lock left by a process that died', async () => {
    const dead = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const pid = dead.pid!;
    await new Promise((resolve) => dead.on('exit', resolve));
    await writeFile(`${dataDir}.lock`, `${pid} deadtoken\n`);
    const store = await openStore({ dataDir });
    try {
      expect(await readFile(`${dataDir}.lock`, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
      const study = await store.createStudy({ spec, specText: 'x' });
      expect(await store.getStudy(study.id)).toEqual(study);
    } finally {
      await store.close();
    }
  });

  it('takes over a lock whose pid was reused since: a live process that started at another time is not its holder', async () => {
    // A daemon killed in a container leaves a lock naming pid 1, and the next run is pid 1 again.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      for (const pid of [process.pid, other.pid as number]) {
        const start = startTimeOf(pid);
        expect(start, 'the start time from /proc').toBeDefined();
        await writeFile(`${dataDir}.lock`, `${pid} oldtoken ${Number(start) - 1}\n`);
        const store = await openStore({ dataDir });
        await store.close();
      }
      // The same pid and start time is its holder: refused.
      await writeFile(`${dataDir}.lock`, `${other.pid} othertoken ${startTimeOf(other.pid as number)}\n`);
      await expect(openStore({ dataDir })).rejects.toThrow(`process ${other.pid}`);
    } finally {
      other.kill();
    }
  });

  it('refuses a data directory a newer sweepd migrated past what this version knows, and opens it as it was after', async () => {
    // A rollback: drizzle would apply nothing and let this version write tables of another shape.
    const raw = await PGlite.create(dataDir);
    const future = newestKnownMigration() + 86_400_000;
    await raw.query(`insert into drizzle.__drizzle_migrations (hash, created_at) values ('future', ${future})`);
    await raw.close();
    const refused = openStore({ dataDir });
    await expect(refused).rejects.toBeInstanceOf(StoreError);
    await expect(refused).rejects.toThrow(
      /was migrated by a newer sweepd .*run that version on it, or give this one another data directory/,
    );
    const again = await PGlite.create(dataDir);
    await again.query(`delete from drizzle.__drizzle_migrations where hash = 'future'`);
    await again.close();
    await (await openStore({ dataDir })).close();
  });

  it('opening a data directory of the jsonb spec column puts each spec back in the order it was submitted', async () => {
    const id = await storedBeforeJsonColumn(
      () => openStore({ dataDir }),
      async (sql) => {
        const raw = await PGlite.create(dataDir);
        await raw.query(sql);
        await raw.close();
      },
    );
    const raw = await PGlite.create(dataDir);
    const [row] = (await raw.query<{ spec: string }>('select spec::text as spec from studies')).rows;
    await raw.close();
    expect(Object.keys(JSON.parse(row?.spec ?? '{}').space)).toEqual(['optimizer', 'frozen_layers', 'learning_rate']);
    const store = await openStore({ dataDir });
    expect(Object.keys((await store.getStudy(id))?.spec.space ?? {})).toEqual(ORDER);
    await store.close();
    // Stopped after the column moved but before the migrator recorded 0003: done again, harmlessly.
    const cut = await PGlite.create(dataDir);
    await cut.query(`delete from drizzle.__drizzle_migrations where created_at = ${specInJsonMigration()}`);
    await cut.close();
    const again = await openStore({ dataDir });
    expect(Object.keys((await again.getStudy(id))?.spec.space ?? {})).toEqual(ORDER);
    await again.close();
  });

  it('rejects a URL that is not PostgreSQL', async () => {
    await expect(openStore({ url: 'mysql://root@localhost/x' })).rejects.toThrow(/postgres:\/\//);
  });
});

describe('PostgreSQL', () => {
  const database = `sweepd_test_${randomBytes(6).toString('hex')}`;
  const testUrl = withDatabase(ADMIN_URL, database);
  let admin: postgres.Sql;

  beforeAll(async () => {
    admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
    try {
      await admin.unsafe(`create database ${database}`);
    } catch (err) {
      await admin.end({ timeout: 1 });
      throw new Error(
        `PostgreSQL is not reachable at ${ADMIN_URL} (set SWEEPD_TEST_DATABASE_URL, or start the server: bash scripts/test-env.sh): ${(err as Error).message}`,
      );
    }
  });
  afterAll(async () => {
    if (!admin) return;
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end({ timeout: 5 });
  });

  storeContractSuite('PostgreSQL', () => openStore({ url: testUrl }));

  it('is kind postgres and hides the password in what it logs', async () => {
    const lines: string[] = [];
    const url = withPassword(testUrl, 'sekret');
    const store = await openStore({ url, log: (m) => lines.push(m) });
    try {
      expect(store.kind).toBe('postgres');
      expect(store).toBeInstanceOf(PostgresStore);
      expect(lines.join('\n')).toContain(database);
      expect(lines.join('\n')).not.toContain('sekret');
    } finally {
      await store.close();
    }
  });

  it('exclusive (a daemon): a second exclusive open of the database is refused while the first is open, and allowed after', async () => {
    const first = await openStore({ url: testUrl, exclusive: true });
    try {
      const second = openStore({ url: withPassword(testUrl, 'sekret'), exclusive: true });
      await expect(second).rejects.toBeInstanceOf(StoreError);
      await expect(second).rejects.toThrow(new RegExp(`another sweepd daemon is using the PostgreSQL database .*${database}`));
      await expect(second).rejects.not.toThrow('sekret');
      // Tools that only read or write (a bench, a migration) are not daemons and still open it.
      const plain = await openStore({ url: testUrl });
      await plain.close();
    } finally {
      await first.close();
    }
    const again = await openStore({ url: testUrl, exclusive: true });
    await again.close();
  });

  /**
   * Ends the session that holds the daemon lock of the test database (a dropped connection, as a
   * server restart does), waiting up to 5 s for it to be gone: the server only signals it otherwise.
   */
  async function killLockSession(): Promise<number> {
    const killed = await admin`
      select pg_terminate_backend(l.pid, 5000) from pg_locks l join pg_database d on d.oid = l.database
      where l.locktype = 'advisory' and l.classid = 1 and l.objid = 3008689124 and d.datname = ${database}`;
    // false: the session was still there after the 5 s.
    if (killed.some((row) => row.pg_terminate_backend !== true)) throw new Error('the lock-holding session did not end within 5 s');
    return killed.length;
  }

  it('exclusive: a hold that went with its connection is taken again, and a second daemon is still refused', async () => {
    const lines: string[] = [];
    const lost: unknown[] = [];
    const first = await PostgresStore.open(testUrl, {
      exclusive: true,
      lockCheckMs: 100,
      onLockLost: (e) => lost.push(e),
      log: (m) => lines.push(m),
    });
    try {
      expect(await killLockSession()).toBe(1);
      await until(() => lines.some((l) => l.includes('taken again')));
      await expect(PostgresStore.open(testUrl, { exclusive: true })).rejects.toThrow(/another sweepd daemon is using/);
      expect(lost).toEqual([]);
    } finally {
      await first.close();
    }
  });

  it('exclusive: a daemon whose hold went with its connection while another daemon took it is told so', async () => {
    const lost: Error[] = [];
    const first = await PostgresStore.open(testUrl, { exclusive: true, lockCheckMs: 60_000, onLockLost: (e) => lost.push(e) });
    let second: PostgresStore | undefined;
    try {
      expect(await killLockSession()).toBe(1);
      second = await PostgresStore.open(testUrl, { exclusive: true });
      await first.lock?.check();
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(StoreError);
      expect(lost[0]?.message).toMatch(/lost the hold on the PostgreSQL database .* another sweepd daemon is using/);
    } finally {
      await second?.close();
      await first.close();
    }
  });

  it('refuses a database a newer sweepd migrated past what this version knows', async () => {
    await (await openStore({ url: testUrl })).close();
    const future = newestKnownMigration() + 86_400_000;
    const sql = postgres(testUrl, { max: 1, onnotice: () => undefined });
    try {
      await sql`insert into drizzle.__drizzle_migrations (hash, created_at) values ('future', ${future})`;
      await expect(openStore({ url: testUrl })).rejects.toThrow(/the database .* was migrated by a newer sweepd/);
    } finally {
      await sql`delete from drizzle.__drizzle_migrations where hash = 'future'`;
      await sql.end({ timeout: 5 });
    }
    await (await openStore({ url: testUrl })).close();
  });

  it('opening a database of the jsonb spec column puts each spec back in the order it was submitted', async () => {
    const sql = postgres(testUrl, { max: 1, onnotice: () => undefined });
    try {
      const id = await storedBeforeJsonColumn(
        () => openStore({ url: testUrl }),
        (text) => sql.unsafe(text),
      );
      const store = await openStore({ url: testUrl });
      expect(Object.keys((await store.getStudy(id))?.spec.space ?? {})).toEqual(ORDER);
      await store.close();
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('fails to open with a clear error when the server is unreachable', async () => {
    const open = openStore({ url: 'postgres://postgres:pw@127.0.0.1:1/nothing' });
    await expect(open).rejects.toBeInstanceOf(StoreError);
    await expect(open).rejects.toThrow(/127\.0\.0\.1:1.*ECONNREFUSED|ECONNREFUSED.*127\.0\.0\.1:1/s);
    await expect(open).rejects.not.toThrow('pw@');
  });

  it('keeps working after its connections are killed by the server: errors surface, then it reconnects', async () => {
    const store: Store = await openStore({ url: testUrl });
    try {
      const study = await store.createStudy({ spec, specText: 'x' });
      const killed =
        await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database} and pid <> pg_backend_pid()`;
      expect(killed.length).toBeGreaterThan(0);
      // The first call may fail (the caller retries); it must fail as a StoreError, not hang or crash.
      const errors: unknown[] = [];
      let read: Awaited<ReturnType<Store['getStudy']>>;
      for (let attempt = 0; attempt < 5 && read === undefined; attempt++) {
        read = await store.getStudy(study.id).catch((err: unknown) => {
          errors.push(err);
          return undefined;
        });
      }
      expect(read).toEqual(study);
      for (const err of errors) expect(err).toBeInstanceOf(StoreError);
      const trials = await store.createTrials(study.id, [{ params: { learning_rate: 0.01 } }]);
      expect(trials[0]?.number).toBe(0);
    } finally {
      await store.close();
    }
  });
});

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
