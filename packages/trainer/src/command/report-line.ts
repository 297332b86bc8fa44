import { type EpochRecord, epochWriteProblem } from '@sweepd/core';
import { z } from 'zod';
import { jsonBytesAsWritten } from './json-size.ts';

/** The reporting protocol's version this runner reads (docs/reporting-protocol.md). */
export const PROTOCOL_VERSION = 1;

const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/**
 * Python's `json.dumps` writes NaN, Infinity and -Infinity as bare tokens, which JSON.parse
 * refuses. Outside strings valid JSON holds no letters but true/false/null, so these tokens can be
 * quoted without parsing: they become the strings the schema below reads back as numbers.
 */
export function quoteNonFiniteTokens(text: string): string {
  // Most lines hold neither token: nothing to do. The rest are copied in slices, not a character at
  // a time (which took seconds on a line of megabytes, the daemon's time).
  if (!text.includes('NaN') && !text.includes('Infinity')) return text;
  const parts: string[] = [];
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // a backslash: the next character is escaped
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c !== 78 && c !== 73 && c !== 45) continue; // 'N', 'I', '-'
    const token = text.startsWith('NaN', i)
      ? 'NaN'
      : text.startsWith('Infinity', i)
        ? 'Infinity'
        : text.startsWith('-Infinity', i)
          ? '-Infinity'
          : undefined;
    if (!token) continue;
    parts.push(text.slice(copied, i), `"${token}"`);
    i += token.length - 1;
    copied = i + 1;
  }
  parts.push(text.slice(copied));
  return parts.join('');
}

/** Whether `value` nests at most `max` arrays and objects deep; iterative, so any depth is safe to ask about. */
function depthWithin(value: unknown, max: number): boolean {
  const stack: Array<{ v: unknown; d: number }> = [{ v: value, d: 1 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop() as { v: unknown; d: number };
    if (v === null || typeof v !== 'object') continue;
    if (d > max) return false;
    for (const child of Object.values(v as Record<string, unknown>)) stack.push({ v: child, d: d + 1 });
  }
  return true;
}

/** A number, or one of the non-finite tokens (bare, quoted by the pre-pass, or written as strings). */
const number = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform((s) => NON_FINITE[s] as number)], {
  error: 'must be a number (NaN, Infinity, -Infinity allowed)',
});

/**
 * Bounds far above any real model (an InceptionV4 reports about 150 layers; a multi-label set of
 * 10,000 classes, OpenImages' size, with an AUC and an AP each is about 20,000 metrics), below what
 * stalls the daemon: one trial reporting 100,000 metrics, 10,000 layers or a 30 MB note each epoch
 * held every request for seconds.
 */
export const REPORT_LIMITS = {
  metrics: 25_000,
  layers: 5_000,
  nameChars: 256,
  quantiles: 101,
  noteBytes: 64 * 1024,
  noteDepth: 32,
} as const;

const name = z.string().min(1).max(REPORT_LIMITS.nameChars, `must be at most ${REPORT_LIMITS.nameChars} characters`);

const layerSchema = z.strictObject({
  layer: name,
  trainable: z.boolean().default(true),
  kernelMovement: number.optional(),
  biasMovement: number.optional(),
  updateRatio: number.optional(),
  mean: number.optional(),
  std: number.optional(),
  fractionNegative: number.optional(),
  quantiles: z.array(number).max(REPORT_LIMITS.quantiles, `must have at most ${REPORT_LIMITS.quantiles} values`).optional(),
  sparsity: number.optional(),
  deadFraction: number.optional(),
});

