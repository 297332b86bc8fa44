import type { Params, ParamValue } from '@sweepd/core';

/** `{name}` in an argv element; names are those a spec's parameters may have. */
const PLACEHOLDER = /\{([A-Za-z0-9_][A-Za-z0-9_.:-]*)\}/g;

/** The parameter names an argv element refers to as `{name}`. */
export function placeholdersIn(arg: string): string[] {
  return [...arg.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/**
 * A value as a command line takes it: numbers in full precision with no locale (the shortest
 * text that reads back to the same double, as JSON writes it), strings as they are.
 */
export function formatValue(value: ParamValue): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  return String(value);
}

/**
 * One flag per parameter, in name order so a trial's command line reads the same everywhere.
 * Booleans as absl parses them: `--name` / `--noname` (absl takes `--name=false` too, but argparse
 * scripts using store_true take only the bare form).
 */
export function flagsFor(params: Params): string[] {
  return Object.keys(params)
    .sort()
    .map((name) => {
      const value = params[name] as ParamValue;
      if (typeof value === 'boolean') return value ? `--${name}` : `--no${name}`;
      return `--${name}=${formatValue(value)}`;
    });
}

/** Replaces every `{name}` in each argv element; a name the trial has no value for throws. */
export function substitutePlaceholders(argv: readonly string[], params: Params): string[] {
  return argv.map((arg) =>
    arg.replace(PLACEHOLDER, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new Error(`placeholder {${name}} in the command names no parameter of this trial`);
      return formatValue(value);
    }),
  );
}

/** The argv a trial runs: the spec's command with its parameters applied as `mode` says. */
export function buildArgv(command: readonly string[], params: Params, mode: 'flags' | 'placeholders' | 'none'): string[] {
  if (mode === 'flags') return [...command, ...flagsFor(params)];
  if (mode === 'placeholders') return substitutePlaceholders(command, params);
  return [...command];
}
