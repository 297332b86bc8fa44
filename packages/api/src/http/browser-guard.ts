import type { MiddlewareHandler } from 'hono';
import { isLoopback } from './auth.ts';

/**
 * Refuses the requests a browser sends for a page of another site. Without this any page the user
 * opens could submit a study to a daemon on their machine, and a `command` trial runs what the
 * study says. A request with `Sec-Fetch-Site` other than same-origin (the dashboard) or none (a
 * typed address) is refused, and, from browsers that do not send that header, one whose `Origin` is
 * not this daemon's own address. The CLI and scripts send neither header.
 */
export function sameOriginOnly(): MiddlewareHandler {
  return async (c, next) => {
    const site = c.req.header('sec-fetch-site')?.toLowerCase();
    const origin = c.req.header('origin');
    const host = c.req.header('host')?.toLowerCase();
    // The browser's own word on where a request comes from wins; Origin is read only without it, since
    // a proxy that rewrites Host (to 127.0.0.1:8080, say) makes the dashboard's own Origin differ from it.
    const foreign = site !== undefined ? site !== 'same-origin' && site !== 'none' : origin !== undefined && originHost(origin) !== host;
    if (foreign) {
      return c.json(
        { error: 'a request from another web site is refused: the API answers its own dashboard, the CLI and scripts, not other pages' },
        403,
      );
    }
    await next();
  };
}

/**
 * For a daemon on loopback without a token: requests for a host name that is not a loopback one
 * are refused. A page of attacker.example whose name is made to resolve to 127.0.0.1 (DNS
 * rebinding) is same-origin to the browser, but its requests carry `Host: attacker.example`.
 */
export function loopbackHostOnly(): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    if (host !== undefined && !isLoopback(hostName(host))) {
      return c.json(
        {
          error:
            `requests for host '${hostName(host).slice(0, 64)}' are refused: this daemon listens on loopback without an API token, so it answers ` +
            'only localhost, 127.0.0.1 and ::1. Behind a proxy that keeps the host name, set SWEEPD_API_TOKEN.',
        },
        421,
      );
    }
    await next();
  };
}

/** The host[:port] of an Origin, lower case; undefined for 'null' or anything unparseable. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/** 'localhost' of 'localhost:8080', '::1' of '[::1]:8080'. */
function hostName(host: string): string {
  const h = host.trim();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  return h.split(':')[0] ?? h;
}