export const reportLineSchema = z.strictObject({
  sweepd: z.literal(PROTOCOL_VERSION, { error: `must be ${PROTOCOL_VERSION} (the protocol version this worker reads)` }),
  epoch: z.number().int('must be an integer').min(1, 'must be at least 1 (epochs are 1-based)'),
  metrics: z
    .record(z.string().min(1), number)
    .refine((m) => Object.keys(m).length <= REPORT_LIMITS.metrics, `must have at most ${REPORT_LIMITS.metrics} metrics`)
    .refine(
      (m) => Object.keys(m).every((k) => k.length <= REPORT_LIMITS.nameChars),
      `a metric name must be at most ${REPORT_LIMITS.nameChars} characters`,
    ),
  layers: z.array(layerSchema).max(REPORT_LIMITS.layers, `must have at most ${REPORT_LIMITS.layers} layers`).default([]),
  notes: z
    .record(z.string(), z.unknown())
    .refine((n) => jsonBytesAsWritten(n) <= REPORT_LIMITS.noteBytes, `must be at most ${REPORT_LIMITS.noteBytes} bytes of JSON`)
    .optional(),
});

export type ParsedLine = { ok: true; epoch: EpochRecord } | { ok: false; error: string };

/** One report line → an epoch record, or why it is refused (a plain sentence naming the field). */
export function parseReportLine(line: string): ParsedLine {
  let raw: unknown;
  try {
    raw = JSON.parse(quoteNonFiniteTokens(line));
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  // A record built from it would take '__proto__' for its prototype, not a key: the value would vanish.
  for (const field of ['metrics', 'notes'] as const) {
    const value = (raw as Record<string, unknown> | null)?.[field];
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__'))
      return { ok: false, error: `${field}: the name __proto__ is not accepted` };
  }
  // Before the schema: walking or serialising notes nested thousands deep overflows the stack.
  if (!depthWithin((raw as { notes?: unknown } | null)?.notes, REPORT_LIMITS.noteDepth))
    return { ok: false, error: `notes: must nest at most ${REPORT_LIMITS.noteDepth} levels` };
  let parsed: ReturnType<typeof reportLineSchema.safeParse>;
  try {
    parsed = reportLineSchema.safeParse(raw);
  } catch (err) {
    // Whatever a script writes, it is a bad line, never the worker's (the daemon's) crash.
    return { ok: false, error: `not accepted: ${(err as Error).message}` };
  }
  if (!parsed.success) {
    const first = parsed.error.issues
      .slice(0, 3)
      .map(
        (i) => `${i.path.join('.') || '(line)'}: ${i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message}`,
      );
    return { ok: false, error: first.join('; ') };
  }
  const { epoch, metrics, layers, notes } = parsed.data;
  const record: EpochRecord = { epoch, metrics, layers: layers.map(dropUndefined) };
  // What no store could keep (a layer named twice, a NUL character) is this line's fault, told as such.
  const unstorable = epochWriteProblem({ trialId: 'this line', ...record, ...(notes ? { notes } : {}) });
  if (unstorable) return { ok: false, error: unstorable };
  // Weights gone NaN or infinite ruin the trial even while its loss and AUC stay finite (a
  // constant output scores AUC 0.5): flag the epoch as diverged, naming the layers, so that the
  // divergence rule stops it and the diagnosis says why. (Stored, the non-finite figures are null.)
  const nonFinite = layers.filter(hasNonFinite).map((l) => l.layer);
  const flagged = nonFinite.length > 0 ? { ...notes, diverged: true, non_finite_layers: nonFinite } : notes;
  return { ok: true, epoch: flagged ? { ...record, notes: flagged } : record };
}

/**
 * NaN anywhere, or an infinite figure of the weights themselves. Movement relative to the start is
 * +Infinity, legitimately, for weights that started at zero and moved (a zero-initialised head, a
 * LoRA B matrix): the Python client reports x / 0 so.
 */
function hasNonFinite(layer: z.output<typeof layerSchema>): boolean {
  return Object.entries(layer).some(([field, v]) => {
    const values = typeof v === 'number' ? [v] : Array.isArray(v) ? v : [];
    const relative = field === 'kernelMovement' || field === 'updateRatio';
    return values.some((x) => Number.isNaN(x) || (!relative && !Number.isFinite(x)));
  });
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
