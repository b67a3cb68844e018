import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { RunService } from '../runs/index.js';
import type { AgentRecord, Store } from '../store/index.js';
import type { Caller } from './auth.js';
import type { ArchiveUpload } from './upload.js';

// Every route is one declaration: method, path, who may call it, the zod schemas of its
// params, query, body and answer, and its handler. The server registers these and the
// OpenAPI document is generated from the very same list, so the two cannot drift apart.

/** The HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call a route: anyone, any valid token of the organization, or only an admin token. */
export type Access = 'public' | 'member' | 'admin';

/** The successful answer of a route, as documented. */
export interface ResponseDoc {
  readonly status: 200 | 201 | 202 | 204;
  readonly description: string;
  /** The answer's schema; absent for 204 and for streams. */
  readonly schema?: z.ZodType;
  /** Name of the answer's schema in the OpenAPI components. */
  readonly schemaName?: string;
  /** Defaults to application/json. */
  readonly contentType?: 'application/json' | 'text/event-stream';
}

/** What a route declares about itself, without its handler: all that the OpenAPI document needs. */
export interface RouteDoc {
  /** A stable operationId, e.g. `listRuns`. */
  readonly id: string;
  readonly method: HttpMethod;
  /** Fastify path syntax: `/api/v1/runs/:id`. */
  readonly url: string;
  readonly summary: string;
  /** Groups routes in the document (`runs`, `tests`, …). */
  readonly tag: string;
  readonly access: Access;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  /** A JSON body. */
  readonly body?: z.ZodType;
  /** A multipart/form-data body: these text fields plus a required file part `archive`. */
  readonly upload?: z.ZodType;
  readonly response: ResponseDoc;
  /** Error statuses this route can answer besides 400/401 (documented with the error shape). */
  readonly errors?: readonly number[];
}

/** What every handler can reach: the injected services and settings of the server. */
export interface RouteDeps {
  readonly store: Store;
  readonly runs: RunService;
  readonly now: () => Date;
  readonly maxArchiveBytes: number;
  readonly sseHeartbeatMs: number;
  readonly isAgentHealthy: (agent: AgentRecord, now: Date) => boolean;
}

/** What a handler gets: the caller and the request's parts, parsed by the route's schemas. */
export interface RouteContext<P, Q, B, U> {
  readonly caller: Caller;
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly upload: U;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
type UploadOf<S> = S extends z.ZodType ? ArchiveUpload<z.output<S>> : undefined;

/** A route declaration with a handler typed by its own schemas. */
export interface RouteSpec<P, Q, B, U> extends Omit<RouteDoc, 'params' | 'query' | 'body' | 'upload' | 'access'> {
  readonly access: Exclude<Access, 'public'>;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly upload?: U;
  readonly handler: (ctx: RouteContext<Out<P>, Out<Q>, Out<B>, UploadOf<U>>) => Promise<unknown>;
}

/** A route as the server holds it: the handler's types erased after `defineRoute` checked them. */
export interface ApiRoute extends RouteDoc {
  readonly handler: (ctx: RouteContext<unknown, unknown, unknown, unknown>) => Promise<unknown>;
}

/** Declares an authenticated route; the handler's context is typed from the schemas given. */
export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  U extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B, U>): ApiRoute {
  // Safe: the server calls the handler only with values parsed by these same schemas.
  return spec as unknown as ApiRoute;
}
