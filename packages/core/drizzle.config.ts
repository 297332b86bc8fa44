// drizzle-kit configuration: `npx drizzle-kit generate --config packages/core/drizzle.config.ts`
// writes the SQL migrations that both store drivers apply at open.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './packages/core/src/store/schema.ts',
  out: './packages/core/drizzle',
});
