import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { PluginLoadError, SpecError, type Store, type StudyRecord, type TrialRecord, type TrialState } from '@sweepd/core';
import type { StudyEngine } from '@sweepd/search';
import { bestConfig, EXPORT_FORMATS, type ExportFormat, renderBestConfig } from '../views/export.ts';
import { leaderboard } from '../views/leaderboard.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface AppDeps {
  store: Store;
  engine: StudyEngine;
}

/** An error answer: always JSON with a message a person can act on. */
class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function createApp({ store, engine }: AppDeps): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ ok: true, store: store.kind }));

  app.post(
    '/v1/studies',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: `request body exceeds ${MAX_BODY_BYTES} bytes` }, 413),
    }),
    async (c) => {
      const text = await c.req.text();
      if (text.trim() === '') throw new HttpError(400, 'request body is empty: send the spec as YAML or JSON');
      try {
        const study = await engine.submit(text);
        return c.json(await studyView(store, study), 201);
      } catch (err) {
        if (err instanceof SpecError) throw new HttpError(400, 'invalid spec', { problems: err.problems });
        if (err instanceof PluginLoadError) throw new HttpError(400, err.message, { problems: [{ path: 'plugins', message: err.message }] });
        throw err;
      }
    },
  );

  app.get('/v1/studies', async (c) => c.json({ studies: (await store.listStudies()).map(summaryView) }));

  app.get('/v1/studies/:id', async (c) => c.json(await studyView(store, await findStudy(store, c.req.param('id')))));

  app.get('/v1/studies/:id/leaderboard', async (c) => {
    const study = await findStudy(store, c.req.param('id'));
    const trials = await store.listTrials(study.id);
    return c.json({ study: study.id, state: study.state, objective: study.spec.objective, rows: leaderboard(trials, study.spec) });
  });

  app.get('/v1/studies/:id/trials/:n', async (c) => {
    const study = await findStudy(store, c.req.param('id'));
    const trial = await store.getTrial(study.id, trialNumber(c.req.param('n')));
    if (!trial) throw new HttpError(404, `study ${study.id} has no trial ${c.req.param('n')}`);
    return c.json(trialView(trial));
  });

  app.get('/v1/studies/:id/export', async (c) => {
    const format = (c.req.query('format') ?? 'json') as ExportFormat;
    if (!EXPORT_FORMATS.includes(format)) throw new HttpError(400, `format must be one of ${EXPORT_FORMATS.join(', ')} (got '${format}')`);
    const study = await findStudy(store, c.req.param('id'));
    const best = bestConfig(study.id, study.spec, await store.listTrials(study.id));
    if (!best) throw new HttpError(409, `study ${study.id} has no trial with a ${study.spec.objective.metric} value yet`);
    const { body, contentType } = renderBestConfig(best, format);
    return c.body(body, 200, { 'content-type': `${contentType}; charset=utf-8` });
  });

  app.post('/v1/studies/:id/stop', async (c) => {
    const study = await findStudy(store, c.req.param('id'));
    if (!(await engine.stopStudy(study.id))) throw new HttpError(409, `study ${study.id} is ${study.state}, not running`);
    return c.json(await studyView(store, await findStudy(store, study.id)));
  });

  app.post('/v1/studies/:id/trials/:n/stop', async (c) => {
    const study = await findStudy(store, c.req.param('id'));
    const n = trialNumber(c.req.param('n'));
    const trial = await store.getTrial(study.id, n);
    if (!trial) throw new HttpError(404, `study ${study.id} has no trial ${n}`);
    if (!(await engine.stopTrial(study.id, n))) throw new HttpError(409, `trial ${n} is ${trial.state}, not queued or running`);
    return c.json({ study: study.id, trial: n, stopping: true });
  });

  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json({ error: err.message, ...err.details }, err.status);
    console.error(err);
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}

async function findStudy(store: Store, id: string): Promise<StudyRecord> {
  const study = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await store.getStudy(id) : undefined;
  if (!study) throw new HttpError(404, `no study with id '${id.slice(0, 64)}'`);
  return study;
}

function trialNumber(raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw new HttpError(400, `trial number must be a non-negative integer (got '${raw.slice(0, 32)}')`);
  return Number(raw);
}

async function studyView(store: Store, study: StudyRecord) {
  const trials = await store.listTrials(study.id);
  const counts: Record<TrialState, number> = { queued: 0, running: 0, completed: 0, stopped: 0, failed: 0 };
  for (const t of trials) counts[t.state]++;
  const best = bestConfig(study.id, study.spec, trials);
  return {
    id: study.id,
    name: study.name,
    state: study.state,
    reason: study.reason ?? null,
    createdAt: study.createdAt,
    finishedAt: study.finishedAt ?? null,
    objective: study.spec.objective,
    budget: study.spec.budget,
    counts,
    best: best ? { trial: best.trial, value: best.objective.value, config: best.config } : null,
    spec: study.spec,
  };
}

function summaryView(s: Awaited<ReturnType<Store['listStudies']>>[number]) {
  return {
    id: s.id,
    name: s.name,
    state: s.state,
    reason: s.reason ?? null,
    createdAt: s.createdAt,
    finishedAt: s.finishedAt ?? null,
    objective: s.spec.objective,
    budget: s.spec.budget,
    counts: s.counts,
    best: s.best ?? null,
  };
}

function trialView(t: TrialRecord) {
  return {
    study: t.studyId,
    number: t.number,
    state: t.state,
    value: t.value ?? null,
    reason: t.reason ?? null,
    params: t.params,
    tags: t.tags ?? {},
    worker: t.worker ?? null,
    createdAt: t.createdAt,
    startedAt: t.startedAt ?? null,
    finishedAt: t.finishedAt ?? null,
    notes: t.notes ?? {},
    epochs: t.epochs,
  };
}
