// The public Grafana Cloud k6 REST API v6 (`/cloud/v6/...`) as far as `k6 cloud run` and
// `k6 cloud upload` of k6 ≥ 2.0 use it (K6-CLOUD-API.md §0.2, §1.8, §5): validate options,
// create a load test from a k6 archive or plain JavaScript (or replace its script), start it, poll the run, abort
// it; plus auth, projects, load zones and run lists for `k6 cloud login` and other clients.
//
// Stacks: Grafana Cloud scopes every call to a stack (`X-Stack-Id`, an int32). herd has one
// stack per organization and its id is the organization's numeric id, so a token's stack never
// changes and needs no extra table. `GET /cloud/v6/auth` tells a client its stack id.
//
// Errors use v6's body `{"error":{"message","code","target","details"}}`, which k6 prints as
// `(<http status>/<code>) <message>`; `code` is herd's stable error code.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isHerdError } from '../../errors/index.js';
import { isFinal, projectIdSchema, runIdSchema, testIdSchema, type LoadTest, type OrgId, type ProjectId, type Run, type TestId } from '../../protocol/index.js';
import { stripSecrets, unpackArchive } from '../../script/index.js';
import { authenticate, type Caller } from '../api/auth.js';
import { ApiError, toErrorAnswer } from '../api/errors.js';
import { readArchiveUpload } from '../api/upload.js';
import { parseRequestPart } from '../api/validation.js';
import { estimateVuHours, planRun, type RunService } from '../runs/index.js';
import type { AgentRecord, Store } from '../store/index.js';
import { IdempotencyCache } from './idempotency-cache.js';
import { convertK6Archive, looksLikeK6Archive, stripNulls } from './k6-archive.js';
import { k6ArchiveOfScript } from './plain-script.js';
import { v6Id, v6LoadTest, v6Project, v6TestRun, vuhBreakdown, type V6ErrorBody, type V6LoadZone, type V6TestRun } from './v6-models.js';

/** What the v6 routes need. */
export interface K6V6Deps {
  readonly store: Store;
  readonly runs: RunService;
  /** The largest archive accepted, in bytes (50 MiB by default, as the rest of the API). */
  readonly maxArchiveBytes?: number;
  /** The clock; tests inject one. */
  readonly now?: () => Date;
  /** How many idempotency keys are remembered; 1,000 by default. */
  readonly idempotencyCapacity?: number;
  /** Whether an agent counts as healthy (a load zone is `available` when one of its agents is). */
  readonly isAgentHealthy?: (agent: AgentRecord, now: Date) => boolean;
}

/** The URL prefix of every v6 route. */
export const V6_PREFIX = '/cloud/v6';

const DEFAULT_MAX_ARCHIVE_BYTES = 50 * 1024 * 1024;
// Grafana Cloud keeps a start's idempotency key for 10 minutes (§5.1).
const IDEMPOTENCY_TTL_MS = 10 * 60 * 1000;
const INT32_MAX = 2_147_483_647;
const MAX_PAGE = 1000;
const JSON_TYPE = 'application/json; charset=utf-8';

type Answer = { status: 200 | 201; body: unknown } | { status: 204 };
interface Context {
  readonly caller: Caller;
  readonly request: FastifyRequest;
}

/** OData paging of v6 lists (§5.1): `$top` (default and max 1000), `$skip`, `$count`. */
const pageQuery = {
  $top: z.coerce.number().int().min(1).max(MAX_PAGE).default(MAX_PAGE),
  $skip: z.coerce.number().int().min(0).default(0),
  $count: z.enum(['true', 'false']).optional(),
};
const listQuerySchema = z.strictObject(pageQuery);
const loadTestListQuerySchema = z.strictObject({ ...pageQuery, name: z.string().min(1).optional() });
const runListQuerySchema = z.strictObject({ ...pageQuery, created_after: z.iso.datetime({ offset: true }).optional(), created_before: z.iso.datetime({ offset: true }).optional() });
const loadZoneQuerySchema = z.strictObject({ k6_load_zone_id: z.string().min(1).optional() });

