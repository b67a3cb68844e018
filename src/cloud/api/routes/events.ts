import type { ServerResponse } from 'node:http';
import type { RunEvent } from '../../runs/index.js';
import { eventsQuerySchema } from '../api-schemas.js';
import { notFound } from '../errors.js';
import { type ApiRoute, defineRoute, type RouteDeps } from '../route.js';
import { liveEventView } from '../views.js';

// A client that stops reading (but keeps the socket open) would make the server buffer its
// events without end; past this many unsent bytes the stream is closed and the client may
// reconnect (EventSource does so by itself).
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** The open live-event streams of a server, so that closing the server can end them. */
export interface OpenStreams {
  readonly streams: Set<ServerResponse>;
}

/**
 * The live-event route: Server-Sent Events of the caller's organization's runs (or one run),
 * `event: <type>` and `data: <json>` per event, and a comment line every heartbeat so proxies
 * and clients can tell an idle stream from a dead one.
 */
export function eventRoutes({ store, runs, sseHeartbeatMs }: RouteDeps, open: OpenStreams): ApiRoute[] {
  return [
    defineRoute({
      id: 'streamEvents', method: 'GET', url: '/api/v1/events', tag: 'events', access: 'member',
      summary: 'Live events (SSE): `event: status|progress|warning|log`, `data: <json>`; heartbeat comments every 15 s',
      query: eventsQuerySchema,
      response: {
        status: 200, contentType: 'text/event-stream',
        description: 'A stream of events of the organization\'s runs (or of `runId`); each `data` is JSON as in the LiveEvent schema',
      },
      errors: [404],
      handler: async ({ caller, query, reply }) => {
        if (query.runId !== undefined && (await store.getRun(caller.orgId, query.runId)) === undefined) throw notFound(`run ${query.runId}`);
        // From here on the stream is written by hand: fastify's reply would buffer and end it.
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // nginx would otherwise hold events back until its buffer fills.
          'x-accel-buffering': 'no',
        });
        // A first line at once, so that the client sees the stream is open before any event.
        res.write(': connected\n\n');
        open.streams.add(res);

        let closed = false;
        let unsubscribe: () => void = () => undefined;
        let heartbeat: ReturnType<typeof setInterval> | undefined;
        const close = () => {
          if (closed) return;
          closed = true;
          unsubscribe();
          clearInterval(heartbeat);
          open.streams.delete(res);
          if (!res.writableEnded) res.end();
        };
        const write = (chunk: string) => {
          if (closed) return;
          if (res.writableLength > MAX_BUFFERED_BYTES) {
            close();
            return;
          }
          res.write(chunk);
        };
        unsubscribe = runs.subscribe((event: RunEvent) => {
          // Filtered on the server: a client never receives (and then drops) another
          // organization's events.
          if (event.orgId !== caller.orgId) return;
          if (query.runId !== undefined && event.runId !== query.runId) return;
          write(`event: ${event.type}\ndata: ${JSON.stringify(liveEventView(event))}\n\n`);
        });
        // The stream may have closed while subscribing (a backlog replayed past the buffer cap).
        if (closed) {
          unsubscribe();
          return undefined;
        }
        // A follower of one run first gets where the run is now, read after subscribing: a client
        // that looked at the run and then opened the stream would otherwise never hear of a change
        // made in between (a run that ended meanwhile would keep it waiting for good).
        if (query.runId !== undefined) {
          const now = await store.getRun(caller.orgId, query.runId);
          if (now !== undefined) {
            write(`event: status\ndata: ${JSON.stringify(liveEventView({
              type: 'status', orgId: now.orgId, runId: now.id, status: now.status, result: now.result, change: now.lastChange,
            }))}\n\n`);
          }
        }
        heartbeat = setInterval(() => write(': heartbeat\n\n'), sseHeartbeatMs);
        res.on('close', close);
        res.on('error', close);
        // The client may have gone while the run was looked up, before 'close' was listened to.
        if (res.destroyed) close();
        return undefined;
      },
    }),
  ];
}
