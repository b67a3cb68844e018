import { z } from 'zod';
import {
  agentSchema, apiTokenSchema, archiveInfoSchema, distributionSchema, loadTestSchema, loadZoneSchema, organizationSchema, orgLimitsSchema,
  projectSchema, runSchema, runStatusSchema, statusChangeSchema, thresholdResultSchema,
} from '../../protocol/index.js';
import { liveEventSchema } from './api-schemas.js';
import { apiErrorBodySchema } from './errors.js';
import type { RouteDoc } from './route.js';
import { ARCHIVE_PART } from './upload.js';

/** A JSON Schema as it appears in the document. */
export type JsonSchema = { readonly [key: string]: unknown };

/** The OpenAPI 3.1 document of the API (only the parts herd fills in are typed). */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly servers?: ReadonlyArray<{ readonly url: string }>;
  readonly tags: ReadonlyArray<{ readonly name: string }>;
  readonly paths: { readonly [path: string]: { readonly [method: string]: JsonSchema } };
  readonly components: { readonly schemas: { readonly [name: string]: JsonSchema }; readonly securitySchemes: JsonSchema };
}

// Protocol types that many answers nest: named once in components and referenced, so that a
// generated client gets one `Run` type instead of a copy per route.
const sharedSchemas: ReadonlyArray<readonly [z.ZodType, string]> = [
  [runSchema, 'Run'], [runStatusSchema, 'RunStatus'], [statusChangeSchema, 'StatusChange'], [distributionSchema, 'Distribution'],
  [loadTestSchema, 'LoadTest'], [archiveInfoSchema, 'ArchiveInfo'], [organizationSchema, 'Organization'], [orgLimitsSchema, 'OrgLimits'],
  [projectSchema, 'Project'], [apiTokenSchema, 'ApiToken'], [agentSchema, 'Agent'], [loadZoneSchema, 'LoadZone'],
  [thresholdResultSchema, 'ThresholdResult'], [apiErrorBodySchema, 'Error'], [liveEventSchema, 'LiveEvent'],
];

const errorDescriptions: Readonly<Record<number, string>> = {
  400: 'The request does not match its schema; `error.fields` names each bad field',
  401: 'No token, or an unknown or revoked one',
  403: 'The token is not an admin token',
  404: 'No such resource in the caller\'s organization (another organization\'s ids look the same)',
  409: 'The resource is not in a state that allows this (e.g. the run has ended)',
  413: 'The archive is larger than the server accepts',
  415: 'Wrong content type (JSON where multipart is expected, or the reverse)',
};

/**
 * Builds the OpenAPI 3.1 document from the route declarations themselves: request and answer
 * schemas are the zod schemas the server validates with, converted by `z.toJSONSchema`.
 * Requests are described as clients write them (`io: 'input'`: defaults optional), answers as
 * the server sends them (`io: 'output'`).
 */
export function buildOpenApiDocument(routes: readonly RouteDoc[], options: { version: string; publicUrl?: string }): OpenApiDocument {
  const registry = z.registry<{ id: string }>();
  const named = (schema: z.ZodType, id: string) => {
    if (!registry.has(schema)) registry.add(schema, { id });
  };
  for (const [schema, id] of sharedSchemas) named(schema, id);
  for (const r of routes) {
    if (r.response.schema !== undefined) named(r.response.schema, r.response.schemaName ?? `${capitalize(r.id)}Answer`);
  }
  const ref = (schema: z.ZodType): JsonSchema => ({ $ref: `#/components/schemas/${registry.get(schema)?.id ?? 'unknown'}` });
  const components = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`, io: 'output', unrepresentable: 'any',
  }).schemas as Record<string, JsonSchema>;
  for (const [name, s] of Object.entries(components)) components[name] = withoutMeta(s);

  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[r.method.toLowerCase()] = operation(r, ref);
  }
  const tags = [...new Set(routes.map((r) => r.tag))].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'herd API',
      version: options.version,
      description: 'The REST API of a herd control plane: tests, test runs, live events, usage, load zones, organizations, projects and tokens. '
        + 'Every error answer is `{ "error": { "code", "message", "hint"?, "fields"? } }`.',
    },
    ...(options.publicUrl === undefined ? {} : { servers: [{ url: options.publicUrl }] }),
    tags,
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token; k6\'s `Authorization: Token <token>` form is accepted too' },
      },
    },
  };
}

function operation(r: RouteDoc, ref: (s: z.ZodType) => JsonSchema): JsonSchema {
  const parameters = [...parametersOf(r.params, 'path'), ...parametersOf(r.query, 'query')];
  const errorStatuses = new Set<number>(r.errors ?? []);
  if (r.params !== undefined || r.query !== undefined || r.body !== undefined || r.upload !== undefined) errorStatuses.add(400);
  if (r.access !== 'public') errorStatuses.add(401);
  if (r.access === 'admin') errorStatuses.add(403);
  const responses: Record<string, JsonSchema> = { [String(r.response.status)]: successResponse(r, ref) };
  for (const status of [...errorStatuses].sort()) {
    responses[String(status)] = {
      description: errorDescriptions[status] ?? 'Error',
      content: { 'application/json': { schema: ref(apiErrorBodySchema) } },
    };
  }
  return {
    operationId: r.id,
    summary: r.summary,
    tags: [r.tag],
    security: r.access === 'public' ? [] : [{ bearerAuth: [] }],
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(requestBodyOf(r) ?? {}),
    responses,
  };
}

function successResponse(r: RouteDoc, ref: (s: z.ZodType) => JsonSchema): JsonSchema {
  const { status, description, schema, contentType } = r.response;
  if (contentType === 'text/event-stream') {
    return {
      description,
      content: { 'text/event-stream': { schema: { type: 'string' }, 'x-event-data': ref(liveEventSchema) } },
    };
  }
  if (schema === undefined || status === 204) return { description };
  return { description, content: { 'application/json': { schema: ref(schema) } } };
}

function requestBodyOf(r: RouteDoc): { requestBody: JsonSchema } | undefined {
  if (r.body !== undefined) {
    return { requestBody: { required: true, content: { 'application/json': { schema: inputSchema(r.body) } } } };
  }
  if (r.upload !== undefined) {
    const fields = inputSchema(r.upload);
    const properties = { ...(fields['properties'] as Record<string, unknown> | undefined), [ARCHIVE_PART]: { type: 'string', contentMediaType: 'application/octet-stream', description: 'The script archive (herd/k6 archive format)' } };
    const required = [...((fields['required'] as string[] | undefined) ?? []), ARCHIVE_PART];
    return {
      requestBody: {
        required: true,
        content: { 'multipart/form-data': { schema: { ...fields, type: 'object', properties, required } } },
      },
    };
  }
  return undefined;
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (schema === undefined) return [];
  const json = inputSchema(schema);
  const properties = (json['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json['required'] as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, s]) => ({
    name, in: where, required: where === 'path' || required.has(name), schema: s,
  }));
}

function inputSchema(schema: z.ZodType): JsonSchema {
  return withoutMeta(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema);
}

// `$schema` and `$id` belong to a standalone JSON Schema document; inside OpenAPI 3.1 a
// component is named by its key, and a `$id` would change how its `$ref`s resolve.
function withoutMeta(s: JsonSchema): JsonSchema {
  const { $schema: _s, $id: _id, ...rest } = s;
  return rest;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
