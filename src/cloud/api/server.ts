import type { ServerResponse } from 'node:http';
import multipart from '@fastify/multipart';
import { z } from 'zod';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HERD_VERSION } from '../../config/index.js';
import { registerK6LegacyRoutes } from '../k6compat/legacy-routes.js';
import { registerK6OutputRoutes } from '../k6compat/output-routes.js';
import { registerK6V6Routes } from '../k6compat/v6-routes.js';
import { ExternalRuns } from '../runs/external-runs.js';
import type { RunService } from '../runs/index.js';
import type { AgentRecord, Store } from '../store/index.js';
import { healthSchema } from './api-schemas.js';
import { authenticate, requireAdmin } from './auth.js';
import { ApiError, handleApiError, handleUnknownRoute } from './errors.js';
import { buildOpenApiDocument } from './openapi.js';
import type { ApiRoute, RouteDoc, RouteDeps } from './route.js';
import { agentRoutes } from './routes/agents.js';
import { eventRoutes } from './routes/events.js';
import { organizationRoutes } from './routes/organizations.js';
import { projectRoutes } from './routes/projects.js';
import { runRoutes } from './routes/runs.js';
import { testRoutes } from './routes/tests.js';
import { tokenRoutes } from './routes/tokens.js';
import { usageRoutes } from './routes/usage.js';
import { multipartLimits, readArchiveUpload } from './upload.js';
import { parseRequestPart } from './validation.js';

/** What the API server is built from. */
export interface ApiServerDeps {
  readonly store: Store;
  readonly runs: RunService;
  /** A pino-style logger, `true` for fastify's default one; quiet when left out. */
  readonly logger?: FastifyBaseLogger | boolean;
  /** The URL clients reach the server at (behind a proxy it differs from the listen address); named in the OpenAPI document. */
  readonly publicUrl?: string;
  /** The largest archive an upload may carry, in bytes; 50 MiB by default. */
  readonly maxArchiveBytes?: number;
  /** The clock (usage month, revocation times, agent health); tests inject one. */
  readonly now?: () => Date;
  /** The live-event heartbeat period; 15 s by default, shorter in tests. */
  readonly sseHeartbeatMs?: number;
  /**
   * Whether an agent counts as healthy. The scheduler owns this rule; until it exports one,
   * an agent is healthy when it heartbeated within the last 30 s.
   */
  readonly isAgentHealthy?: (agent: AgentRecord, now: Date) => boolean;
  /** Check every answer against its declared schema and fail loudly on a mismatch: for tests. */
  readonly validateResponses?: boolean;
  /**
   * The runs k6 executes itself (`k6 run --out cloud`), started by the caller. When left out the
   * server makes its own, started when the server is ready and closed with it; its status
   * changes then reach no live-event subscriber.
   */
  readonly externalRuns?: ExternalRuns;
}

/** The default archive size limit: the seed's 50 MiB (also the organizations' default `maxArchiveBytes`). */
export const DEFAULT_MAX_ARCHIVE_BYTES = 50 * 1024 * 1024;
const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_AGENT_HEALTH_MS = 30_000;
// JSON bodies are small (names, limits); anything bigger is a mistake or an attack.
const JSON_BODY_LIMIT = 1024 * 1024;

/** The public routes: no token needed. Declared like the others so the document lists them. */
const publicRoutes: readonly RouteDoc[] = [
  {
    id: 'getHealth', method: 'GET', url: '/health', tag: 'meta', access: 'public', summary: 'Liveness: 200 while the server answers',
    response: { status: 200, description: 'The server is up', schema: healthSchema, schemaName: 'Health' },
  },
  {
    id: 'getOpenApi', method: 'GET', url: '/openapi.json', tag: 'meta', access: 'public', summary: 'This OpenAPI 3.1 document',
    response: { status: 200, description: 'The document' },
  },
];

/**
 * Builds herd's HTTP API (not listening: the CLI calls `listen`). Every route but `/health`
 * and `/openapi.json` needs a token; every answer that is not a success is
 * `{ error: { code, message, hint?, fields? } }`.
 */
