import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { acquireDirLock, type DirLock } from '../file-lock.ts';
import { DrizzleStore } from './drizzle-store.ts';
import { StoreError } from './errors.ts';
import { checkNotNewer, MIGRATIONS_FOLDER, newestApplied } from './migrations.ts';
import { type Query, moveSpecsToJson } from './spec-order.ts';

export const DEFAULT_DATA_DIR = './.sweepd/db';

export interface PgliteStoreOptions {
  /** Data directory (default ./.sweepd/db, resolved against the cwd), or 'memory://' for a throwaway store. */
  dataDir?: string;
  log?: (msg: string) => void;
}

/** The embedded store: PGlite in this process, one owner per data directory (see ../file-lock.ts). */
export class PgliteStore extends DrizzleStore {
  private constructor(
    readonly dataDir: string,
    client: PGlite,
    lock: DirLock | undefined,
  ) {
    super('pglite', drizzle({ client }), async () => {
      try {
        await client.close();
      } finally {
        await lock?.release();
      }
    });
  }

  static async open(options: PgliteStoreOptions = {}): Promise<PgliteStore> {
    const inMemory = options.dataDir?.startsWith('memory://') ?? false;
    const dir = inMemory ? options.dataDir! : resolve(options.dataDir ?? DEFAULT_DATA_DIR);
    // The lock file sits beside the directory: PGlite's initdb expects to own the directory's contents.
    const lock = inMemory ? undefined : await acquireDirLock(`${dir}.lock`, `the PGlite data directory ${dir}`);
    let client: PGlite | undefined;
    try {
      if (!inMemory) await mkdir(dir, { recursive: true });
      client = await PGlite.create(dir);
      const pglite = client; // a const, for the closure below
      const query: Query = async (sql, params) => (await pglite.query<Record<string, unknown>>(sql, params)).rows;
      const before = await newestApplied(query);
      checkNotNewer(before, `the PGlite data directory ${dir}`);
      await moveSpecsToJson(query, before);
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
      options.log?.(`store: PGlite at ${dir}`);
      return new PgliteStore(dir, client, lock);
    } catch (err) {
      await client?.close().catch(() => undefined);
      await lock?.release();
      const message = err instanceof Error ? err.message : String(err);
      throw new StoreError(`cannot open the PGlite store at ${dir}: ${message}`, { cause: err });
    }
  }
}