/** `ValidateOptionsRequest` (§5.3). */
const validateOptionsBodySchema = z.strictObject({
  options: z.record(z.string(), z.unknown()),
  project_id: z.int().positive().nullable().optional(),
  k6_dependencies: z.record(z.string(), z.unknown()).nullable().optional(),
  k6_version: z.int().nullable().optional(),
  is_local_execution: z.boolean().optional(),
});
/** The text fields of a create-load-test upload; the script comes in the file part `script`. */
const createLoadTestFieldsSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  k6_version: z.string().regex(/^[0-9]+$/, 'must be an integer').optional(),
});

/**
 * Registers the `/cloud/v6` routes. Auth: `Authorization: Bearer <token>`, any live token of
 * the organization; `X-Stack-Id: <organization id>` on every route but `/auth`.
 */
export function registerK6V6Routes(app: FastifyInstance, deps: K6V6Deps): void {
  const { store, runs } = deps;
  const now = deps.now ?? (() => new Date());
  const maxArchiveBytes = deps.maxArchiveBytes ?? DEFAULT_MAX_ARCHIVE_BYTES;
  const isHealthy = deps.isAgentHealthy ?? (() => true);
  const replays = new IdempotencyCache<Answer>(deps.idempotencyCapacity ?? 1000, () => now().getTime(), IDEMPOTENCY_TTL_MS);

  const handle = (opts: { stack: boolean; idempotent?: boolean }, work: (ctx: Context) => Promise<Answer>) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const caller = await authenticate(store, request.headers.authorization);
      if (opts.stack) checkStack(request.headers['x-stack-id'], caller.orgId);
      const ctx = { caller, request };
      const key = opts.idempotent === true ? idempotencyKey(request) : undefined;
      const answer = key === undefined
        ? await work(ctx)
        : await replays.run(`${caller.tokenId}\n${request.method} ${request.url}\n${key}`, () => work(ctx), (a) => a.status < 300);
      if (answer.status === 204) return reply.code(204).send();
      return reply.code(answer.status).type(JSON_TYPE).send(answer.body);
    };

  const testRunOf = async (caller: Caller, run: Run): Promise<V6TestRun> => {
    const history = (await store.getStatusHistory(caller.orgId, run.id)) ?? [];
    return v6TestRun(run, history, { abortedBy: await abortedBy(store, caller.orgId), now: now() });
  };

  void app.register(async (scope) => {
    scope.setErrorHandler((err, request, reply) => {
      const { status, body } = v6ErrorAnswer(err);
      if (status >= 500) request.log.error({ err }, 'k6 v6 request failed');
      return reply.code(status).type(JSON_TYPE).send(body);
    });
    scope.setNotFoundHandler((request, reply) => {
      const body = v6ErrorBody('not_found', `herd does not implement ${request.method} ${request.url.split('?')[0] ?? ''} of the k6 v6 API`, null, null);
      return reply.code(404).type(JSON_TYPE).send(body);
    });
    // PUT /load_tests/{id}/script sends the raw tar.
    scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: maxArchiveBytes }, (_request, body, done) => {
      done(null, body);
    });

    // `k6 cloud login`: which stack the token is for and where tests go by default.
    scope.get('/auth', handle({ stack: false }, async ({ caller }) => {
      const project = await defaultProject(store, caller.orgId);
      return { status: 200, body: { stack_id: stackIdOf(caller.orgId), default_project_id: v6Id(project.id) } };
    }));

    scope.get('/projects', handle({ stack: true }, async ({ caller, request }) => {
      const query = parseRequestPart(listQuerySchema, request.query, 'query');
      const projects = await store.listProjects(caller.orgId);
      // The first project is where herd puts runs that name none (as the legacy API does).
      const models = projects.map((p, i) => v6Project(p, i === 0));
      return { status: 200, body: odataPage(models, query, request) };
    }));

    scope.get('/load_zones', handle({ stack: true }, async ({ request }) => {
      const query = parseRequestPart(loadZoneQuerySchema, request.query, 'query');
      const zones = loadZones(await store.listAgents(), isHealthy, now());
      return { status: 200, body: { value: zones.filter((z) => query.k6_load_zone_id === undefined || z.k6_load_zone_id === query.k6_load_zone_id) } };
    }));

    // §1.8 step 2: plan the run from the options as herd will after the upload, so invalid
    // options are refused before anything is uploaded; the VU-hours are herd's own estimate.
    scope.post('/validate_options', handle({ stack: true }, async ({ caller, request }) => {
      const body = parseRequestPart(validateOptionsBodySchema, request.body, 'body');
      const cloud = body.options['cloud'];
      const fromOptions = typeof cloud === 'object' && cloud !== null ? (cloud as Record<string, unknown>)['projectID'] : undefined;
      const projectId = body.project_id ?? (typeof fromOptions === 'number' && fromOptions > 0 ? fromOptions : undefined);
      if (projectId !== undefined) await getProject(store, caller.orgId, String(projectId));
      const options = stripNulls(stripSecrets(body.options)) as Record<string, unknown>;
      // The zone only names where an undistributed run goes; the VU-hours do not depend on it.
      const plan = planRun(options, 'local');
      const vuh = estimateVuHours(plan.maxVUs, plan.durationSeconds);
      return { status: 200, body: { vuh_usage: vuh, breakdown: vuhBreakdown(vuh) } };
    }));

    scope.get('/projects/:projectId/load_tests', handle({ stack: true }, async ({ caller, request }) => {
      const project = await getProject(store, caller.orgId, paramOf(request, 'projectId'));
      const query = parseRequestPart(loadTestListQuerySchema, request.query, 'query');
      const tests = await store.listTests(caller.orgId, { projectId: project.id });
      const matching = query.name === undefined ? tests : tests.filter((t) => t.name === query.name);
      return { status: 200, body: odataPage(matching.map(v6LoadTest), query, request) };
    }));

    // §1.8 step 3: multipart `name` + file part `script`; 409 sends k6 to list-by-name and PUT script.
    scope.post('/projects/:projectId/load_tests', handle({ stack: true }, async ({ caller, request }) => {
      const project = await getProject(store, caller.orgId, paramOf(request, 'projectId'));
      const upload = await readArchiveUpload(request, createLoadTestFieldsSchema, maxArchiveBytes, 'script');
      const name = upload.fields.name;
      if ((await store.findTestByName(caller.orgId, project.id, name)) !== undefined) throw nameTaken(project.id, name);
      const archive = await toHerdArchive(upload.archive, maxArchiveBytes);
      let test: LoadTest;
      try {
        test = await store.createTest(caller.orgId, { projectId: project.id, name });
      } catch (e) {
        // A concurrent create of the same name won during the conversion (the unique constraint on
        // project and name refused this one): the same 409 as when it existed before.
        if ((await store.findTestByName(caller.orgId, project.id, name)) !== undefined) throw nameTaken(project.id, name);
        throw e;
      }
      await store.putArchive(caller.orgId, test.id, archive);
      const stored = await store.getTest(caller.orgId, test.id);
      return { status: 201, body: v6LoadTest(stored ?? test) };
    }));

    scope.get('/load_tests/:id', handle({ stack: true }, async ({ caller, request }) => {
      const test = await getTest(store, caller.orgId, paramOf(request, 'id'));
      return { status: 200, body: v6LoadTest(test) };
    }));

    scope.put('/load_tests/:id/script', handle({ stack: true }, async ({ caller, request }) => {
      const test = await getTest(store, caller.orgId, paramOf(request, 'id'));
      const body = request.body;
      if (!(body instanceof Uint8Array)) {
        throw new ApiError('unsupported_media_type', `the script goes in the raw request body with Content-Type: application/octet-stream, got ${request.headers['content-type'] ?? 'no content type'}`);
      }
      if (body.byteLength === 0) throw badRequest('the request body is empty; send the k6 archive (the tar `k6 archive` writes)', 'script');
      await store.putArchive(caller.orgId, test.id, await toHerdArchive(body, maxArchiveBytes));
      return { status: 204 };
    }));

    // §1.8 step 4: runs the test's latest script. A retry with the same K6-Idempotency-Key
    // gets the first start's answer instead of a second run.
    scope.post('/load_tests/:id/start', handle({ stack: true, idempotent: true }, async ({ caller, request }) => {
      const test = await getTest(store, caller.orgId, paramOf(request, 'id'));
      const archive = test.latestArchive === null ? undefined : await store.getArchive(caller.orgId, test.latestArchive.id);
      if (archive === undefined) {
        throw new ApiError('conflict', `load test ${test.id} has no script to run yet`, { hint: `upload one: PUT ${V6_PREFIX}/load_tests/${test.id}/script` });
      }
      const run = await runs.submit(caller.orgId, { projectId: test.projectId, testId: test.id, archive: archive.bytes });
      const model = await testRunOf(caller, run);
      return { status: 200, body: { ...model, test_run_details_page_url: `${request.protocol}://${request.host}/#/runs/${run.id}` } };
    }));

    scope.get('/test_runs', handle({ stack: true }, async ({ caller, request }) => {
      const query = parseRequestPart(runListQuerySchema, request.query, 'query');
      const picked = await listRunsPage(store, caller.orgId, query);
      const value = [];
      for (const run of picked.runs) value.push(await testRunOf(caller, run));
      return {
        status: 200,
        body: {
          value,
          ...(query.$count === 'true' ? { '@count': picked.total } : {}),
          ...(picked.more ? { '@nextLink': nextLink(request, query.$skip + query.$top) } : {}),
        },
      };
    }));

    // §1.8 step 6: polled every 2 s until `completed` or `aborted`.
    scope.get('/test_runs/:id', handle({ stack: true }, async ({ caller, request }) => {
      const run = await getRun(store, caller.orgId, paramOf(request, 'id'));
      return { status: 200, body: await testRunOf(caller, run) };
    }));

    // §1.8 step 7: Ctrl+C. 409 for a run that has ended (k6 treats it as done).
    scope.post('/test_runs/:id/abort', handle({ stack: true }, async ({ caller, request }) => {
      const run = await getRun(store, caller.orgId, paramOf(request, 'id'));
      if (isFinal(run.status)) throw notRunning(run);
      try {
        await runs.abort(caller.orgId, run.id);
      } catch (e) {
        // Lost a race with the run's own end: it is not running any more.
        const after = await store.getRun(caller.orgId, run.id);
        if (after !== undefined && isFinal(after.status)) throw notRunning(after);
        throw e;
      }
      return { status: 204 };
    }));
  }, { prefix: V6_PREFIX });
}

