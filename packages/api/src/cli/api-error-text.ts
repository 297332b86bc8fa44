import type { ApiError } from './client.ts';
import { EXIT } from './exit-codes.ts';

/**
 * What a proxy or gateway in front of the daemon answers when the daemon behind it does not (down,
 * restarting, too slow); the daemon itself never sends these.
 */
const GATEWAY_STATUSES = new Set([502, 503, 504]);

/**
 * The exit code of a request that failed: no answer, or a proxy's 502/503/504 for a daemon that gave
 * none, is unreachable (4); another 5xx is the daemon failing (6: its database or bus away, say),
 * which a script must tell from a watched study that failed (1); anything else is a refusal (3).
 */
export function apiErrorExit(err: ApiError): number {
  if (err.status === 0 || GATEWAY_STATUSES.has(err.status)) return EXIT.unreachable;
  return err.status >= 500 ? EXIT.daemonFailed : EXIT.rejected;
}

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
  // The daemon failed rather than refused: its own log has why (a database or bus that is away, say). A gateway's
  // status is no failure of the daemon's but its absence behind the proxy.
  const failed = GATEWAY_STATUSES.has(err.status)
    ? ` (HTTP ${err.status}: the daemon did not answer through the proxy or gateway in front of it — it may be down or restarting)`
    : err.status >= 500
      ? ` (HTTP ${err.status}: the daemon failed to answer; its log says why — its database or message bus may be down)`
      : '';
  const lines = [`sweepd: ${err.message}${failed}`];
  for (const { path = '', message } of problems) {
    if (message === said || `${path}: ${message}` === said) continue;
    lines.push(`  ${path || '(root)'}: ${message}`);
  }
  return `${lines.join('\n')}\n`;
}
