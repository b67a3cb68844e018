// The legacy k6 cloud API (`/v1/...`) that `k6 cloud script.js` of k6 up to v1.8 speaks
// (K6-CLOUD-API.md §0.1, §1.2-§1.3, §2): validate the options, upload the archive (converted to
// herd's format and submitted as a run), poll the run's progress, stop it. Errors use k6's body
// shape `{"error":{"code":<int>,"message":…,"details":{…}}}`, which k6 prints as
// `(<http status>/E<code>) <message>`. POSTs honour `K6-Idempotency-Key`: a repeated key (same
// token, same route) gets the first successful answer again instead of a second run.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isHerdError } from '../../errors/index.js';
import { archiveIdSchema, isFinal, projectIdSchema, runIdSchema, type ProjectId, type Run } from '../../protocol/index.js';
import { stripSecrets } from '../../script/index.js';
import { authenticate, type Caller } from '../api/auth.js';
import { ApiError, toErrorAnswer } from '../api/errors.js';
import { planRun, type RunService } from '../runs/index.js';
import type { Store } from '../store/index.js';
import { IdempotencyCache } from './idempotency-cache.js';
import { convertK6Archive, stripNulls } from './k6-archive.js';

/** What the legacy routes need. */
export interface K6LegacyDeps {
  readonly store: Store;
  readonly runs: RunService;
  /** The largest archive accepted, in bytes (50 MiB by default, as the rest of the API). */
  readonly maxArchiveBytes?: number;
  /** Epoch ms; tests inject a clock. */
  readonly now?: () => number;
  /** How many idempotency keys are remembered (least recently used go first); 1,000 by default. */
  readonly idempotencyCapacity?: number;
}

/** k6's legacy error body. */
export interface K6ErrorBody {
  error: { code: number; message: string; details?: Record<string, string[]> };
}

/** k6's run status `10`: an upload with `upload_only` (never run). */
export const RUN_STATUS_ARCHIVED = 10;

// reference_ids of upload-only archives: the archive id plus this, so they never meet a run id
// (18 digits, still a decimal int64 as k6 wants) and need no state to be recognised after a restart.
const ARCHIVED_REF_BASE = 900_000_000_000_000_000n;
const DEFAULT_MAX_ARCHIVE_BYTES = 50 * 1024 * 1024;
const MAX_FIELD_BYTES = 16 * 1024;

// k6 only prints the code; herd's codes, by HTTP status (4 is what k6's own cloud uses for "forbidden").
const K6_ERROR_CODES: Readonly<Record<number, number>> = { 400: 1, 401: 2, 403: 4, 404: 3, 409: 6, 413: 5, 415: 7, 429: 8 };

/** A route's answer before it is sent. */
export type Answer = { status: number; body: unknown };

/**
 * Registers `POST /v1/validate-options`, `POST /v1/archive-upload`, `GET /v1/test-progress/:id`
 * and `POST /v1/tests/:id/stop` on the API server. Auth: `Authorization: Token <t>` (what k6
 * sends) or `Bearer <t>`, any live token of the organization.
 */