/** Turns anything thrown by a v6 route into v6's error body and its HTTP status. */
export function v6ErrorAnswer(err: unknown): { status: number; body: V6ErrorBody } {
  const { status, body } = toErrorAnswer(err);
  const details: Array<{ message: string; code: string; target: string | null }> = [];
  let target: string | null = null;
  for (const f of body.error.fields ?? []) {
    const field = f.path.replace(/^(body|query|params)\./, '');
    target ??= field;
    details.push({ message: f.message, code: body.error.code, target: field });
  }
  if (isHerdError(err) && (err.code === 'invalid_option' || err.code === 'invalid_threshold')) {
    // Their message is a headline and one line per problem, each naming its option.
    target = 'options';
    for (const line of err.message.split('\n').slice(1).map((l) => l.trim()).filter((l) => l !== '')) {
      details.push({ message: line, code: err.code, target: optionNamed(line) });
    }
  }
  if (body.error.hint !== undefined) details.push({ message: body.error.hint, code: 'hint', target: null });
  return { status, body: v6ErrorBody(body.error.code, body.error.message, target, details.length === 0 ? null : details) };
}

function v6ErrorBody(code: string, message: string, target: string | null, details: V6ErrorBody['error']['details']): V6ErrorBody {
  return { error: { message, code, target, details } };
}

