import type { Hook, z } from '@hono/zod-openapi';
import type { Store, StudyRecord } from '@sweepd/core';
import type { Context, Env } from 'hono';
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
  const { error, problems } = validationProblems(result.error.issues, (result as { target?: string }).target, c);
  return c.json({ error, problems }, 400);
};

/**
 * A query checked against its schema, for the routes that run their own handler (not app.openapi):
 * refused as app.openapi refuses one (a 400 with `problems`), or its parsed values.
 */
export function checkedQuery<T>(c: Context, schema: z.ZodType<T>): T {
  // A parameter given twice is an array, as app.openapi's validator reads it: refused, never its first value alone.
  const query = Object.fromEntries(
    Object.entries(c.req.queries()).map(([name, values]) => [name, values.length === 1 ? values[0] : values]),
  );
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const { error, problems } = validationProblems(parsed.error.issues, 'query', c);
  throw new HttpError(400, error, { problems });
}

function validationProblems(issues: readonly z.core.$ZodIssue[], target: string | undefined, c: Context) {
  const problems = issues.map((issue) => {
    const name = issue.path.map(String).join('.');
    // A parameter given twice is read as its first value by the schema: said, not passed off as what it got.
    const given = target === 'query' && name ? c.req.queries(name) : undefined;
    if (given && given.length > 1)
      return {
        path: name,
        message: `given ${given.length} times (${given.map((v) => `'${printable(v).slice(0, 32)}'`).join(', ')}): give it once`,
      };
    const got = target === 'param' ? c.req.param(name) : target === 'query' ? c.req.query(name) : undefined;
    const shown = typeof got === 'string' ? ` (got '${printable(got).slice(0, 32)}')` : '';
    return { path: name, message: `${issue.message}${shown}` };
  });
  const first = problems[0];
  // An unknown parameter's problem is the whole query's (no path): its message names it.
  const error = first ? (first.path ? `${first.path}: ${first.message}` : first.message) : 'invalid request';
  return { error, problems };
}

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
