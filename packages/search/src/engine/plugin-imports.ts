import { realpath } from 'node:fs/promises';
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The plugin directories whose files the hooks already serve (by real path). */
const served = new Set<string>();

/**
 * Lets the files under `pluginDirs` import `@sweepd/core` (and `zod`) as the daemon's own, and be
 * TypeScript modules outside any package (plugin-hooks.mjs says how). A plugin is the operator's
 * file, wherever they keep it: before this, one outside sweepd's checkout could import neither.
 * Registers Node module hooks once per directory (a test runner with a module loader of its own,
 * vitest's, resolves plugin imports itself: the hooks serve the daemon).
 */
export async function letPluginsImportSweepd(pluginDirs: readonly string[]): Promise<void> {
  const dirs: string[] = [];
  for (const dir of pluginDirs) {
    const real = await realpath(dir).catch(() => undefined);
    if (real === undefined || served.has(real)) continue;
    served.add(real);
    dirs.push(pathToFileURL(real + path.sep).href);
  }
  if (dirs.length > 0) register(new URL('./plugin-hooks.mjs', import.meta.url), { data: { dirs, home: import.meta.url } });
}
