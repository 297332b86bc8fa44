import { createRoute } from '@hono/zod-openapi';
import { bestConfig, ExportError, renderBestConfig } from '../../views/export.ts';
import { leaderboard, leaderboardPage, paramColumns, storePageRows } from '../../views/leaderboard.ts';
import { diagnosisObjective } from '../../views/diagnosis-objective.ts';
import { noValue, studyAnswer } from '../../views/answer.ts';
import { trialView } from '../../views/study.ts';
import type { Api, RouteDeps } from '../deps.ts';
import { findStudy, HttpError } from '../errors.ts';
import {
  BestConfigSchema,
  errorResponses,
  ExportQuery,
  LeaderboardQuery,
  LeaderboardSchema,
  NoQuery,
  StopTrialSchema,
  StudyIdParams,
  TrialParams,
  TrialSchema,
} from '../schemas.ts';

const leaderboardRoute = createRoute({
  method: 'get',
  path: '/v1/studies/{id}/leaderboard',
  summary: 'Trials ranked by objective, a page at a time (`limit`, `offset`)',
  request: { params: StudyIdParams, query: LeaderboardQuery },
  responses: {
    200: { description: 'the leaderboard', content: { 'application/json': { schema: LeaderboardSchema } } },
    ...errorResponses(400, 404),
  },
});

const trialRoute = createRoute({
  method: 'get',
  path: '/v1/studies/{id}/trials/{n}',
  summary: 'One trial with every epoch',
  request: { params: TrialParams, query: NoQuery },
  responses: {
    200: { description: 'the trial, its metrics and layer statistics per epoch', content: { 'application/json': { schema: TrialSchema } } },
    ...errorResponses(400, 404),
  },
});

const stopTrialRoute = createRoute({
  method: 'post',
  path: '/v1/studies/{id}/trials/{n}/stop',
  summary: 'Stop one trial',
  request: { params: TrialParams, query: NoQuery },
  responses: {
    200: { description: 'the trial is stopping, or stopped already', content: { 'application/json': { schema: StopTrialSchema } } },
    ...errorResponses(400, 404, 409),
  },
});

// Its answer is JSON, YAML or text depending on `format`.
const exportRoute = createRoute({
  method: 'get',
  path: '/v1/studies/{id}/export',
  summary: 'The best config',
  request: { params: StudyIdParams, query: ExportQuery },
  responses: {
    200: {
      description: 'the best trial’s full config: JSON, YAML, TF-slim flags or shell assignments',
      content: {
        'application/json': { schema: BestConfigSchema },
        'application/yaml': { schema: { type: 'string' } },
        'text/plain': { schema: { type: 'string' } },
      },
    },
    ...errorResponses(400, 404, 409),
  },
});

export function resultRoutes(app: Api, { store, engine, settled }: RouteDeps): void {
  app.openapi(leaderboardRoute, async (c) => {
    const study = await findStudy(store, c.req.valid('param').id);
    const { limit, offset } = c.req.valid('query');
    // A store that ranks in SQL reads only the page (100,000-trial studies); otherwise rank in memory.
    const ranked = await store.leaderboardPage?.(study.id, study.spec.objective.direction, { limit, offset });
    const all = ranked ? undefined : leaderboard(await settled.of(study), study.spec);
    const rows = ranked ? storePageRows(ranked, study.spec, offset ?? 0) : leaderboardPage(all ?? [], { limit, offset });
    // Queued rows may wait on a pool no worker serves: said with them (the study's own `waiting`).
    const waiting =
      study.state === 'running' && rows.some((r) => r.state === 'queued') ? await engine.poolProblem(study.spec.trainer.pool) : undefined;
    return c.json(
      {
        study: study.id,
        state: study.state,
        objective: study.spec.objective,
        total: ranked ? ranked.total : (all ?? []).length,
        offset: offset ?? 0,
        columns: paramColumns(study, all ?? rows),
        rows,
        ...(waiting ? { waiting } : {}),
      },
      200,
    );
  });

  app.openapi(trialRoute, async (c) => {
    const { id, n } = c.req.valid('param');
    const study = await findStudy(store, id);
    const trial = await store.getTrial(study.id, Number(n));
    if (!trial) throw new HttpError(404, `study ${study.id} has no trial ${n}`);
    const view = trialView(trial, {
      objective: diagnosisObjective(study.spec),
      peers: await settled.of(study),
      order: paramColumns(study),
    });
    return c.json(JSON.parse(JSON.stringify(view)), 200);
  });

  app.openapi(stopTrialRoute, async (c) => {
    const { id, n } = c.req.valid('param');
    const study = await findStudy(store, id);
    const trial = await store.getTrial(study.id, Number(n));
    if (!trial) throw new HttpError(404, `study ${study.id} has no trial ${n}`);
    if (!(await engine.stopTrial(study.id, trial.number))) throw new HttpError(409, `trial ${n} is ${trial.state}, not queued or running`);
    // A queued trial ends at once; a running one winds down on its worker first.
    const state = (await store.getTrial(study.id, trial.number))?.state ?? trial.state;
    return c.json({ study: study.id, trial: trial.number, stopping: state === 'queued' || state === 'running', state }, 200);
  });

  app.openapi(exportRoute, async (c) => {
    const { format } = c.req.valid('query');
    const study = await findStudy(store, c.req.valid('param').id);
    const trials = await settled.of(study);
    const found = bestConfig(study, trials);
    // Beside the config, why it is not one to take as it is, where the answer says so.
    const caveat = found && studyAnswer(study.spec, study.state, trials, paramColumns(study)).caveat;
    const best = found && caveat ? { ...found, caveat } : found;
    if (!best) {
      const { metric } = study.spec.objective;
      throw new HttpError(
        409,
        study.state === 'running'
          ? `study ${study.id} has no trial with a ${metric} value yet`
          : `study ${study.id} ${study.state === 'stopped' ? 'was stopped' : study.state}: ${lowerFirst(noValue(metric, study.state, trials, 'export'))}`,
      );
    }
    let rendered: ReturnType<typeof renderBestConfig>;
    try {
      rendered = renderBestConfig(best, format);
    } catch (err) {
      if (err instanceof ExportError) throw new HttpError(409, `format ${format}: ${err.message}`);
      throw err;
    }
    const { body, contentType } = rendered;
    // Flags have no room for a comment: every format carries the caveat in a header too (URI-encoded: a header is ASCII).
    return c.body(body, 200, {
      'content-type': `${contentType}; charset=utf-8`,
      ...(best.caveat ? { 'sweepd-caveat': encodeURIComponent(best.caveat) } : {}),
    }) as never;
  });
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
