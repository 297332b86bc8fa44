import type { EpochWrite } from './contract.ts';

/** The largest epoch the store's integer column holds. */
const MAX_EPOCH = 2 ** 31 - 1;

/**
 * Why the store cannot keep this epoch, whatever it is asked again, or undefined: a problem of the
 * data, not of the database's health. Checked by the store before it writes anything, and by the
 * engine before it asks, so that one such report is set aside instead of being retried for ever
 * (and holding up every report behind it). What slips past it (a database limit of its own) the
 * engine still tells apart by the database's answer (see ingestion.ts).
 */
export function epochWriteProblem(e: EpochWrite): string | undefined {
  if (typeof e.trialId !== 'string' || e.trialId === '') return 'trialId must be a non-empty string';
  if (!Number.isSafeInteger(e.epoch) || e.epoch < 0 || e.epoch > MAX_EPOCH)
    return `epoch must be an integer from 0 to ${MAX_EPOCH}, got ${e.epoch}`;
  for (const [name, v] of Object.entries(e.metrics)) {
    if (typeof v !== 'number') return `metric ${name} must be a number, got ${typeof v}`;
    const bad = badText(name);
    if (bad) return `metric name ${JSON.stringify(name)} holds ${bad}`;
  }
  const seen = new Set<string>();
  for (const layer of e.layers) {
    if (typeof layer.layer !== 'string' || layer.layer === '') return 'every layer needs a non-empty name';
    const bad = badText(layer.layer);
    if (bad) return `layer name ${JSON.stringify(layer.layer)} holds ${bad}`;
    if (seen.has(layer.layer)) return `layer ${layer.layer} is listed twice in epoch ${e.epoch}`;
    if (typeof layer.trainable !== 'boolean') return `layer ${layer.layer}: trainable must be true or false`;
    seen.add(layer.layer);
  }
  return e.notes === undefined ? undefined : notesProblem(e.notes, 'notes');
}

/** What in a name or string PostgreSQL's text and jsonb refuse: U+0000, or half a UTF-16 surrogate pair. */
function badText(text: string): string | undefined {
  if (text.includes('\0')) return 'a NUL character, which the database cannot store';
  if (LONE_SURROGATE.test(text)) return 'half a UTF-16 surrogate pair (not valid Unicode), which the database cannot store';
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Where in a JSON value a string or key cannot be stored, or a key would vanish (`__proto__`). */
function notesProblem(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') {
    const bad = badText(value);
    return bad ? `${path} holds ${bad}` : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (!Array.isArray(value)) {
      const bad = badText(key);
      if (bad) return `${path} key ${JSON.stringify(key)} holds ${bad}`;
      // JSON.parse makes it an own key; any object it is copied into takes it for a prototype instead.
      if (key === '__proto__') return `${path} key "__proto__" is not accepted: it would vanish`;
    }
    const found = notesProblem(child, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}
