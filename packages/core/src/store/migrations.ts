import { fileURLToPath } from 'node:url';

/** packages/core/drizzle, found from this file so that opening works from any working directory. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