export function createApiServer(deps: ApiServerDeps): FastifyInstance {
  const maxArchiveBytes = deps.maxArchiveBytes ?? DEFAULT_MAX_ARCHIVE_BYTES;
  const logger = deps.logger ?? false;
  const app = Fastify({
    ...(typeof logger === 'boolean' ? { logger } : { loggerInstance: logger }),
    bodyLimit: JSON_BODY_LIMIT,
    // The OpenAPI document lists GETs only; automatic HEAD twins would be undocumented routes.
    exposeHeadRoutes: false,
    // Abort long-lived live-event connections on close instead of waiting for clients to leave.
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;

  const routeDeps: RouteDeps = {
    store: deps.store,
    runs: deps.runs,
    now: deps.now ?? (() => new Date()),
    maxArchiveBytes,
    sseHeartbeatMs: deps.sseHeartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    isAgentHealthy: deps.isAgentHealthy ?? ((a, now) => a.lastHeartbeatAt !== null && now.getTime() - Date.parse(a.lastHeartbeatAt) <= DEFAULT_AGENT_HEALTH_MS),
  };
  const open = { streams: new Set<ServerResponse>() };
  const routes: ApiRoute[] = [
    ...organizationRoutes(routeDeps), ...projectRoutes(routeDeps), ...tokenRoutes(routeDeps), ...testRoutes(routeDeps),
    ...runRoutes(routeDeps), ...usageRoutes(routeDeps), ...agentRoutes(routeDeps), ...eventRoutes(routeDeps, open),
  ];
  let document: string | undefined;

  // Browsers' fetch and many clients send `Content-Type: application/json` on a POST without a
  // body (e.g. abort); fastify's parser rejects that, so an empty body is read as no body.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') {
      done(null, undefined);
      return;
    }
    jsonParser(request, text, done);
  });
  app.setErrorHandler(handleApiError);
  app.setNotFoundHandler(handleUnknownRoute);
  // Live-event streams never end by themselves: end them so that close() does not wait.
  app.addHook('preClose', (done) => {
    for (const res of open.streams) res.end();
    done();
  });
  void app.register(multipart, { limits: multipartLimits(maxArchiveBytes), throwFileSizeLimit: true });
  // Routes go in a plugin so they are added at ready(): hooks on the instance (e.g. a test's
  // onRoute) see every one of them.
  void app.register(async (scope) => {
    scope.get('/health', async () => ({ status: 'ok' as const }));
    scope.get('/openapi.json', async (_request, reply) => {
      document ??= JSON.stringify(buildOpenApiDocument([...publicRoutes, ...routes], {
        version: HERD_VERSION, ...(deps.publicUrl === undefined ? {} : { publicUrl: deps.publicUrl }),
      }));
      return reply.type('application/json; charset=utf-8').send(document);
    });
    for (const route of routes) {
      scope.route({ method: route.method, url: route.url, handler: handlerOf(route, routeDeps, deps.validateResponses === true) });
    }
  });
  registerK6LegacyRoutes(app, { store: deps.store, runs: deps.runs, maxArchiveBytes });
  registerK6V6Routes(app, { store: deps.store, runs: deps.runs, maxArchiveBytes, now: routeDeps.now, isAgentHealthy: routeDeps.isAgentHealthy });
  let external = deps.externalRuns;
  if (external === undefined) {
    const own = new ExternalRuns({ store: deps.store });
    app.addHook('onReady', async () => own.start());
    app.addHook('onClose', async () => own.close());
    external = own;
  }
  registerK6OutputRoutes(app, { store: deps.store, external, ...(deps.publicUrl === undefined ? {} : { publicUrl: deps.publicUrl }) });
  return app;
}

/** Authenticates, parses each part of the request with the route's schemas, runs the handler, answers. */
function handlerOf(route: ApiRoute, deps: RouteDeps, validateResponses: boolean) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const caller = await authenticate(deps.store, request.headers.authorization);
    if (route.access === 'admin') requireAdmin(caller, `${route.method} ${route.url}`);
    const params = route.params === undefined ? {} : parseRequestPart(route.params, request.params, 'params');
    const query = parseRequestPart(route.query ?? emptyQuery, request.query, 'query');
    let body: unknown;
    let upload: unknown;
    if (route.upload !== undefined) {
      upload = await readArchiveUpload(request, route.upload, deps.maxArchiveBytes);
    } else if (route.body !== undefined) {
      if (request.isMultipart()) {
        throw new ApiError('unsupported_media_type', `${route.method} ${route.url} takes a JSON body, got multipart/form-data`, { hint: 'send Content-Type: application/json' });
      }
      body = parseRequestPart(route.body, request.body, 'body');
    }
    const answer = await route.handler({ caller, params, query, body, upload, request, reply });
    // A streaming handler (live events) has taken the response over.
    if (reply.sent) return reply;
    if (validateResponses && route.response.schema !== undefined) {
      const checked = route.response.schema.safeParse(answer);
      if (!checked.success) {
        throw new Error(`answer of ${route.id} does not match its schema: ${JSON.stringify(checked.error.issues)}`);
      }
    }
    reply.code(route.response.status);
    return route.response.status === 204 ? reply.send() : reply.send(answer);
  };
}

// Without a query schema a route takes no query: an unexpected key is a typo worth a 400.
const emptyQuery = z.strictObject({});
