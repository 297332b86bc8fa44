import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** packages/core/drizzle, found from this file so that opening works from any working directory. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** The migrations this version knows, from drizzle-kit's journal: each one's tag and time stamp. */
export function knownMigrations(): { tag: string; when: number }[] {
  return (JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as { entries: { tag: string; when: number }[] })
    .entries;
}

/** The time stamp of the newest migration this version knows (drizzle records it as the row's created_at). */
export function newestKnownMigration(): number {
  return Math.max(...knownMigrations().map((e) => e.when));
}

/**
 * The newest migration a database has had (drizzle's record of it), or undefined on a new one;
 * `query` runs one SQL text and gives its rows, whichever client the store uses.
 */
export async function newestApplied(query: (sql: string) => Promise<readonly Record<string, unknown>[]>): Promise<number | undefined> {
  const [table] = await query(`select to_regclass('drizzle.__drizzle_migrations')::text as t`);
  if (!table?.t) return undefined;
  const [row] = await query('select max(created_at)::text as newest from drizzle.__drizzle_migrations');
  return row?.newest ? Number(row.newest) : undefined;
}

/**
 * Refuses a database whose schema a newer sweepd has migrated past what this version knows:
 * drizzle's migrator only applies what is newer, so an older sweepd (a rollback) would otherwise
 * write to tables it does not know the shape of, without a word.
 */
export function checkNotNewer(newestApplied: number | undefined, where: string): void {
  const known = newestKnownMigration();
  if (newestApplied !== undefined && newestApplied > known)
    throw new Error(
      `${where} was migrated by a newer sweepd (migration of ${new Date(newestApplied).toISOString()}, newer than this version's ` +
        `last of ${new Date(known).toISOString()}): run that version on it, or give this one another data directory or database`,
    );
}
