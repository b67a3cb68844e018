import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type ErrorCode, errorCodes, isHerdError } from '../../errors/index.js';

// HTTP statuses are chosen here and nowhere else (STYLE.md rule 5): the run service and the
// store throw HerdErrors with stable codes, and this table says what each means on the wire.

/** Codes only the HTTP layer produces: they describe the request, not the domain. */
const apiOnlyStatuses = {
  unauthorized: 401,
  forbidden: 403,
  invalid_request: 400,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
} as const;

// Every HerdError code with the status it is answered with. `satisfies Record<ErrorCode, …>`
// makes a new HerdError code a compile error here until someone decides its status.
const herdStatuses = {
  invalid_option: 400,
  invalid_flag: 400,
  invalid_threshold: 400,
  invalid_config_file: 400,
  script_not_found: 400,
  script_syntax: 400,
  script_unsupported: 400,
  script_import: 400,
  script_exception: 400,
  init_context_only: 400,
  setup_timeout: 500,
  teardown_timeout: 500,
  test_aborted: 500,
  external_abort: 500,
  thresholds_failed: 500,
  internal: 500,
  cloud_unreachable: 502,
  cloud_request_failed: 502,
  // A status change that the run's current status no longer allows: the client lost a race
  // (e.g. aborting a run that just finished), which is what 409 says.
  invalid_transition: 409,
  status_conflict: 409,
  // The database is down or locked: retrying later may work.
  store_failure: 503,
  not_found: 404,
  invalid_archive: 400,
  archive_too_large: 413,
} as const satisfies Record<ErrorCode, number>;

/** Every error code the API answers with, mapped to its HTTP status. */
export const apiErrorStatuses: Readonly<Record<ApiErrorCode, number>> = { ...herdStatuses, ...apiOnlyStatuses };

/** An error code as it appears in an API answer: a HerdError code or one of the HTTP layer's own. */
export type ApiErrorCode = ErrorCode | keyof typeof apiOnlyStatuses;

/** One invalid field of a request: where it is and what is wrong with it. */
export interface FieldProblem {
  /** e.g. `body.name`, `query.status`, `params.id`. */
  readonly path: string;
  /** `<path> must be …, got …`. */
  readonly message: string;
}

/** The one shape of every error answer: `{ error: { code, message, hint?, fields? } }`. */
export const apiErrorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string(),
    message: z.string(),
    hint: z.string().optional(),
    fields: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  }),
});
/** The one shape of every error answer. */
export type ApiErrorBody = z.infer<typeof apiErrorBodySchema>;

/** An error the HTTP layer raises about a request (bad token, bad field, too large …). */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly hint: string | undefined;
  readonly fields: readonly FieldProblem[] | undefined;

  constructor(code: ApiErrorCode, message: string, options: { hint?: string; fields?: readonly FieldProblem[] } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.hint = options.hint;
    this.fields = options.fields;
  }

  /** The HTTP status this error is answered with. */
  get status(): number {
    return apiErrorStatuses[this.code];
  }
}

/** A 404 worded the same for "does not exist" and "belongs to another organization", so ids leak nothing. */
export function notFound(what: string): ApiError {
  return new ApiError('not_found', `${what} does not exist or belongs to another organization`);
}

/** The HTTP status of an error code; 500 for a code this table does not know (from a newer service). */
export function httpStatusOf(code: string): number {
  return (apiErrorStatuses as Readonly<Record<string, number>>)[code] ?? 500;
}

/** Turns anything thrown while handling a request into its status and error answer. */
export function toErrorAnswer(err: unknown): { status: number; body: ApiErrorBody; unexpected: boolean } {
  if (err instanceof ApiError) {
    return { status: err.status, body: errorBody(err.code, err.message, err.hint, err.fields), unexpected: false };
  }
  if (isHerdError(err)) {
    const status = httpStatusOf(err.code);
    return { status, body: errorBody(err.code, err.message, err.hint), unexpected: status >= 500 };
  }
  const fe = err as Partial<FastifyError> | null;
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 413) {
    return { status, body: errorBody('payload_too_large', 'the request body is larger than the server accepts'), unexpected: false };
  }
  if (status === 415) {
    return {
      status,
      body: errorBody('unsupported_media_type', fe?.message ?? 'this content type is not accepted here', 'send application/json, or multipart/form-data where an archive is uploaded'),
      unexpected: false,
    };
  }
  if (status >= 400 && status < 500) {
    // Fastify's own 4xx (malformed JSON, empty JSON body, bad multipart framing): its message
    // says what is wrong with the request and reveals nothing internal.
    return { status: 400, body: errorBody('invalid_request', fe?.message ?? 'the request is malformed'), unexpected: false };
  }
  // Never echo an unexpected error's message: it may hold SQL, paths or other internals.
  return { status: 500, body: errorBody('internal', 'the server failed to handle this request; it has been logged'), unexpected: true };
}

/** Fastify error handler answering every error in the one JSON shape. */
export function handleApiError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = toErrorAnswer(err);
  if (answer.unexpected) request.log.error({ err }, 'request failed');
  return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
}

/** Fastify not-found handler: an unknown route gets the same JSON shape as everything else. */
export function handleUnknownRoute(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send(errorBody('not_found', `there is no route ${request.method} ${request.url.split('?')[0] ?? ''}`, 'GET /openapi.json lists every route'));
}

function errorBody(code: string, message: string, hint?: string, fields?: readonly FieldProblem[]): ApiErrorBody {
  return {
    error: {
      code,
      message,
      ...(hint === undefined ? {} : { hint }),
      ...(fields === undefined ? {} : { fields: fields.map((f) => ({ path: f.path, message: f.message })) }),
    },
  };
}
