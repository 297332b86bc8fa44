import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { DrizzleStore } from './drizzle-store.ts';
import { StoreError } from './errors.ts';
import { MIGRATIONS_FOLDER } from './migrations.ts';

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10). */
  maxConnections?: number;
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
  ) {
    super('postgres', drizzle({ client }), () => client.end({ timeout: 5 }));
  }

  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const shown = redactUrl(url);
    try {
      await migrateDatabase(url);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new StoreError(`cannot open the PostgreSQL store at ${shown}: ${message}`, { cause: err });
    }
    const client = postgres(url, { max: options.maxConnections ?? 10, onnotice: () => undefined, connect_timeout: 10 });
    options.log?.(`store: PostgreSQL at ${shown}`);
    return new PostgresStore(shown, client);
  }
}

/** Applies the migrations on one dedicated connection that holds an advisory lock meanwhile. */
async function migrateDatabase(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => undefined, connect_timeout: 10 });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}
