import { LocalBus, type Store } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { StudyEngine } from '@sweepd/search';
import { afterAll, beforeAll } from 'vitest';
import '@sweepd/trainer';
import { createApp } from './app.ts';

/**
 * For API tests: an in-memory store, an engine on the local bus and the app, opened before the
 * file's tests and closed after. No workers: trials stay queued, and tests write their epochs
 * into the store themselves.
 */
export function useTestApp(): { readonly store: Store; readonly engine: StudyEngine; readonly app: ReturnType<typeof createApp> } {
  const parts = {} as { store: Store; engine: StudyEngine; app: ReturnType<typeof createApp> };
  beforeAll(async () => {
    parts.store = await openStore({ dataDir: 'memory://' });
    parts.engine = new StudyEngine({ store: parts.store, bus: new LocalBus() });
    await parts.engine.start();
    parts.app = createApp({ store: parts.store, engine: parts.engine });
  }, 240_000); // PGlite takes 10 s to start on an idle 2-core machine, over a minute on a busy one
  afterAll(async () => {
    await parts.engine?.close();
    await parts.store?.close();
  });
  return parts;
}
