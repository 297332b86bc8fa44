import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { LiveEvent } from '../../live/client-queue.ts';
import { type Api, documentRoute, type RouteDeps } from '../deps.ts';
import { ErrorSchema, StudyIdParams } from '../schemas.ts';
import { findStudy } from '../errors.ts';

export const HEARTBEAT_MS = 15_000;

const streamRoute = createRoute({
  method: 'get',
  path: '/v1/studies/{id}/leaderboard/stream',
  summary: 'The live leaderboard (Server-Sent Events)',
  description:
    'Each `leaderboard` event is the complete table: `{ id, study, rows, changes }`, where `changes` lists the trial and study changes ' +
    'it covers (created, started, epoch, stopping, finished, study). The first event is the current table; then at most one event per ' +
    '~150 ms while the study changes. Event ids increase per study. On reconnect with Last-Event-ID: if that is still the latest event ' +
    'nothing is repeated; otherwise a fresh table is sent (every event is a snapshot, so nothing needs replaying). A client that falls ' +
    '16 events behind is sent a fresh table instead of the backlog. Comment lines every 15 s keep proxies from closing the stream.',
  request: { params: StudyIdParams },
  responses: {
    200: { description: 'an event stream', content: { 'text/event-stream': { schema: z.string() } } },
    404: { description: 'no such study', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

export function streamRoutes(app: Api, { store, hub }: RouteDeps): void {
  app.get(documentRoute(app, streamRoute), async (c) => {
    const study = await findStudy(store, c.req.param('id') ?? '');
    const lastEventId = Number(c.req.header('last-event-id') ?? Number.NaN);
    return streamSSE(c, async (stream) => {
      const queue = hub.subscribe(study.id);
      const end = () => hub.unsubscribe(study.id, queue);
      stream.onAbort(end);
      c.req.raw.signal.addEventListener('abort', end, { once: true });
      let writing = false;
      const send = async (event: LiveEvent) => {
        writing = true;
        try {
          await stream.writeSSE({ id: String(event.id), event: 'leaderboard', data: event.data });
        } finally {
          writing = false;
        }
      };
      // A heartbeat is skipped while a write is still pending: a stuck socket gets no pile of them.
      const heartbeat = setInterval(() => {
        if (!writing && !stream.closed && !stream.aborted) void stream.write(': keep-alive\n\n');
      }, HEARTBEAT_MS);
      try {
        await stream.write('retry: 2000\n\n');
        if (!(Number.isFinite(lastEventId) && lastEventId === hub.latestId(study.id))) {
          const first = await hub.snapshot(study.id);
          if (first) await send(first);
        }
        for (;;) {
          const next = await queue.next();
          if (next === undefined || stream.aborted) break;
          const event = next === 'snapshot' ? await hub.snapshot(study.id) : next;
          if (event) await send(event);
        }
      } finally {
        clearInterval(heartbeat);
        end();
      }
    });
  });
}
