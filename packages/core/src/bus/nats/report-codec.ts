import type { Report } from '../../types.ts';

/**
 * Reports as NATS message bodies. JSON has no NaN or Infinity — JSON.stringify writes null, and a
 * diverged trial's NaN loss would then fail validation at the daemon and block the report stream —
 * so a non-finite number anywhere in a report travels as `{"$float": "NaN" | "Infinity" | "-Infinity"}`
 * and comes back as that number.
 */
export function encodeReport(report: Report): string {
  return JSON.stringify(report, (_key, value) =>
    typeof value === 'number' && !Number.isFinite(value) ? { $float: String(value) } : value,
  );
}

export function decodeReport(text: string): Report {
  return JSON.parse(text, (_key, value) => {
    if (value !== null && typeof value === 'object' && typeof value.$float === 'string' && Object.keys(value).length === 1) {
      const n = Number(value.$float);
      if (Number.isNaN(n) && value.$float !== 'NaN') throw new Error(`not a number: ${JSON.stringify(value.$float)}`);
      return n;
    }
    return value;
  }) as Report;
}
