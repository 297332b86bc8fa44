/**
 * The declared tag → metric map. A key names a tag as `<run>/<tag>`, where the run is the event
 * file's directory relative to the collector's directory (`validation/epoch_auc` for Keras's
 * validation/ subdirectory; just `epoch_auc` for a file at the top). A key may hold one `*`, which
 * matches any run of characters (slashes included); a `*` in the metric name is replaced by what
 * it matched. An exact key wins over patterns; among patterns the first declared wins.
 */

export class TagMapError extends Error {
  override name = 'TagMapError';
}

interface Pattern {
  prefix: string;
  suffix: string;
  metric: string;
}

export class TagMap {
  private readonly exact = new Map<string, string>();
  private readonly patterns: Pattern[] = [];
  private readonly cache = new Map<string, string | null>();

  constructor(tags: Readonly<Record<string, string>>) {
    for (const [key, metric] of Object.entries(tags)) {
      if (key.length === 0) throw new TagMapError('tags: an empty tag name');
      if (typeof metric !== 'string' || metric.length === 0)
        throw new TagMapError(`tags.${key}: the metric name must be a non-empty string`);
      const stars = key.split('*').length - 1;
      if (stars > 1) throw new TagMapError(`tags.${key}: at most one '*' in a tag pattern`);
      if (stars === 0) {
        if (metric.includes('*')) throw new TagMapError(`tags.${key}: '*' in the metric name '${metric}' needs a '*' in the tag`);
        this.exact.set(key, metric);
      } else {
        const [prefix, suffix] = key.split('*') as [string, string];
        if (metric.split('*').length - 1 > 1) throw new TagMapError(`tags.${key}: at most one '*' in the metric name '${metric}'`);
        this.patterns.push({ prefix, suffix, metric });
      }
    }
  }

  /** The metric a qualified tag (`<run>/<tag>`) maps to, if any. */
  metricFor(name: string): string | undefined {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached ?? undefined;
    let metric = this.exact.get(name);
    if (metric === undefined) {
      for (const p of this.patterns) {
        if (name.length >= p.prefix.length + p.suffix.length && name.startsWith(p.prefix) && name.endsWith(p.suffix)) {
          const matched = name.slice(p.prefix.length, name.length - p.suffix.length);
          metric = p.metric.replace('*', matched);
          break;
        }
      }
    }
    this.cache.set(name, metric ?? null);
    return metric;
  }

  /** Whether some tag could map to `metric`: an exact entry's, or one a pattern's metric name can become. */
  canProduce(metric: string): boolean {
    if (this.exactMetrics().includes(metric)) return true;
    return this.patterns.some((p) => {
      const [before, after = ''] = p.metric.split('*') as [string, string?];
      return p.metric.includes('*')
        ? metric.length > before.length + after.length && metric.startsWith(before) && metric.endsWith(after)
        : metric === p.metric;
    });
  }

  /** The metric names the map can produce without a pattern (for checks against an objective). */
  exactMetrics(): string[] {
    return [...new Set(this.exact.values())];
  }
}