// `options.vus must be …` / `vus must be …` → `options.vus`; other lines name no single option.
function optionNamed(line: string): string {
  const m = /^(?:options\.)?([A-Za-z][\w.[\]]*)\s/.exec(line);
  return m?.[1] === undefined ? 'options' : `options.${m[1]}`;
}

/** The stack id of an organization: its numeric id, which must fit X-Stack-Id's int32. */
export function stackIdOf(orgId: OrgId): number {
  const n = Number(orgId);
  if (!Number.isSafeInteger(n) || n > INT32_MAX) throw new Error(`organization ${orgId} has an id beyond int32, so it cannot be a k6 stack id`);
  return n;
}

function checkStack(header: string | string[] | undefined, orgId: OrgId): void {
  const hint = 'send "X-Stack-Id: <stack id>" (k6: K6_CLOUD_STACK_ID); GET /cloud/v6/auth tells the stack id of a token';
  if (header === undefined || header === '') {
    throw new ApiError('invalid_request', 'the header X-Stack-Id is required: the stack (herd organization) to act in', { hint, fields: [{ path: 'X-Stack-Id', message: 'X-Stack-Id is required' }] });
  }
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!/^[1-9][0-9]{0,9}$/.test(value) || Number(value) > INT32_MAX) {
    throw new ApiError('invalid_request', `the header X-Stack-Id must be a positive int32, got ${JSON.stringify(value)}`, { hint, fields: [{ path: 'X-Stack-Id', message: 'X-Stack-Id must be a positive int32' }] });
  }
  const own = stackIdOf(orgId);
  if (Number(value) !== own) {
    throw new ApiError('forbidden', `this token belongs to stack ${own}, not to stack ${value} (X-Stack-Id)`, { hint: `send "X-Stack-Id: ${own}", or use a token of stack ${value}` });
  }
}

