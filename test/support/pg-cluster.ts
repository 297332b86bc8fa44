import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freeLoopbackPort } from './ports.ts';

/**
 * A PostgreSQL cluster owned by one test, which it may stop and start at will (the shared server at
 * 127.0.0.1:5432 must stay up for everyone else).
 *
 * How: `initdb -A trust -U postgres` into a fresh temp directory, then `pg_ctl start` with the
 * server listening on 127.0.0.1 only, on a free port, and its Unix socket in the same directory.
 * initdb and postgres refuse to run as root, so when the test runs as root every command runs as
 * the `postgres` OS user through `runuser -u postgres --` (util-linux; no password, no PAM login),
 * and the temp directory is chowned to that user first. As any other user they run directly.
 * fsync is off: the cluster is thrown away, and the tests measure recovery, not durability of the
 * disk. `kill()` at the end ends the postmaster by its pid (from postmaster.pid) and deletes the
 * directory.
 */
export interface TestPgCluster {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  /** pg_ctl stop (fast: connections are cut, no waiting for clients). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** pg_ctl start, and waits until pg_isready says it accepts connections. */
  start(): Promise<void>;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Ends the server by its pid (SIGKILL if it does not go on SIGQUIT) and deletes the cluster. */
  kill(): Promise<void>;
}

const run = promisify(execFile);
const HOST = '127.0.0.1';

/** The newest /usr/lib/postgresql/<version>/bin holding initdb, or SWEEPD_PG_BIN. */
function pgBinDir(): string {
  const fromEnv = process.env.SWEEPD_PG_BIN;
  const candidates = fromEnv ? [fromEnv] : ['18', '17', '16', '15', '14'].map((v) => `/usr/lib/postgresql/${v}/bin`);
  const found = candidates.find((dir) => existsSync(path.join(dir, 'initdb')));
  if (!found) {
    throw new Error(
      `no PostgreSQL server binaries (initdb) in ${candidates.join(', ')}: install the postgresql package or set SWEEPD_PG_BIN`,
    );
  }
  return found;
}

export async function startTestPgCluster(): Promise<TestPgCluster> {
  const bin = pgBinDir();
  const asRoot = userInfo().uid === 0;
  const dir = await mkdtemp(path.join(tmpdir(), 'sweepd-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error('running as root, the test PostgreSQL cluster needs the `postgres` OS user (initdb refuses root), and there is none');
    });
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pg = (tool: string, args: string[]) => {
    const command = path.join(bin, tool);
    return asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
  };
  const describe = async (what: string, err: unknown): Promise<Error> => {
    const e = err as { stderr?: string; message?: string };
    const log = await readFile(logFile, 'utf8').catch(() => '');
    return new Error(`test PostgreSQL cluster in ${dir}: ${what} failed: ${e.stderr || e.message}\n${log.slice(-2_000)}`);
  };

  const port = await freeLoopbackPort();
  try {
    await pg('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw await describe('initdb', err);
  }
  const options = `-p ${port} -k ${dir} -c listen_addresses=${HOST} -c fsync=off -c full_page_writes=off`;

  const start = async (): Promise<void> => {
    try {
      await pg('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '30', '-o', options]);
      await pg('pg_isready', ['-h', HOST, '-p', String(port), '-t', '10']);
    } catch (err) {
      throw await describe('start', err);
    }
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    try {
      await pg('pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '30']);
    } catch (err) {
      throw await describe('stop', err);
    }
  };
  const url = (database = 'postgres') => `postgres://postgres@${HOST}:${port}/${database}`;

  try {
    await start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    url,
    start,
    stop,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`createDatabase: '${name}' is not a plain lower-case identifier`);
      const admin = postgres(url(), { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async kill() {
      const pid = await postmasterPid(dataDir);
      if (pid !== undefined) {
        // SIGQUIT is PostgreSQL's immediate shutdown; SIGKILL if it is still there a few seconds later.
        signal(pid, 'SIGQUIT');
        const deadline = Date.now() + 5_000;
        while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (alive(pid)) signal(pid, 'SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  try {
    const first = (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0];
    const pid = Number(first);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
