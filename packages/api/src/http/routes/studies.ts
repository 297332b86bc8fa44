import { createRoute, z } from '@hono/zod-openapi';
import { PluginLoadError, SpecError, type SpecProblem } from '@sweepd/core';
import { IdempotencyConflictError, IdempotencyKeyError } from '@sweepd/search';
import { bodyLimit } from 'hono/body-limit';
import { loadStudyView, summaryView } from '../../views/study.ts';
import { type Api, documentRoute, type RouteDeps } from '../deps.ts';
import { checkedQuery, findStudy, HttpError, printable } from '../errors.ts';
import { errorResponses, NoQuery, SpecBody, StudyIdParams, StudyListQuery, StudyListSchema, StudySchema } from '../schemas.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Media types a spec may be sent as; none at all is taken as YAML. */
const SPEC_TYPES = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];

const submitRoute = createRoute({
  method: 'post',
  path: '/v1/studies',
  summary: 'Submit a study',
  request: {
    query: NoQuery,
    headers: z.object({
      'idempotency-key': z.string().optional().openapi({
        description:
          'Makes the submission safe to repeat: a repeat with the same key and spec returns the study the first created (200) instead of a second one; with another spec, 409. 1 to 255 visible ASCII characters, e.g. a UUID.',
      }),
    }),
    body: {
      required: true,
      content: {
        'application/json': { schema: SpecBody },
        'application/yaml': { schema: SpecBody },
      },
    },
  },
  responses: {
    201: { description: 'the study, started', content: { 'application/json': { schema: StudySchema } } },
    200: {
      description: 'the study an earlier request with the same Idempotency-Key created',
      content: { 'application/json': { schema: StudySchema } },
    },
    ...errorResponses(400, 409, 413, 415),
  },
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/studies',
  summary: 'List studies, oldest first, a page at a time (`limit`, `offset`)',
  request: { query: StudyListQuery },
  responses: {
    200: {
      description: 'the studies of the page (every study without limit) with trial counts and best value, and how many there are',
      content: { 'application/json': { schema: StudyListSchema } },
    },
    ...errorResponses(400),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/studies/{id}',
  summary: 'One study',
  request: { params: StudyIdParams, query: NoQuery },
  responses: {
    200: { description: 'the study, its counts, best config and spec', content: { 'application/json': { schema: StudySchema } } },
    ...errorResponses(400, 404),
  },
});

const stopRoute = createRoute({
  method: 'post',
  path: '/v1/studies/{id}/stop',
  summary: 'Stop a study and its running trials',
  request: { params: StudyIdParams, query: NoQuery },
  responses: {
    200: { description: 'the stopped study', content: { 'application/json': { schema: StudySchema } } },
    ...errorResponses(400, 404, 409),
  },
});

export function studyRoutes(app: Api, { store, engine, settled }: RouteDeps): void {
  app.post(
    documentRoute(app, submitRoute),
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      // The rest of the body is not read, so the connection cannot carry another request.
      onError: (c) => c.json({ error: `request body exceeds ${MAX_BODY_BYTES} bytes` }, 413, { connection: 'close' }),
    }),
    async (c) => {
      checkedQuery(c, NoQuery);
      const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (type !== '' && !SPEC_TYPES.includes(type)) {
        throw new HttpError(
          415,
          `content-type '${type.slice(0, 64)}' is not accepted: send the spec as application/json or application/yaml`,
        );
      }
      // A declared charset is not refused: clients declare ISO-8859-1 by default (Spring's text/plain) for bodies of plain
      // ASCII, which is UTF-8 as well. The bytes decide; the charset only explains a refusal.
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(c.req.header('content-type') ?? '')?.[1]?.toLowerCase();
      const text = utf8Text(await c.req.arrayBuffer(), charset);
      if (text.trim() === '') throw new HttpError(400, 'request body is empty: send the spec as YAML or JSON');
      const key = c.req.header('idempotency-key');
      try {
        const { study, created, warnings: specWarnings } = await engine.submitStudy(text, key);
        const poolWarning = await engine.poolWarning(study.spec.trainer.pool);
        const warnings = [...specWarnings.map((w) => `${w.path}: ${w.message}`), ...(poolWarning ? [poolWarning] : [])];
        const body = { ...(await loadStudyView(settled, study)), ...(warnings.length > 0 ? { warnings } : {}) };
        return c.json(body, created ? 201 : 200, { location: `/v1/studies/${study.id}` });
      } catch (err) {
        if (err instanceof SpecError) throw new HttpError(400, 'invalid spec', { problems: firstProblems(err.problems) });
        if (err instanceof IdempotencyKeyError) throw new HttpError(400, err.message);
        if (err instanceof IdempotencyConflictError) throw new HttpError(409, err.message, { study: err.studyId });
        if (err instanceof PluginLoadError)
          throw new HttpError(400, err.message, { problems: [{ path: 'plugins', message: err.message }] });
        throw err;
      }
    },
  );

  app.openapi(listRoute, async (c) => {
    const { limit, offset } = c.req.valid('query');
    const [page, total] = await Promise.all([store.listStudies({ limit, offset }), store.countStudies()]);
    return c.json({ studies: page.map(summaryView), total, offset: offset ?? 0 }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const study = await findStudy(store, c.req.valid('param').id);
    const view = await loadStudyView(settled, study);
    // Every trial in flight queued, none running: the pool may have no worker, said where the study is read.
    const stalled = study.state === 'running' && (view.counts.running ?? 0) === 0 && (view.counts.queued ?? 0) > 0;
    const waiting = stalled ? await engine.poolProblem(study.spec.trainer.pool) : undefined;
    return c.json({ ...view, ...(waiting ? { waiting } : {}) }, 200);
  });

  app.openapi(stopRoute, async (c) => {
    const study = await findStudy(store, c.req.valid('param').id);
    if (!(await engine.stopStudy(study.id)))
      throw new HttpError(409, `study ${study.id} has already ended (${study.state}): only a running study can be stopped`);
    return c.json(await loadStudyView(settled, await findStudy(store, study.id)), 200);
  });
}

/** Problems a refusal lists: enough to fix a spec, not megabytes for a body that was no spec at all. */
const MAX_PROBLEMS = 100;

function firstProblems(problems: readonly SpecProblem[]): SpecProblem[] {
  if (problems.length <= MAX_PROBLEMS) return [...problems];
  return [...problems.slice(0, MAX_PROBLEMS), { path: '', message: `and ${problems.length - MAX_PROBLEMS} more problems` }];
}

/**
 * The body as UTF-8 text, whatever charset was declared, refused when it is not: decoded with replacement characters, a
 * Latin-1 spec would be stored mangled. The refusal names a declared charset other than UTF-8, the likely cause.
 */
function utf8Text(body: ArrayBuffer, charset: string | undefined): string {
  try {
    // A byte-order mark is dropped, as the CLI drops it from a file.
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    const declared = charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' ? ` (it was declared ${printable(charset)})` : '';
    throw new HttpError(
      400,
      `request body is not UTF-8 text${declared}: send the spec as UTF-8 (a Latin-1 or UTF-16 file needs converting first)`,
    );
  }
}
