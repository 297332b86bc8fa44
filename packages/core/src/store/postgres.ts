import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { DaemonLock } from './daemon-lock.ts';
import { DrizzleStore } from './drizzle-store.ts';
import { StoreError } from './errors.ts';
import { checkNotNewer, MIGRATIONS_FOLDER, newestApplied } from './migrations.ts';
import { type Query, moveSpecsToJson } from './spec-order.ts';

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /**
   * Take the database for this process alone (a daemon): a session advisory lock on a connection
   * of its own, held until close. Opening it so while another process holds it is refused.
   */
  exclusive?: boolean;
  /** With `exclusive`: told when the hold was lost to another process (see DaemonLock); checked every `lockCheckMs`. */
  onLockLost?: (err: StoreError) => void;
  lockCheckMs?: number;
  log?: (msg: string) => void;
}

/** Serialises migrations of several daemons starting at once against one database. */
const MIGRATION_LOCK_KEY = 7_303_656_419;

/** The URL with any password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

/**
 * The server store over postgres-js. A query that fails because the server is unreachable rejects
 * with a StoreError (code ECONNREFUSED, ECONNRESET, 57P01, ...) for the caller to retry; the pool
 * reconnects by itself once the server is back.
 */
export class PostgresStore extends DrizzleStore {
  private constructor(
    readonly url: string,
    client: postgres.Sql,
    /** The daemon's hold on the database, when opened `exclusive`. */
    readonly lock: DaemonLock | undefined,
  ) {
    super('postgres', drizzle({ client }), async () => {
      // Ending the lock's connection ends its session, and the lock with it.
      await lock?.release();
      await client.end({ timeout: 5 });
    });
  }

  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const shown = redactUrl(url);
    const client = postgres(url, { max: options.maxConnections ?? 10, onnotice: () => undefined, connect_timeout: 10 });
    let held: DaemonLock | undefined;
    try {
      // The lock first: a daemon refused must not have migrated the database of the one running.
      if (options.exclusive) {
        held = await DaemonLock.take(url, shown, {
          ...(options.lockCheckMs !== undefined && { checkMs: options.lockCheckMs }),
          ...(options.onLockLost && { onLost: options.onLockLost }),
          ...(options.log && { log: options.log }),
        });
      }
      await migrateDatabase(url);
    } catch (err) {
      await held?.release();
      await client.end({ timeout: 5 });
      if (err instanceof StoreError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new StoreError(`cannot open the PostgreSQL store at ${shown}: ${message}`, { cause: err });
    }
    options.log?.(`store: PostgreSQL at ${shown}${held ? ' (held by this daemon alone)' : ''}`);
    return new PostgresStore(shown, client, held);
  }
}

/** Applies the migrations on one dedicated connection that holds an advisory lock meanwhile. */
async function migrateDatabase(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => undefined, connect_timeout: 10 });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      const query: Query = (sql, params) => client.unsafe(sql, params as postgres.ParameterOrJSON<never>[] | undefined);
      const before = await newestApplied(query);
      checkNotNewer(before, `the database ${redactUrl(url)}`);
      await moveSpecsToJson(query, before);
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}
