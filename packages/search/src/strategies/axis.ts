import type { ParamSpec, ParamValue } from '@sweepd/core';
import { roundInt } from '@sweepd/core';

/**
 * A numeric parameter mapped to [0, 1]: log-scaled where `log`, and for ints widened by half a
 * step on each side so that every integer owns a cell of equal width (the end values are not
 * half as likely as the others). Model-based strategies work on these unit coordinates.
 */
export interface NumericAxis {
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  /** Step for ints, 0 for floats. */
  readonly step: number;
  /** Transformed bounds: [t(low − step/2), t(high + step/2)], t = log or identity. */
  readonly tLow: number;
  readonly tHigh: number;
}

export function numericAxis(param: ParamSpec): NumericAxis {
  if (param.type === 'categorical') throw new Error('numericAxis: categorical parameter');
  const step = param.type === 'int' ? param.step : 0;
  const lo = param.low - step / 2;
  const hi = param.high + step / 2;
  const t = (v: number) => (param.log ? Math.log(v) : v);
  return { low: param.low, high: param.high, log: param.log, step, tLow: t(lo), tHigh: t(hi) };
}

export function axisUnit(axis: NumericAxis, value: number): number {
  if (axis.tHigh === axis.tLow) return 0.5;
  const t = axis.log ? Math.log(value) : value;
  const u = (t - axis.tLow) / (axis.tHigh - axis.tLow);
  return u < 0 ? 0 : u > 1 ? 1 : Number.isFinite(u) ? u : 0.5;
}

/** The parameter value at unit coordinate u (ints rounded to their step, everything clamped). */
export function axisValue(axis: NumericAxis, u: number): number {
  const x = Math.min(1, Math.max(0, u));
  const t = axis.tLow + x * (axis.tHigh - axis.tLow);
  const raw = axis.log ? Math.exp(t) : t;
  if (axis.step === 0) return Math.min(axis.high, Math.max(axis.low, raw));
  return roundInt(axis.low, axis.high, axis.step, raw);
}

/** For ints: the unit interval owned by `value`. */
export function axisCell(axis: NumericAxis, value: number): [number, number] {
  const half = axis.step / 2;
  return [axisUnit(axis, value - half), axisUnit(axis, value + half)];
}

/** Reads a numeric parameter from a configuration, or undefined when absent or unusable. */
export function numericValue(v: ParamValue | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
