/**
 * JSON has no NaN or Infinity (JSON.stringify silently writes null), yet a diverged trial reports
 * a NaN loss and it must survive storage. Non-finite numbers are written as the strings below and,
 * for metrics (whose values are always numbers), read back as numbers.
 */
const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

function encodeNumber(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

/** Metrics ready for a jsonb column. */
export function encodeMetrics(metrics: Readonly<Record<string, number>>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(metrics)) out[k] = encodeNumber(v);
  return out;
}

/** Inverse of encodeMetrics. */
export function decodeMetrics(stored: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (stored === null || typeof stored !== 'object') return out;
  for (const [k, v] of Object.entries(stored as Record<string, unknown>)) {
    if (typeof v === 'number') out[k] = v;
    else if (typeof v === 'string' && v in NON_FINITE) out[k] = NON_FINITE[v]!;
  }
  return out;
}

/**
 * Free-form notes ready for a jsonb column: non-finite numbers anywhere inside become the strings
 * "NaN", "Infinity", "-Infinity" (and stay strings on read: notes have no schema to say which
 * strings were numbers).
 */
export function encodeNotes(value: unknown): unknown {
  if (typeof value === 'number') return encodeNumber(value);
  if (Array.isArray(value)) return value.map(encodeNotes);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = encodeNotes(v);
    return out;
  }
  return value;
}
