import { getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { StoreDatabase } from './database.ts';

/** Rows per statement: bounds the size of one statement (the rows travel as a single parameter). */
const ROWS_PER_STATEMENT = 5_000;

/** JSON has no NaN or Infinity; PostgreSQL's float8 input reads these strings back as the numbers. */
function nonFiniteAsString(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/**
 * Inserts many rows with one statement per 5,000 rows: INSERT ... SELECT FROM
 * jsonb_to_recordset($1) ... ON CONFLICT (target) DO UPDATE SET col = excluded.col.
 *
 * The rows travel as ONE jsonb parameter instead of one bind parameter per value. That keeps far
 * under PostgreSQL's 65,535-parameter limit and is about three times faster than drizzle's
 * multi-row VALUES builder, whose SQL building dominates for thousands of rows (measured: 4,000
 * layer rows took 1.1 s through the builder, 0.4 s this way). Column names and types come from the
 * drizzle table, so the schema stays the single source of truth.
 *
 * `keys` are the table's property names present in the rows; columns left out take their defaults.
 * `conflict` names the unique key: its rows are updated with every other inserted column, plus
 * `refresh` (columns left out whose default should be taken again, e.g. a recorded-at time).
 * Without `conflict` the rows are plainly inserted.
 */
export async function insertRows<T extends PgTable>(
  db: StoreDatabase,
  table: T,
  rows: readonly Record<string, unknown>[],
  keys: readonly (keyof T['_']['columns'] & string)[],
  conflict?: { target: readonly (keyof T['_']['columns'] & string)[]; refresh?: readonly (keyof T['_']['columns'] & string)[] },
): Promise<void> {
  if (rows.length === 0) return;
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  const column = (key: string): PgColumn => {
    const c = columns[key];
    if (!c) throw new Error(`insertRows: table ${getTableName(table)} has no column ${key}`);
    return c;
  };
  const name = (key: string) => sql.identifier(column(key).name);
  const targetCols = sql.join(
    keys.map((k) => name(k)),
    sql`, `,
  );
  const selected = sql.join(
    keys.map((k) => sql`x.${sql.identifier(k)}`),
    sql`, `,
  );
  const recordType = sql.join(
    keys.map((k) => sql`${sql.identifier(k)} ${sql.raw(column(k).getSQLType())}`),
    sql`, `,
  );
  let onConflict: SQL = sql``;
  if (conflict) {
    const updated = [...keys.filter((k) => !conflict.target.includes(k)), ...(conflict.refresh ?? [])];
    const set = sql.join(
      updated.map((k) => sql`${name(k)} = excluded.${name(k)}`),
      sql`, `,
    );
    const target = sql.join(
      conflict.target.map((k) => name(k)),
      sql`, `,
    );
    onConflict = updated.length > 0 ? sql` on conflict (${target}) do update set ${set}` : sql` on conflict (${target}) do nothing`;
  }
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const payload = JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT), nonFiniteAsString);
    await db.execute(
      sql`insert into ${table} (${targetCols}) select ${selected} from jsonb_to_recordset(${payload}::jsonb) as x(${recordType})${onConflict}`,
    );
  }
}
