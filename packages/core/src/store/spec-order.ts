import { decodeSpecText } from '../spec/parse.ts';
import { knownMigrations } from './migrations.ts';

/**
 * Studies' specs in the order they were submitted. Before migration 0003 the spec column was jsonb,
 * which reorders an object's keys (by length, then bytes); strategies draw by the order of the
 * space, so a study resumed from it drew other trials than it would have. The column is json now,
 * which keeps what is written. Specs stored before are put back in the order of their submitted
 * text in the same transaction that changes the column, ahead of the migrator (whose 0003 then
 * changes nothing and is recorded). A crash before that record only means this step runs again on
 * the next open and finds nothing to change; never is the column json with specs in jsonb's order.
 */

/** Runs one SQL text with positional parameters and gives its rows, whichever client the store uses. */
export type Query = (sql: string, params?: unknown[]) => Promise<readonly Record<string, unknown>[]>;

/** The time stamp of the migration that made the column json (drizzle's created_at for it). */
export function specInJsonMigration(): number {
  const entry = knownMigrations().find((e) => e.tag.startsWith('0003_'));
  if (!entry) throw new Error('migration 0003 is missing from the journal');
  return entry.when;
}

/** `value` with its objects' keys in the order they have in `like`; keys `like` lacks follow, as they were. */
export function inOrderOf(value: unknown, like: unknown): unknown {
  if (Array.isArray(value)) return value.map((v, i) => inOrderOf(v, Array.isArray(like) ? like[i] : undefined));
  if (value === null || typeof value !== 'object') return value;
  const ref = like !== null && typeof like === 'object' && !Array.isArray(like) ? (like as Record<string, unknown>) : {};
  const obj = value as Record<string, unknown>;
  const keys = [...Object.keys(ref).filter((k) => Object.hasOwn(obj, k)), ...Object.keys(obj).filter((k) => !Object.hasOwn(ref, k))];
  return Object.fromEntries(keys.map((k) => [k, inOrderOf(obj[k], ref[k])]));
}

/**
 * Makes the spec column json and puts every stored spec back in the order of its submitted text,
 * in one transaction, when `appliedBefore` (the newest migration the database had before this
 * open) predates migration 0003. A text that no longer parses leaves its spec as it is. Returns how
 * many specs were reordered.
 */
export async function moveSpecsToJson(query: Query, appliedBefore: number | undefined): Promise<number> {
  if (appliedBefore === undefined || appliedBefore >= specInJsonMigration()) return 0;
  await query('begin');
  try {
    await query('alter table studies alter column spec set data type json');
    let restored = 0;
    for (const row of await query('select id, spec::text as spec, spec_text from studies')) {
      let submitted: unknown;
      try {
        submitted = decodeSpecText(String(row.spec_text));
      } catch {
        continue;
      }
      const stored = JSON.parse(String(row.spec)) as unknown;
      const ordered = JSON.stringify(inOrderOf(stored, submitted));
      if (ordered === JSON.stringify(stored)) continue;
      await query('update studies set spec = $1::json where id = $2', [ordered, row.id]);
      restored++;
    }
    await query('commit');
    return restored;
  } catch (err) {
    await query('rollback');
    throw err;
  }
}