function idempotencyKey(request: FastifyRequest): string | undefined {
  const header = request.headers['k6-idempotency-key'];
  if (header === undefined || header === '') return undefined;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.length > 36) throw badRequest(`the header K6-Idempotency-Key must be 1 to 36 characters, got ${value.length}`, 'K6-Idempotency-Key');
  return value;
}

function paramOf(request: FastifyRequest, name: string): string {
  return (request.params as Record<string, string | undefined>)[name] ?? '';
}

async function getProject(store: Store, orgId: OrgId, raw: string) {
  const parsed = projectIdSchema.safeParse(raw);
  const project = parsed.success ? await store.getProject(orgId, parsed.data) : undefined;
  if (project === undefined) throw new ApiError('not_found', `project ${raw} does not exist or belongs to another stack`, { hint: 'GET /cloud/v6/projects lists the projects of the stack' });
  return project;
}

async function defaultProject(store: Store, orgId: OrgId) {
  const first = (await store.listProjects(orgId))[0];
  if (first === undefined) throw new ApiError('not_found', 'the stack (herd organization) has no project to run tests in', { hint: 'create one: POST /api/v1/projects' });
  return first;
}

async function getTest(store: Store, orgId: OrgId, raw: string) {
  const parsed = testIdSchema.safeParse(raw);
  const test = parsed.success ? await store.getTest(orgId, parsed.data as TestId) : undefined;
  if (test === undefined) throw new ApiError('not_found', `load test ${raw} does not exist or belongs to another stack`);
  return test;
}

async function getRun(store: Store, orgId: OrgId, raw: string): Promise<Run> {
  const parsed = runIdSchema.safeParse(raw);
  const run = parsed.success ? await store.getRun(orgId, parsed.data) : undefined;
  if (run === undefined) throw new ApiError('not_found', `test run ${raw} does not exist or belongs to another stack`);
  return run;
}

// herd records that a user of the organization aborted a run, not which one (tokens belong to
// the organization), so the organization's name stands for the user.
async function abortedBy(store: Store, orgId: OrgId): Promise<string> {
  return (await store.getOrganization(orgId))?.name ?? `stack ${orgId}`;
}

function nameTaken(projectId: ProjectId, name: string): ApiError {
  return new ApiError('conflict', `project ${projectId} already has a load test named ${JSON.stringify(name)}`, {
    hint: `replace its script instead: GET ${V6_PREFIX}/projects/${projectId}/load_tests?name=… then PUT ${V6_PREFIX}/load_tests/{id}/script`,
  });
}

function notRunning(run: Run): ApiError {
  return new ApiError('conflict', `cannot abort test run ${run.id}: it is not running, it ended ${run.status.name}`);
}

function badRequest(message: string, field: string): ApiError {
  return new ApiError('invalid_request', message, { fields: [{ path: field, message }] });
}

