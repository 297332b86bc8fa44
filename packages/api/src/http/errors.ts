import type { Hook } from '@hono/zod-openapi';
import type { Store, StudyRecord } from '@sweepd/core';
import type { Env } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error answer: always JSON with a message a person can act on. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Turns a failed path or query validation into a 400 naming the parameter and what it got. */
export const validationHook: Hook<unknown, Env, string, unknown> = (result, c) => {
  if (result.success) return;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.map(String).join('.');
    const target = (result as { target?: string }).target;
    const got = target === 'param' ? c.req.param(name) : target === 'query' ? c.req.query(name) : undefined;
    const shown = typeof got === 'string' ? ` (got '${printable(got).slice(0, 32)}')` : '';
    return { path: name, message: `${issue.message}${shown}` };
  });
  const first = problems[0];
  // An unknown parameter's problem is the whole query's (no path): its message names it.
  const error = first ? (first.path ? `${first.path}: ${first.message}` : first.message) : 'invalid request';
  return c.json({ error, problems }, 400);
};

export async function findStudy(store: Store, id: string): Promise<StudyRecord> {
  const study = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await store.getStudy(id) : undefined;
  if (!study) throw new HttpError(404, `no study with id '${printable(id)}'`);
  return study;
}

/** At most 64 characters of a user-supplied value, with control characters shown as '?'. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  return text.slice(0, 64).replace(/[\u0000-\u001f\u007f]/g, '?');
}
