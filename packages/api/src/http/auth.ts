import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Bearer-token check for the API routes. Both sides are hashed first so the comparison is over
 * equal-length buffers (timingSafeEqual needs that) and its time does not depend on where the
 * tokens differ or on the presented token's length.
 */
export function bearerAuth(token: string): MiddlewareHandler {
  if (token.length === 0) throw new Error('the API token must not be empty');
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="sweepd"');
      return c.json({ error: match ? 'invalid API token' : 'this daemon needs an API token: send Authorization: Bearer <token>' }, 401);
    }
    await next();
  };
}

/** Loopback addresses, where an unauthenticated daemon is reachable only from this host. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}
