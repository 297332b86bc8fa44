/**
 * Node module hooks for the files under the operator's plugin directories, registered by
 * plugin-imports.ts. They run in Node's loader thread, where no TypeScript loader may apply yet:
 * hence JavaScript. For a file under a plugin directory:
 *   - `@sweepd/...` resolves to the daemon's own packages: a plugin has no node_modules of
 *     sweepd's, and a second copy would be a second plugin registry and other error classes;
 *   - `zod` resolves to the daemon's own when the plugin has none of its own (a plugin's options
 *     parsed with the daemon's zod are reported at their spec path);
 *   - a `.ts` or `.js` file is an ES module even where no package.json says "type": "module" (the
 *     plugin contract is a default export; as CommonJS such a file failed with "Cannot require() ES
 *     Module … in a cycle"); `.cjs` and `.cts` stay CommonJS.
 */

/** @type {string[]} file URLs of the plugin directories, each ending in '/' */
let dirs = [];
/** @type {string} the module the daemon's own packages are resolved from */
let home = '';

/** @param {{ dirs: string[], home: string }} data */
export function initialize(data) {
  dirs = data.dirs;
  home = data.home;
}

/** @param {string | undefined} url */
const underPluginDir = (url) => typeof url === 'string' && dirs.some((dir) => url.startsWith(dir));

/**
 * @param {string} specifier
 * @param {{ parentURL?: string }} context
 * @param {(specifier: string, context?: object) => Promise<{ url: string, format?: string | null }>} nextResolve
 */
export async function resolve(specifier, context, nextResolve) {
  if (underPluginDir(context.parentURL)) {
    if (specifier.startsWith('@sweepd/')) return nextResolve(specifier, { ...context, parentURL: home });
    if (specifier === 'zod' || specifier.startsWith('zod/')) {
      try {
        return await nextResolve(specifier, context);
      } catch (err) {
        if (/** @type {{ code?: string }} */ (err)?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
        return nextResolve(specifier, { ...context, parentURL: home });
      }
    }
  }
  const resolved = await nextResolve(specifier, context);
  if (underPluginDir(resolved.url) && /\.[jt]s$/.test(resolved.url) && resolved.format !== 'module')
    return { ...resolved, format: 'module' };
  return resolved;
}
