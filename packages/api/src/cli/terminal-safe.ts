/**
 * What the daemon answers, made safe to print on a terminal: every string (and object key) has its
 * control characters but tab and newline written out as `\xNN`. Study names, parameter values,
 * layer and metric names, failure reasons and a trial's stderr come from users' specs and scripts;
 * printed raw, an escape sequence in them could retitle the terminal, clear it, or hide text.
 */
export function terminalSafe<T>(value: T): T {
  return safe(value) as T;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function safe(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (Array.isArray(value)) return value.map(safe);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [safe(k) as string, safe(v)]));
  return value;
}
