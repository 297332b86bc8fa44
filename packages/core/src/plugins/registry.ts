import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { ZodError } from 'zod';
import { SpecError } from '../spec/errors.ts';
import { issueProblems } from '../spec/issues.ts';
import type { Plugin, PluginKind, PluginKinds } from './contracts.ts';

const KINDS: readonly PluginKind[] = ['strategy', 'stopping', 'runner'];

/** Where plugins are found by kind and name. Built-ins register themselves; specs may load more. */
export class PluginRegistry {
  private readonly plugins = new Map<string, Plugin>();

  register(plugin: Plugin): this {
    assertPlugin(plugin, '(registered plugin)');
    this.plugins.set(`${plugin.kind}:${plugin.name}`, plugin);
    return this;
  }

  get<K extends PluginKind>(kind: K, name: string): Plugin<K> | undefined {
    return this.plugins.get(`${kind}:${name}`) as Plugin<K> | undefined;
  }

  names(kind: PluginKind): string[] {
    return [...this.plugins.values()]
      .filter((p) => p.kind === kind)
      .map((p) => p.name)
      .sort();
  }

  /** A child registry: sees every plugin here, and adds its own without touching this one. */
  fork(): PluginRegistry {
    const child = new PluginRegistry();
    for (const p of this.plugins.values()) child.register(p);
    return child;
  }

  /**
   * Validates options and creates an instance. Problems become a SpecError whose paths start at
   * `at` (e.g. `strategy.options`), so the user sees where in the spec to look.
   */
  async create<K extends PluginKind>(
    kind: K,
    ref: { name: string; options?: unknown },
    ctx: PluginKinds[K]['context'],
    at: string,
  ): Promise<PluginKinds[K]['instance']> {
    const plugin = this.get(kind, ref.name);
    if (!plugin) {
      throw new SpecError([
        { path: `${at}.name`, message: `no ${kind} named '${ref.name}' (known: ${this.names(kind).join(', ') || 'none'})` },
      ]);
    }
    const options = parsePluginOptions(plugin, ref.options ?? {}, `${at}.options`);
    return plugin.create(options, ctx);
  }

  /** Imports a module (a path relative to `baseDir`, or a package name) whose default export is a Plugin. */
  async load(specifier: string, baseDir: string): Promise<Plugin> {
    const target =
      specifier.startsWith('.') || path.isAbsolute(specifier) ? pathToFileURL(path.resolve(baseDir, specifier)).href : specifier;
    let mod: { default?: unknown };
    try {
      mod = (await import(target)) as { default?: unknown };
    } catch (err) {
      throw new PluginLoadError(specifier, `could not be imported: ${err instanceof Error ? err.message : String(err)}`);
    }
    const plugin = mod.default;
    assertPlugin(plugin, specifier);
    this.register(plugin);
    return plugin;
  }
}

export class PluginLoadError extends Error {
  constructor(
    readonly specifier: string,
    detail: string,
  ) {
    super(`plugin ${specifier} ${detail}`);
    this.name = 'PluginLoadError';
  }
}

export function parsePluginOptions<O>(plugin: Plugin<PluginKind, O>, raw: unknown, at: string): O {
  try {
    return plugin.parseOptions(raw);
  } catch (err) {
    if (err instanceof ZodError) {
      throw new SpecError(issueProblems(err.issues, at ? at.split('.') : [], raw, (path) => defaultedKeys(plugin, path)));
    }
    if (err instanceof SpecError)
      throw new SpecError(err.problems.map((p) => ({ path: [at, p.path].filter(Boolean).join('.'), message: p.message })));
    throw new SpecError([{ path: at, message: err instanceof Error ? err.message : String(err) }]);
  }
}

/**
 * The option names a plugin's defaults show at `path` (its parseOptions({}) fills in every option
 * with a default), for the "did you mean" of a misspelled one; none when it has required options.
 */
function defaultedKeys(plugin: Plugin<PluginKind, unknown>, path: readonly PropertyKey[]): string[] {
  try {
    let at: unknown = plugin.parseOptions({});
    for (const key of path) at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined;
    return at !== null && typeof at === 'object' && !Array.isArray(at) ? Object.keys(at) : [];
  } catch {
    return [];
  }
}

function assertPlugin(value: unknown, source: string): asserts value is Plugin {
  const p = value as Partial<Plugin> | undefined;
  if (!p || typeof p !== 'object') throw new PluginLoadError(source, 'has no default export that is a plugin object');
  if (!KINDS.includes(p.kind as PluginKind))
    throw new PluginLoadError(source, `has kind ${JSON.stringify(p.kind)}; expected one of ${KINDS.join(', ')}`);
  if (typeof p.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(p.name))
    throw new PluginLoadError(source, 'needs a name of letters, digits, . _ -');
  if (typeof p.parseOptions !== 'function' || typeof p.create !== 'function') {
    throw new PluginLoadError(source, 'must have parseOptions() and create() functions');
  }
}

/** The process-wide registry the built-in plugins add themselves to. */
export const registry = new PluginRegistry();
