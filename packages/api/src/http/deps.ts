import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { Store } from '@sweepd/core';
import type { StudyEngine } from '@sweepd/search';
import type { LeaderboardHub } from '../live/hub.ts';
import type { SettledTrials } from '../views/settled-trials.ts';
import type { DaemonMetrics } from '../ops/metrics.ts';

export interface RouteDeps {
  store: Store;
  engine: StudyEngine;
  hub: LeaderboardHub;
  metrics: DaemonMetrics;
  /** A study's trials, kept once it has settled: read through this, not store.listTrials. */
  settled: SettledTrials;
}

export type Api = OpenAPIHono;

/**
 * Registers a route's documentation without @hono/zod-openapi's validators, for the routes whose
 * input is checked by hand (the spec body, which is YAML or JSON text) or whose answer is not
 * JSON (the event stream, the dashboard). The path is still built from the same RouteConfig.
 */
export function documentRoute(app: Api, route: RouteConfig): string {
  app.openAPIRegistry.registerPath(route);
  return route.path.replaceAll(/\/{(.+?)}/g, '/:$1');
}