export function registerK6LegacyRoutes(app: FastifyInstance, deps: K6LegacyDeps): void {
  const { store, runs } = deps;
  const now = deps.now ?? Date.now;
  const maxArchiveBytes = deps.maxArchiveBytes ?? DEFAULT_MAX_ARCHIVE_BYTES;
  const replays = new IdempotencyCache<Answer>(deps.idempotencyCapacity ?? 1000, now);

  const handle = (method: 'GET' | 'POST', work: (caller: Caller, request: FastifyRequest) => Promise<Answer>) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const caller = await authenticate(store, request.headers.authorization);
      const header = request.headers['k6-idempotency-key'];
      const key = typeof header === 'string' && header !== '' && method === 'POST' ? `${caller.tokenId}\n${request.method} ${request.url}\n${header}` : undefined;
      const answer = key === undefined ? await work(caller, request) : await replays.run(key, () => work(caller, request), (a) => a.status < 300);
      return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
    };

  void app.register(async (scope) => {
    scope.setErrorHandler((err, request, reply) => {
      const { status, body } = k6ErrorAnswer(err);
      if (status >= 500) request.log.error({ err }, 'k6 legacy request failed');
      return reply.code(status).type('application/json; charset=utf-8').send(body);
    });

    // §1.3 step B: only the status matters to k6. herd plans the run from the options, as it
    // would after an upload, so invalid options are refused before anything is uploaded.
    scope.post('/v1/validate-options', handle('POST', async (_caller, request) => {
      const body = request.body;
      if (body === undefined || body === null) return { status: 200, body: {} };
      if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object {"options": {...}}', 'body');
      const raw = (body as Record<string, unknown>)['options'];
      if (raw === undefined || raw === null) return { status: 200, body: {} };
      if (typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('"options" must be a JSON object of k6 options', 'options');
      const options = stripNulls(stripSecrets(raw as Record<string, unknown>)) as Record<string, unknown>;
      const plan = planRun(options, 'local');
      return { status: 200, body: { vus: plan.maxVUs, duration: plan.durationSeconds } };
    }));

    // §1.3 step C: multipart `name`, optional `project_id`, optional `upload_only`, file `file`.
    scope.post('/v1/archive-upload', handle('POST', async (caller, request) => {
      const upload = await readK6Upload(request, maxArchiveBytes);
      const projectId = await projectOf(store, caller, upload.projectId);
      // A herd archive (gzip) is taken as is; anything else must be a k6 archive.
      const isHerdArchive = upload.archive.byteLength >= 2 && upload.archive[0] === 0x1f && upload.archive[1] === 0x8b;
      const converted = isHerdArchive ? undefined : await convertK6Archive(upload.archive, { limits: { maxBytes: maxArchiveBytes, maxCompressedBytes: maxArchiveBytes } });
      const archive = converted?.archive ?? upload.archive;
      const testName = upload.name ?? converted?.testName ?? 'k6 test';
      const logs = (converted?.warnings ?? []).map((message) => ({ level: 'warning', message }));
      const base = `${request.protocol}://${request.host}`;
      if (upload.uploadOnly) {
        const test = (await store.findTestByName(caller.orgId, projectId, testName)) ?? (await store.createTest(caller.orgId, { projectId, name: testName }));
        const info = await store.putArchive(caller.orgId, test.id, archive);
        const ref = (BigInt(info.id) + ARCHIVED_REF_BASE).toString();
        return { status: 200, body: { reference_id: ref, config: { webAppURL: base, testRunDetails: `${base}/#/runs?testId=${test.id}` }, logs } };
      }
      const run = await runs.submit(caller.orgId, { projectId, testName, archive });
      return {
        status: 200,
        body: { reference_id: run.id, config: { webAppURL: base, testRunDetails: `${base}/#/runs/${run.id}` }, logs },
      };
    }));

    // §1.3 step F: polled every 2 s; k6 goes on while run_status <= 2.
    scope.get('/v1/test-progress/:id', handle('GET', async (caller, request) => {
      const id = (request.params as { id: string }).id;
      const archived = archivedRef(id);
      if (archived !== undefined) {
        if ((await store.getArchive(caller.orgId, archiveIdSchema.parse(archived))) === undefined) throw notFound(id);
        return { status: 200, body: { run_status: RUN_STATUS_ARCHIVED, run_status_text: 'Archived', result_status: 0, progress: 1 } };
      }
      const run = await getRun(store, caller, id);
      return { status: 200, body: testProgress(run, now()) };
    }));

    // §1.3 step G: the first Ctrl+C. The run ends Aborted by user (5); stopping an ended run is a no-op.
    scope.post('/v1/tests/:id/stop', handle('POST', async (caller, request) => {
      const id = (request.params as { id: string }).id;
      const run = await getRun(store, caller, id);
      if (isFinal(run.status)) return { status: 200, body: {} };
      try {
        await runs.abort(caller.orgId, run.id);
      } catch (e) {
        // Lost a race with the run's own end: it has ended, which is all a stop asks for.
        const after = await store.getRun(caller.orgId, run.id);
        if (after === undefined || !isFinal(after.status)) throw e;
      }
      return { status: 200, body: {} };
    }));
  });
}

/** k6's TestProgressResponse for a run (§1.3 step F; result_status 1 makes k6 exit 97, or 99 after Finished/Aborted by threshold). */
export function testProgress(run: Pick<Run, 'status' | 'result' | 'startedAt' | 'durationSeconds'>, nowMs: number): {
  run_status: number; run_status_text: string; result_status: 0 | 1; progress: number;
} {
  const code = run.status.code;
  // Finished with failed thresholds and Aborted by threshold are failures by result; Timed out
  // and the system, script-error and limit aborts are failures of the run. Aborted by user is not.
  const failed = run.result === 'failed' || code === 4 || code === 6 || code === 7 || code === 9;
  let progress = 0;
  if (isFinal(run.status)) progress = 1;
  else if (code === 2 && run.startedAt !== null && run.durationSeconds !== null && run.durationSeconds > 0) {
    progress = Math.min(1, Math.max(0, (nowMs - Date.parse(run.startedAt)) / (run.durationSeconds * 1000)));
  }
  return { run_status: code, run_status_text: run.status.name, result_status: failed ? 1 : 0, progress };
}

