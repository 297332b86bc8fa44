/** Number formatting for diagnoses: short, and the same figure always printed the same way. */

/** A learning rate or epsilon: 5.5e-6, 1e-4, 0.01, 0.3, 300, 1.2e4 (`digits` significant digits, 2 unless told). */
export function formatRate(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return String(x);
  if (x >= 1e-3 && x < 1e4) return String(Number(x.toPrecision(digits)));
  return x
    .toExponential(digits - 1)
    .replace(/\.?0+e/, 'e')
    .replace('e+', 'e');
}

/**
 * A rate as formatRate writes it, with as many more digits as it takes not to read as any of
 * `others`, different rates it is named next to: a peer's 0.00996 beside a trial's 0.01 is not
 * "0.01", nor is the trial's 0.00996 beside a peer's 0.01. Read as numbers, so 1e-3 and 0.001 are alike.
 */
export function formatRateAmong(x: number, others: readonly number[]): string {
  let digits = 2;
  for (const o of others) {
    if (o === x) continue;
    while (digits < 6 && Number(formatRate(x, digits)) === Number(formatRate(o, digits))) digits++;
  }
  return formatRate(x, digits);
}

/** formatRateAmong beside one other rate, or as formatRate writes it without one. */
export function formatRateBeside(x: number, beside: number | undefined): string {
  return formatRateAmong(x, beside === undefined ? [] : [beside]);
}

/** A fraction as a percentage: 0.0047 → "0.47 %", 0.997 → "99.7 %", 1.04 → "104 %". */
export function pct(x: number): string {
  const p = x * 100;
  if (p === 0) return '0 %';
  // A diverged run's kernels move by 1e15 times and more: 142000000000000000 % reads as noise.
  if (Math.abs(p) >= 1e6) return `${p.toExponential(1)} %`;
  if (Math.abs(p) >= 10) return `${Number(p.toPrecision(3))} %`;
  if (Math.abs(p) >= 0.01) return `${Number(p.toPrecision(2))} %`;
  return `${p.toExponential(1)} %`;
}

/** A metric or movement value: 3 significant digits, exponent for tiny values. */
export function val(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  if (Math.abs(x) < 1e-3) return x.toExponential(1);
  return String(Number(x.toPrecision(3)));
}

/** As val, but a value outside [0, 1] with the digits it takes to read as outside (1.004, not 1): an AUC's. */
export function valInUnit(x: number): string {
  if (!Number.isFinite(x) || (x >= 0 && x <= 1)) return val(x);
  for (let digits = 3; digits < 17; digits++) {
    const shown = Number(x.toPrecision(digits));
    if (shown < 0 || shown > 1) return digits === 3 ? val(x) : String(shown);
  }
  return String(x);
}

/** "1e-4 … 0.001" for a suggested range, its bounds told apart from `rate`, the trial's own, named beside them. */
export function rangeText(range: { low: number; high: number }, rate: number): string {
  return `${formatRateAmong(range.low, [rate])} … ${formatRateAmong(range.high, [rate])}`;
}

/** "1e-3 … 0.01" for a set of rates, or the one rate; bounds that would read as `beside` (the trial's own rate) get more digits. */
export function rangeOf(rates: readonly number[], beside?: number): string {
  const lo = Math.min(...rates);
  const hi = Math.max(...rates);
  return lo === hi ? formatRateBeside(lo, beside) : `${formatRateBeside(lo, beside)} … ${formatRateBeside(hi, beside)}`;
}

/** '0' or '0–2'. */
export function rangeOfInts(values: readonly number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}
