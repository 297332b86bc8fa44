import { OpenAPIHono } from '@hono/zod-openapi';
import { type Logger, type Store, silentLogger } from '@sweepd/core';
import type { StudyEngine } from '@sweepd/search';
import { HTTPException } from 'hono/http-exception';
import { LeaderboardHub } from '../live/hub.ts';
import { DaemonMetrics } from '../ops/metrics.ts';
import { SettledTrials } from '../views/settled-trials.ts';
import { bearerAuth } from './auth.ts';
import { loopbackHostOnly, sameOriginOnly } from './browser-guard.ts';
import type { Api } from './deps.ts';
import { HttpError, printable, validationHook } from './errors.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { opsRoutes } from './routes/ops.ts';
import { resultRoutes } from './routes/results.ts';
import { studyRoutes } from './routes/studies.ts';
import { streamRoutes } from './routes/stream.ts';

export { MAX_BODY_BYTES } from './routes/studies.ts';

export interface AppDeps {
  store: Store;
  engine: StudyEngine;
  /** When set, /v1 and /metrics need `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Answer only loopback host names (a daemon on loopback without a token: see loopbackHostOnly). */
  loopbackHostsOnly?: boolean;
  /** Created from engine.events when not given (then they live as long as the engine). */
  hub?: LeaderboardHub;
  /** Shared with the hub when given; made here when not. */
  settled?: SettledTrials;
  metrics?: DaemonMetrics;
  log?: Logger;
}

/** The HTTP surface: REST under /v1, the live stream, /metrics, /openapi.json, /healthz and the dashboard. */
export function createApp(deps: AppDeps): Api {
  const log = deps.log ?? silentLogger;
  const settled = deps.settled ?? new SettledTrials(deps.store);
  const hub = deps.hub ?? new LeaderboardHub({ store: deps.store, events: deps.engine.events, live: deps.engine, log, settled });
  const metrics =
    deps.metrics ?? new DaemonMetrics({ store: deps.store, events: deps.engine.events, workers: 0, sseClients: () => hub.clientCount });
  const routeDeps = { store: deps.store, engine: deps.engine, hub, metrics, settled };
  // Not strict: a trailing slash names the same resource (/v1/studies/ is /v1/studies).
  const app: Api = new OpenAPIHono({ defaultHook: validationHook, strict: false });

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    metrics.countResponse(c.res.status);
    // Method, path and status only: headers (and so the token) are never logged.
    log.debug(
      { method: c.req.method, path: printable(c.req.path), status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });
  if (deps.loopbackHostsOnly) app.use('*', loopbackHostOnly());
  const sameOrigin = sameOriginOnly();
  app.use('/v1/*', sameOrigin);
  app.use('/metrics', sameOrigin);
  if (deps.token !== undefined) {
    const auth = bearerAuth(deps.token);
    app.use('/v1/*', auth);
    app.use('/metrics', auth);
  }

  opsRoutes(app, routeDeps);
  studyRoutes(app, routeDeps);
  resultRoutes(app, routeDeps);
  streamRoutes(app, routeDeps);
  dashboardRoutes(app);

  app.notFound((c) => {
    const allowed = methodsFor(app, c.req.path).filter((m) => m !== c.req.method);
    if (allowed.length > 0)
      return c.json({ error: `${c.req.method} is not allowed on ${printable(c.req.path)}; use ${allowed.join(' or ')}` }, 405, {
        allow: allowed.join(', '),
      });
    return c.json({ error: `no route for ${c.req.method.slice(0, 16)} ${printable(c.req.path)}` }, 404);
  });
  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json({ error: err.message, ...err.details }, err.status);
    if (err instanceof HTTPException) return c.json({ error: err.message || 'bad request' }, err.status);
    log.error(
      { method: c.req.method, path: printable(c.req.path), err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
      'request failed',
    );
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}

/** The methods of the routes (not middleware) whose pattern matches `path`. */
function methodsFor(app: Api, path: string): string[] {
  const methods = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const pattern = new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`);
    if (pattern.test(path)) methods.add(r.method);
  }
  return [...methods];
}
