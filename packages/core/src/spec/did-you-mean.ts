import type { z } from 'zod';

/**
 * "did you mean …" for a key a schema does not know: the known key nearest to it, when it is near
 * enough to be a typo (at most one edit in four characters, and at most two), else undefined.
 */
export function nearestName(word: string, known: readonly string[]): string | undefined {
  const limit = Math.min(2, Math.max(1, Math.floor(word.length / 4)));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    // Known to another branch of a union, not this one: no typo to point at.
    if (name === word) return undefined;
    const distance = editDistance(word.toLowerCase(), name.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Levenshtein distance, with an adjacent swap counting as one edit (max_tirals). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The keys an object schema knows at `path` inside `schema` (through defaults, optionals, arrays, records, unions). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: unknown[] = [schema];
  for (const key of path) at = at.flatMap((s) => childOf(unwrap(s), key));
  return [...new Set(at.flatMap((s) => objectKeys(unwrap(s))))];
}

interface Inspectable {
  shape?: Record<string, unknown>;
  element?: unknown;
  options?: unknown[];
  valueType?: unknown;
  unwrap?: () => unknown;
  _zod?: { def?: { type?: string; innerType?: unknown } };
}

function unwrap(schema: unknown): Inspectable {
  let s = schema as Inspectable;
  for (let i = 0; i < 8 && s?._zod?.def?.innerType; i++) s = s._zod.def.innerType as Inspectable;
  return s;
}

function childOf(s: Inspectable, key: PropertyKey): unknown[] {
  if (s.options) return s.options.flatMap((o) => childOf(unwrap(o), key));
  if (s.shape) return typeof key === 'string' && key in s.shape ? [s.shape[key]] : [];
  if (s.element !== undefined) return [s.element];
  if (s.valueType !== undefined) return [s.valueType];
  return [];
}

function objectKeys(s: Inspectable): string[] {
  if (s.options) return s.options.flatMap((o) => objectKeys(unwrap(o)));
  return s.shape ? Object.keys(s.shape) : [];
}
