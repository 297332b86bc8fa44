import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/** The drizzle database the Store runs on, whichever driver (PGlite or postgres-js) opened it. */
// biome-ignore lint/suspicious/noExplicitAny: the two drivers' databases differ only in their query-result type
export type StoreDatabase = PgDatabase<PgQueryResultHKT, any>;
