import type { ParamSpec, Space } from '../spec/schema.ts';
import type { ParamValue, Params } from '../types.ts';
import type { Rng } from './random.ts';

/** A parameter's value in `params`, own entries only: `constructor` is no value of a config lacking it. */
function ownValue(params: Params, name: string): ParamValue | undefined {
  return Object.hasOwn(params, name) ? params[name] : undefined;
}

/** Whether a parameter's `when` conditions hold for the values drawn so far. */
export function isActive(param: ParamSpec, params: Params): boolean {
  for (const [dep, allowed] of Object.entries(param.when ?? {})) {
    const v = ownValue(params, dep);
    if (v === undefined || !allowed.includes(v)) return false;
  }
  return true;
}

/** Parameter names in an order where every condition's parameter comes before the ones it gates. */
export function orderedNames(space: Space): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of Object.keys(space[name]?.when ?? {})) if (Object.hasOwn(space, dep)) visit(dep);
    out.push(name);
  };
  for (const name of Object.keys(space)) visit(name);
  return out;
}

/** Maps a value to [0, 1] (log scale in log space); categoricals map to their index / (k − 1). */
export function toUnit(param: ParamSpec, value: ParamValue): number {
  if (param.type === 'categorical') {
    const i = param.choices.indexOf(value);
    return param.choices.length === 1 ? 0.5 : i / (param.choices.length - 1);
  }
  const v = Number(value);
  if (param.high === param.low) return 0.5;
  if (param.log) return (Math.log(v) - Math.log(param.low)) / (Math.log(param.high) - Math.log(param.low));
  // A width past the largest double (refused at submit; a study stored before may have one): halved.
  if (!Number.isFinite(param.high - param.low)) return (v / 2 - param.low / 2) / (param.high / 2 - param.low / 2);
  return (v - param.low) / (param.high - param.low);
}

/** Inverse of toUnit for numeric parameters; ints are rounded to their step and clamped. */
export function fromUnit(param: ParamSpec, u: number): ParamValue {
  const x = Math.min(1, Math.max(0, u));
  if (param.type === 'categorical')
    return param.choices[Math.min(param.choices.length - 1, Math.floor(x * param.choices.length))] as ParamValue;
  const raw = param.log
    ? Math.exp(Math.log(param.low) + x * (Math.log(param.high) - Math.log(param.low)))
    : Number.isFinite(param.high - param.low)
      ? param.low + x * (param.high - param.low)
      : // A width past the largest double (see toUnit): low + x·Infinity would always be high.
        param.low * (1 - x) + param.high * x;
  if (param.type === 'float') return Math.min(param.high, Math.max(param.low, raw));
  return roundInt(param.low, param.high, param.step, raw);
}

export function roundInt(low: number, high: number, step: number, raw: number): number {
  const k = Math.round((raw - low) / step);
  return Math.min(high - ((high - low) % step), Math.max(low, low + k * step));
}

/** One value drawn uniformly (log-uniformly where `log`). */
export function sampleParam(param: ParamSpec, rng: Rng): ParamValue {
  if (param.type === 'categorical') return rng.pick(param.choices);
  if (param.type === 'int' && !param.log) {
    const count = Math.floor((param.high - param.low) / param.step) + 1;
    return param.low + rng.int(count) * param.step;
  }
  if (param.type === 'int') {
    // Log-uniform over [low − 0.5, high + 0.5] so the end values get their fair share.
    const lo = Math.log(Math.max(param.low - 0.5, 1e-12));
    const hi = Math.log(param.high + 0.5);
    return roundInt(param.low, param.high, 1, Math.exp(lo + rng.next() * (hi - lo)));
  }
  return fromUnit(param, rng.next());
}

/** A whole configuration drawn at random, conditional parameters only where active. */
export function sampleSpace(space: Space, rng: Rng): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = {};
  for (const name of orderedNames(space)) {
    const p = space[name] as ParamSpec;
    if (isActive(p, params)) params[name] = sampleParam(p, rng);
  }
  return params;
}

/** Problems with a configuration against the space: missing, inactive, out of range, wrong type. */
export function checkParams(space: Space, params: Params): string[] {
  const problems: string[] = [];
  for (const name of orderedNames(space)) {
    const p = space[name] as ParamSpec;
    const v = ownValue(params, name);
    const active = isActive(p, params);
    if (!active) {
      if (v !== undefined) problems.push(`${name}: present although its condition does not hold`);
      continue;
    }
    if (v === undefined) {
      problems.push(`${name}: missing`);
      continue;
    }
    if (p.type === 'categorical') {
      if (!p.choices.includes(v)) problems.push(`${name}: ${JSON.stringify(v)} is not a choice`);
    } else if (typeof v !== 'number' || !Number.isFinite(v)) {
      problems.push(`${name}: ${typeof v === 'number' ? String(v) : JSON.stringify(v)} is not a finite number`);
    } else if (v < p.low || v > p.high) {
      problems.push(`${name}: ${v} is outside [${p.low}, ${p.high}]`);
    } else if (p.type === 'int' && (!Number.isInteger(v) || (v - p.low) % p.step !== 0)) {
      problems.push(`${name}: ${v} is not an integer on step ${p.step}`);
    }
  }
  for (const name of Object.keys(params)) if (!Object.hasOwn(space, name)) problems.push(`${name}: not a parameter of the space`);
  return problems;
}

/** A stable key for a configuration, to spot duplicates. */
export function paramsKey(params: Params): string {
  return JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );
}
