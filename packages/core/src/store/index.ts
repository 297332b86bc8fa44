/**
 * @sweepd/core/store: the durable Store over drizzle-orm. Embedded PGlite by default, PostgreSQL
 * (postgres-js) when given a postgres:// URL; both share one schema and one set of migrations.
 */
import type { Store } from './contract.ts';
import { StoreError } from './errors.ts';
import { PgliteStore } from './pglite.ts';
import { PostgresStore, redactUrl } from './postgres.ts';

export type { EpochWrite, NewTrial, Store, StudyRecord, StudySummary, TrialRecord } from './contract.ts';
export { type DirLock, DirLockError } from '../file-lock.ts';
export { DrizzleStore } from './drizzle-store.ts';
export { StoreError } from './errors.ts';
export { DEFAULT_DATA_DIR, PgliteStore, type PgliteStoreOptions } from './pglite.ts';
export { PostgresStore, type PostgresStoreOptions, redactUrl } from './postgres.ts';
export * as storeSchema from './schema.ts';

export interface OpenStoreOptions {
  /** postgres:// or postgresql:// URL; absent or empty: embedded PGlite. */
  url?: string;
  /** PGlite data directory (default ./.sweepd/db), or 'memory://'. Ignored when url is given. */
  dataDir?: string;
  /** PostgreSQL: take the database for this process alone (a daemon); see PostgresStoreOptions. PGlite always is. */
  exclusive?: boolean;
  /** PostgreSQL with `exclusive`: told when the hold was lost to another process (see PostgresStoreOptions). */
  onLockLost?: (err: StoreError) => void;
  log?: (msg: string) => void;
}

/** Opens (and migrates) the store: PostgreSQL when a URL is given, else PGlite in dataDir. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const { url, dataDir, log, exclusive, onLockLost } = options;
  if (url === undefined || url === '') return PgliteStore.open({ ...(dataDir !== undefined && { dataDir }), ...(log && { log }) });
  if (/^postgres(ql)?:\/\//i.test(url))
    return PostgresStore.open(url, { ...(log && { log }), ...(exclusive && { exclusive }), ...(onLockLost && { onLockLost }) });
  throw new StoreError(`store url must start with postgres:// or postgresql:// (or be absent for embedded PGlite), got ${redactUrl(url)}`);
}
