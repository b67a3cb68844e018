// herd's HTTP API: REST resources under /api/v1, auth by API token, live events (SSE), the
// OpenAPI document. Built on fastify; HTTP statuses are decided here and nowhere else.
export { createApiServer, DEFAULT_MAX_ARCHIVE_BYTES, type ApiServerDeps } from './server.js';
export { buildOpenApiDocument, type OpenApiDocument, type JsonSchema } from './openapi.js';
export { authenticate, tokenFromHeader, type Caller } from './auth.js';
export {
  ApiError, apiErrorBodySchema, apiErrorStatuses, httpStatusOf, type ApiErrorBody, type ApiErrorCode, type FieldProblem,
} from './errors.js';
export {
  liveEventSchema, statusEventSchema, progressEventSchema, warningEventSchema, logEventSchema, submitRunFieldsSchema, estimateSchema,
  metricSeriesSchema, runSummarySchema, runThresholdsSchema, createdOrganizationSchema, type LiveEvent, type SubmitRunFields,
} from './api-schemas.js';
export type { RouteDoc, HttpMethod, Access } from './route.js';
