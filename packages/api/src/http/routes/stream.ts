import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { LiveEvent } from '../../live/client-queue.ts';
import { type Api, documentRoute, type RouteDeps } from '../deps.ts';
import { ErrorSchema, StudyIdParams, strictQuery } from '../schemas.ts';
import { checkedQuery, findStudy } from '../errors.ts';

export const HEARTBEAT_MS = 15_000;

const StreamQuery = strictQuery({
  // EventSource polyfills that send headers (for the API token) resume with ?lastEventId=N instead of the header.
  lastEventId: z
    .string()
    .optional()
    .openapi({ param: { name: 'lastEventId', in: 'query', description: 'as the Last-Event-ID header, for clients that cannot send it' } }),
  rows: z.coerce
    .number({ error: 'rows must be an integer from 0 to 100000' })
    .int({ error: 'rows must be an integer from 0 to 100000' })
    .min(0, { error: 'rows must be an integer from 0 to 100000' })
    .max(100_000, { error: 'rows must be an integer from 0 to 100000' })
    .optional()
    .openapi({ param: { name: 'rows', in: 'query' } }),
});

const streamRoute = createRoute({
  method: 'get',
  path: '/v1/studies/{id}/leaderboard/stream',
  summary: 'The live leaderboard (Server-Sent Events)',
  description:
    'Each `leaderboard` event is the complete table: `{ id, study, rows, changes }`, where `changes` lists the trial and study changes ' +
    'it covers (created, started, epoch, stopping, finished, study). The first event is the current table; then at most one event per ' +
    '~150 ms while the study changes. Event ids increase per study. On reconnect with Last-Event-ID: if that is still the latest event ' +
    'nothing is repeated; otherwise a fresh table is sent (every event is a snapshot, so nothing needs replaying). A client that falls ' +
    '16 events behind is sent a fresh table instead of the backlog. Comment lines every 15 s keep proxies from closing the stream. ' +
    'Each event also carries `total` (every trial, ranked or not), `columns` (parameter order), `progress` and `history` (the best-so-far steps). ' +
    'With `rows=N` each event holds only the top N rows (the dashboard and a terminal need a page, not 100,000 rows). ' +
    'Each event has `final`: true on the last table, once the study has ended and none of its trials is still in flight (a stopped ' +
    "study's running trials are told to stop and report their end; until then `study.state` is already `stopped` and `final` is false). " +
    'The stream sends that final table and closes.',
  request: { params: StudyIdParams, query: StreamQuery },
  responses: {
    200: { description: 'an event stream', content: { 'text/event-stream': { schema: z.string() } } },
    400: {
      description: 'a malformed `rows`, or a query parameter this request does not take',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    404: { description: 'no such study', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

export function streamRoutes(app: Api, { store, hub }: RouteDeps): void {
  app.get(documentRoute(app, streamRoute), async (c) => {
    const study = await findStudy(store, c.req.param('id') ?? '');
    const query = checkedQuery(c, StreamQuery);
    const { rows } = query;
    const lastEventId = Number(c.req.header('last-event-id') ?? query.lastEventId ?? Number.NaN);
    return streamSSE(c, async (stream) => {
      const queue = hub.subscribe(study.id);
      const end = () => hub.unsubscribe(study.id, queue);
      stream.onAbort(end);
      c.req.raw.signal.addEventListener('abort', end, { once: true });
      let writing = false;
      /** Sends the event; true when it was the study's last. */
      const send = async (event: LiveEvent) => {
        writing = true;
        try {
          await stream.writeSSE({ id: String(event.id), event: 'leaderboard', data: event.text(rows) });
        } finally {
          writing = false;
        }
        return event.final;
      };
      // A heartbeat is skipped while a write is still pending: a stuck socket gets no pile of them.
      const heartbeat = setInterval(() => {
        if (!writing && !stream.closed && !stream.aborted) void stream.write(': keep-alive\n\n');
      }, HEARTBEAT_MS);
      try {
        await stream.write('retry: 2000\n\n');
        // A finished study gets its final table even when the client saw it: the stream then ends.
        if (study.state !== 'running' || !(Number.isFinite(lastEventId) && lastEventId === hub.latestId(study.id))) {
          const first = await hub.snapshot(study.id);
          if (first && (await send(first))) return;
        }
        for (;;) {
          const next = await queue.next();
          if (next === undefined || stream.aborted) break;
          const event = next === 'snapshot' ? await hub.snapshot(study.id) : next;
          if (event && (await send(event))) break;
        }
      } finally {
        clearInterval(heartbeat);
        end();
      }
    });
  });
}
