import type { ApiError } from './client.ts';

/**
 * What the CLI prints of a request the daemon refused: its message, then each of the body's
 * `problems` by path, but not a problem that only repeats the message. A refused query parameter
 * is both (`error: "offset: offset must be …"`, `problems: [{ path: 'offset', message: 'offset must
 * be …' }]`), and was printed twice; so was a plugin refusal (the problem is the message itself).
 */
export function apiErrorText(err: ApiError): string {
  const body = err.body as { error?: unknown; problems?: unknown } | undefined;
  // The daemon's own words: err.message may carry the CLI's additions (a spec file's name, which daemon answered).
  const said = typeof body?.error === 'string' ? body.error : err.message;
  const problems = Array.isArray(body?.problems) ? (body.problems as { path?: unknown; message?: unknown }[]) : [];
  // The daemon failed rather than refused: its own log has why (a database or bus that is away, say).
  const failed =
    err.status >= 500
      ? ` (HTTP ${err.status}: the daemon failed to answer; its log says why — its database or message bus may be down)`
      : '';
  const lines = [`sweepd: ${err.message}${failed}`];
  for (const { path = '', message } of problems) {
    if (message === said || `${path}: ${message}` === said) continue;
    lines.push(`  ${path || '(root)'}: ${message}`);
  }
  return `${lines.join('\n')}\n`;
}