/** Turns anything thrown by a legacy route into k6's error body and its HTTP status. */
export function k6ErrorAnswer(err: unknown): { status: number; body: K6ErrorBody } {
  const { status, body } = toErrorAnswer(err);
  const details: Record<string, string[]> = {};
  for (const f of body.error.fields ?? []) (details[f.path] ??= []).push(f.message);
  if (isHerdError(err) && (err.code === 'invalid_option' || err.code === 'invalid_threshold')) {
    const lines = err.message.split('\n').slice(1).map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length > 0) details['options'] = lines;
  }
  if (body.error.hint !== undefined) details['hint'] = [body.error.hint];
  return {
    status,
    body: { error: { code: K6_ERROR_CODES[status] ?? 0, message: body.error.message, ...(Object.keys(details).length === 0 ? {} : { details }) } },
  };
}

interface K6Upload {
  name: string | undefined;
  projectId: string | undefined;
  uploadOnly: boolean;
  archive: Uint8Array;
}

/** Reads k6's multipart upload: text fields name, project_id, upload_only and the file part `file`. */
async function readK6Upload(request: FastifyRequest, maxArchiveBytes: number): Promise<K6Upload> {
  if (!request.isMultipart()) {
    throw new ApiError('unsupported_media_type', `this endpoint takes multipart/form-data with a file part "file" (the k6 archive), got ${request.headers['content-type'] ?? 'no content type'}`);
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxArchiveBytes + 64 * 1024) {
    throw new ApiError('archive_too_large', `the upload is ${declared} bytes, more than an archive of at most ${maxArchiveBytes} bytes needs`);
  }
  const fields: Record<string, string> = {};
  let archive: Uint8Array | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || archive !== undefined) {
        part.file.resume();
        throw badRequest(archive !== undefined ? 'the file part "file" must be sent once' : `"${part.fieldname}" is not a known file part; the k6 archive goes in a part named "file"`, part.fieldname);
      }
      try {
        const buf = await part.toBuffer();
        if (buf.byteLength > maxArchiveBytes) throw new ApiError('archive_too_large', `the archive is larger than the limit of ${maxArchiveBytes} bytes`);
        archive = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        if ((e as { code?: unknown }).code === 'FST_REQ_FILE_TOO_LARGE') throw new ApiError('archive_too_large', `the archive is larger than the limit of ${maxArchiveBytes} bytes`);
        throw e;
      }
    } else {
      const value = typeof part.value === 'string' ? part.value : String(part.value);
      if (value.length > MAX_FIELD_BYTES) throw badRequest(`the field "${part.fieldname}" is too long`, part.fieldname);
      fields[part.fieldname] = value;
    }
  }
  if (archive === undefined) throw badRequest('the k6 archive is missing: send it in a file part named "file"', 'file');
  const name = fields['name']?.trim();
  const project = fields['project_id']?.trim();
  const uploadOnly = fields['upload_only']?.trim().toLowerCase();
  if (uploadOnly !== undefined && uploadOnly !== 'true' && uploadOnly !== 'false' && uploadOnly !== '') {
    throw badRequest(`"upload_only" must be "true" or "false", got ${JSON.stringify(fields['upload_only'])}`, 'upload_only');
  }
  return {
    name: name === undefined || name === '' ? undefined : name,
    projectId: project === undefined || project === '' || project === '0' ? undefined : project,
    uploadOnly: uploadOnly === 'true',
    archive,
  };
}

/** The project a run goes to: `project_id` when given (it must be the caller's), else the organization's first. */
export async function projectOf(store: Store, caller: Caller, given: string | undefined): Promise<ProjectId> {
  if (given !== undefined) {
    const parsed = projectIdSchema.safeParse(given);
    if (!parsed.success) throw badRequest(`"project_id" must be a project id like "1", got ${JSON.stringify(given)}`, 'project_id');
    if ((await store.getProject(caller.orgId, parsed.data)) === undefined) {
      throw new ApiError('not_found', `project ${given} does not exist or belongs to another organization`);
    }
    return parsed.data;
  }
  const first = (await store.listProjects(caller.orgId))[0];
  if (first === undefined) throw new ApiError('not_found', 'the organization has no project to run tests in', { hint: 'create one: POST /api/v1/projects' });
  return first.id;
}

async function getRun(store: Store, caller: Caller, id: string): Promise<Run> {
  const parsed = runIdSchema.safeParse(id);
  const run = parsed.success ? await store.getRun(caller.orgId, parsed.data) : undefined;
  if (run === undefined) throw notFound(id);
  return run;
}

function archivedRef(id: string): string | undefined {
  if (!/^[0-9]{18}$/.test(id)) return undefined;
  const n = BigInt(id);
  return n > ARCHIVED_REF_BASE ? (n - ARCHIVED_REF_BASE).toString() : undefined;
}

function notFound(id: string): ApiError {
  return new ApiError('not_found', `test run ${id} does not exist or belongs to another organization`);
}

function badRequest(message: string, field: string): ApiError {
  return new ApiError('invalid_request', message, { fields: [{ path: field, message }] });
}
