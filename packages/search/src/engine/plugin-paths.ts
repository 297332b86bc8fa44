import { realpath } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where a spec's plugin may come from. A plugin is code run inside the daemon, with everything the
 * daemon can reach (its database, its tokens), and a spec comes from whoever can reach the API: so
 * only files under a directory the operator named are loaded. A URL (`data:`, `http:`) is refused,
 * anything else is a path (relative to `baseDir`; a package name is not looked up as a package), and
 * a path is judged by where it really leads (symbolic links followed), so `../` cannot step out.
 * Returns the file to import, or throws an Error saying what to do.
 */
export async function allowedPluginFile(specifier: string, baseDir: string, pluginDirs: readonly string[] | undefined): Promise<string> {
  if (!pluginDirs || pluginDirs.length === 0)
    throw new Error(
      'this daemon loads no plugins: a plugin runs inside the daemon with everything it can reach, so only modules under a ' +
        'directory its operator names are loaded (sweepd up --plugin-dir DIR, or SWEEPD_PLUGIN_DIR)',
    );
  if (/^[a-z][a-z0-9+.-]+:/i.test(specifier)) throw new Error('must be the path of a file under a plugin directory, not a URL');
  // Every other specifier is a path (plugins/x.ts as ./plugins/x.ts); a package name is looked for as a file, and not found.
  const notThere = new Error(
    `no such file under a plugin directory (${pluginDirs.join(', ')})` +
      (/^[@\w-]+$|^@[\w-]+\/[\w-]+$/.test(specifier) ? ': a package is not loaded by name, but a file there may re-export it' : ''),
  );
  let file: string;
  try {
    file = await realpath(path.resolve(baseDir, specifier));
  } catch {
    throw notThere;
  }
  for (const dir of pluginDirs) {
    const real = await realpath(dir).catch(() => undefined);
    if (real !== undefined && file.startsWith(real + path.sep)) return file;
  }
  throw notThere;
}
