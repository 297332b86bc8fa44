import { createRoute, z } from '@hono/zod-openapi';
import { type Api, documentRoute, type RouteDeps } from '../deps.ts';
import { checkedQuery } from '../errors.ts';
import { errorResponses, HealthSchema, NoQuery } from '../schemas.ts';

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness (never needs the token)',
  security: [],
  request: { query: NoQuery },
  responses: {
    200: { description: 'the daemon answers', content: { 'application/json': { schema: HealthSchema } } },
    ...errorResponses(400),
  },
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics (needs the token when one is set)',
  request: { query: NoQuery },
  responses: {
    200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
    ...errorResponses(400),
  },
});

const openapiRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  summary: 'This document (never needs the token)',
  security: [],
  request: { query: NoQuery },
  responses: {
    200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
    ...errorResponses(400),
  },
});

export function opsRoutes(app: Api, { store, metrics }: RouteDeps): void {
  app.openapi(healthRoute, (c) => c.json({ ok: true, store: store.kind }, 200));
  app.get(documentRoute(app, metricsRoute), async (c) => {
    checkedQuery(c, NoQuery);
    return c.body(await metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  // Built on first request, when every route is registered; the routes never change afterwards.
  let doc: ReturnType<typeof openapiDocument> | undefined;
  app.get(documentRoute(app, openapiRoute), (c) => {
    checkedQuery(c, NoQuery);
    doc ??= openapiDocument(app);
    return c.json(doc);
  });
}

export function openapiDocument(app: Api) {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'sweepd',
      version: '0.1.0',
      description:
        'Hyperparameter search for fine-tuning pretrained image classifiers. With SWEEPD_API_TOKEN set, every /v1 route and /metrics need `Authorization: Bearer <token>`.',
    },
    security: [{ bearer: [] }],
  });
}
