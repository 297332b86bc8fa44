import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRoute, z } from '@hono/zod-openapi';
import { type Api, documentRoute } from '../deps.ts';
import { ErrorSchema } from '../schemas.ts';
import { HttpError } from '../errors.ts';

const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dashboard');
// chart.js's exports map hides dist/, so find its main file and take the UMD build beside it.
const CHART_JS = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

/** The only files served: a fixed list, so no request path ever reaches the file system. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'chart.js': { file: CHART_JS, type: 'text/javascript' },
  'style.css': { file: path.join(DASHBOARD_DIR, 'style.css'), type: 'text/css' },
  ...Object.fromEntries(
    [
      'main.js',
      'api.js',
      'dom.js',
      'format.js',
      'charts.js',
      'studies.js',
      'pager.js',
      'study.js',
      'answer.js',
      'trial.js',
      'diagnostics.js',
    ].map((f) => [f, { file: path.join(DASHBOARD_DIR, f), type: 'text/javascript' }]),
  ),
};

// The page may load without the token; everything it shows comes from /v1, which needs it.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const pageRoute = createRoute({
  method: 'get',
  path: '/',
  summary: 'The dashboard (HTML; its data comes from /v1)',
  security: [],
  responses: { 200: { description: 'the dashboard page', content: { 'text/html': { schema: z.string() } } } },
});

const assetRoute = createRoute({
  method: 'get',
  path: '/assets/{file}',
  summary: 'The dashboard’s scripts and styles, and chart.js',
  security: [],
  request: {
    params: z.object({ file: z.enum(Object.keys(ASSETS) as [string, ...string[]]).openapi({ param: { name: 'file', in: 'path' } }) }),
  },
  responses: {
    200: {
      description: 'a script or stylesheet',
      content: { 'text/javascript': { schema: z.string() }, 'text/css': { schema: z.string() } },
    },
    404: { description: 'no such asset', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

export function dashboardRoutes(app: Api): void {
  app.get(documentRoute(app, pageRoute), async (c) =>
    c.body(await readFile(path.join(DASHBOARD_DIR, 'index.html'), 'utf8'), 200, {
      'content-type': 'text/html; charset=utf-8',
      ...SECURITY_HEADERS,
    }),
  );
  app.get(documentRoute(app, assetRoute), async (c) => {
    const asset = Object.hasOwn(ASSETS, c.req.param('file') ?? '') ? ASSETS[c.req.param('file') as string] : undefined;
    if (!asset) throw new HttpError(404, `no asset named '${(c.req.param('file') ?? '').slice(0, 64)}'`);
    return c.body(await readFile(asset.file, 'utf8'), 200, {
      'content-type': `${asset.type}; charset=utf-8`,
      'cache-control': 'no-cache',
      ...SECURITY_HEADERS,
    });
  });
}
