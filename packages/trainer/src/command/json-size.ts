/**
 * The UTF-8 bytes of `value` as JSON with every number in its shortest form (the smaller of
 * JavaScript's plain and exponential notation) and the non-finite tokens bare (the pre-pass of
 * report-line.ts quoted them): no more than a script's own compact JSON takes. JSON.stringify
 * lengthens numbers (1e-05 becomes 0.00001, 1e+20 twenty-one digits), so notes the Python client
 * measured under the limit were refused here and their whole epoch dropped. `value` must nest
 * boundedly (report-line.ts checks the depth first).
 */
export function jsonBytesAsWritten(value: unknown): number {
  if (typeof value === 'number') return Math.min(String(value).length, value.toExponential().length);
  if (typeof value === 'string') {
    if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return value.length;
    return Buffer.byteLength(JSON.stringify(value));
  }
  if (Array.isArray(value)) return 2 + Math.max(0, value.length - 1) + value.reduce((n: number, v) => n + jsonBytesAsWritten(v), 0);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    let n = 2 + Math.max(0, entries.length - 1);
    for (const [key, v] of entries) n += Buffer.byteLength(JSON.stringify(key)) + 1 + jsonBytesAsWritten(v);
    return n;
  }
  return String(value).length; // true, false, null
}
