import type { EpochWrite } from './contract.ts';

/**
 * Why the store cannot keep this epoch, whatever it is asked again, or undefined: a problem of the
 * data, not of the database's health. Checked by the store before it writes anything, and by the
 * engine before it asks, so that one such report is set aside instead of being retried for ever
 * (and holding up every report behind it).
 */
export function epochWriteProblem(e: EpochWrite): string | undefined {
  if (typeof e.trialId !== 'string' || e.trialId === '') return 'trialId must be a non-empty string';
  if (!Number.isSafeInteger(e.epoch) || e.epoch < 0) return `epoch must be a non-negative integer, got ${e.epoch}`;
  for (const [name, v] of Object.entries(e.metrics)) {
    if (typeof v !== 'number') return `metric ${name} must be a number, got ${typeof v}`;
    if (name.includes('\0')) return `metric name ${JSON.stringify(name)} holds a NUL character, which the database cannot store`;
  }
  const seen = new Set<string>();
  for (const layer of e.layers) {
    if (typeof layer.layer !== 'string' || layer.layer === '') return 'every layer needs a non-empty name';
    if (layer.layer.includes('\0'))
      return `layer name ${JSON.stringify(layer.layer)} holds a NUL character, which the database cannot store`;
    if (seen.has(layer.layer)) return `layer ${layer.layer} is listed twice in epoch ${e.epoch}`;
    seen.add(layer.layer);
  }
  const nul = e.notes === undefined ? undefined : nulIn(e.notes, 'notes');
  if (nul) return `${nul} holds a NUL character, which the database cannot store`;
  return undefined;
}

/** Where in a JSON value a string (or key) holds U+0000, which PostgreSQL's text and jsonb refuse. */
function nulIn(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const at = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
    if (key.includes('\0')) return `${path} key ${JSON.stringify(key)}`;
    const found = nulIn(child, at);
    if (found) return found;
  }
  return undefined;
}