/**
 * The script of a load test as herd stores it, whatever form it came in (§5.4 "auto-detected"):
 * a k6 archive (what k6 uploads) converted to herd's format, a herd archive (gzip) checked and
 * kept, or plain JavaScript text made into a k6 archive first (see plain-script.ts). Every
 * problem answers 400 (413 for size) with `target: "script"`.
 */
async function toHerdArchive(bytes: Uint8Array, maxArchiveBytes: number): Promise<Uint8Array> {
  const limits = { maxBytes: maxArchiveBytes, maxCompressedBytes: maxArchiveBytes };
  try {
    if (bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      await unpackArchive(bytes);
      return bytes;
    }
    if (looksLikeK6Archive(bytes) || isTar(bytes)) return (await convertK6Archive(bytes, { limits })).archive;
    const text = scriptText(bytes);
    if (text === undefined) {
      throw badRequest('the script is neither a k6 archive (tar) nor JavaScript text (UTF-8)', 'script');
    }
    return (await convertK6Archive(k6ArchiveOfScript(text), { limits })).archive;
  } catch (e) {
    if (!isHerdError(e)) throw e;
    throw new ApiError(e.code, e.message, { ...(e.hint === undefined ? {} : { hint: e.hint }), fields: [{ path: 'script', message: e.message }] });
  }
}

// A ustar header (magic at offset 257) that is not a k6 archive's gets the k6 reader's own error.
function isTar(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 512 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar';
}

function scriptText(bytes: Uint8Array): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // NUL never occurs in source text; it does in binary files that happen to be valid UTF-8.
    return text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}

/** One page of `items` by `$skip`/`$top`, with `@count` and `@nextLink` as OData has them. */
function odataPage<T>(items: readonly T[], query: { $top: number; $skip: number; $count?: 'true' | 'false' | undefined }, request: FastifyRequest) {
  const end = query.$skip + query.$top;
  return {
    value: items.slice(query.$skip, end),
    ...(query.$count === 'true' ? { '@count': items.length } : {}),
    ...(end < items.length ? { '@nextLink': nextLink(request, end) } : {}),
  };
}

function nextLink(request: FastifyRequest, skip: number): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set('$skip', String(skip));
  return url.toString();
}

/** The organization's runs for a v6 list page: herd pages by cursor, so it walks pages up to `$skip + $top`. */
async function listRunsPage(store: Store, orgId: OrgId, query: z.infer<typeof runListQuerySchema>): Promise<{ runs: Run[]; total: number; more: boolean }> {
  const all: Run[] = [];
  const want = query.$count === 'true' ? Number.POSITIVE_INFINITY : query.$skip + query.$top + 1;
  const filter = {
    ...(query.created_after === undefined ? {} : { createdAfter: new Date(query.created_after).toISOString() }),
    ...(query.created_before === undefined ? {} : { createdBefore: new Date(query.created_before).toISOString() }),
  };
  let before: Run['id'] | undefined;
  while (all.length < want) {
    const page = await store.listRuns(orgId, { ...filter, limit: 500, ...(before === undefined ? {} : { before }) });
    all.push(...page.runs);
    if (page.nextBefore === null) break;
    before = page.nextBefore;
  }
  const end = query.$skip + query.$top;
  return { runs: all.slice(query.$skip, end), total: all.length, more: all.length > end };
}

/**
 * The load zones herd's agents serve, as `LoadZoneApiModel`. A zone's id is a stable number
 * derived from its name (FNV-1a, 31 bits), so it survives restarts without a table.
 */
export function loadZones(agents: readonly AgentRecord[], isHealthy: (agent: AgentRecord, now: Date) => boolean, now: Date): V6LoadZone[] {
  const zones = new Map<string, boolean>();
  for (const a of agents) zones.set(a.zone, (zones.get(a.zone) ?? false) || isHealthy(a, now));
  return [...zones].sort(([a], [b]) => a.localeCompare(b)).map(([zone, available]) => ({
    id: zoneId(zone), name: zone, k6_load_zone_id: zone, available, custom_load_runner_image: null, public: false,
  }));
}

function zoneId(zone: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(zone)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return (h & 0x7fffffff) || 1;
}
