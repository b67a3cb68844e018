// What `k6 run --out cloud` talks to (K6-CLOUD-API.md §3): k6 executes the test itself and herd
// only ingests it. `POST /v1/tests` creates the run, `POST /v2/metrics/{id}` pushes aggregated
// metrics (protocol v2: snappy-compressed protobuf, see metrics-v2.ts), `POST /v1/tests/{id}`
// reports the end. A push answered 403 with error code 4 makes k6 stop pushing (§3.6): herd
// answers so once the run has ended, whoever ended it. Errors use k6's legacy body shape.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RunStatuses, runIdSchema, type RunId, type RunStatus } from '../../protocol/index.js';
import type { StatusReason } from '../../protocol/status-change.js';
import { authenticate, type Caller } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { ExternalEnding, ExternalRuns } from '../runs/external-runs.js';
import type { Store } from '../store/index.js';
import { IdempotencyCache } from './idempotency-cache.js';
import { k6ErrorAnswer, projectOf, type Answer } from './legacy-routes.js';
import { decodeMetricsPush, MAX_DECODED_PUSH_BYTES } from './metrics-v2.js';

/** What the output routes need. */
export interface K6OutputDeps {
  readonly store: Store;
  readonly external: ExternalRuns;
  /** The URL users reach the dashboard at; the request's own host when left out. */
  readonly publicUrl?: string;
  /** The largest compressed push accepted, in bytes; 16 MiB by default. */
  readonly maxPushBytes?: number;
  /** Epoch ms, for the idempotency cache; tests inject a clock. */
  readonly now?: () => number;
}

/** How k6 is told to aggregate and push (§3.2): k6's defaults, all four fields k6-operator needs always present. */
export const OUTPUT_CONFIG = {
  aggregationPeriod: '3s',
  aggregationWaitPeriod: '8s',
  metricPushInterval: '1s',
  metricPushConcurrency: 1,
  maxTimeSeriesInBatch: 1000,
  apiVersion: 2,
  // herd has no traces ingester; with traces on, k6 would dial a gRPC host that is not there.
  tracesEnabled: false,
  stopOnError: false,
} as const;

const VIA = 'k6 run --out cloud';
const DEFAULT_MAX_PUSH_BYTES = 16 * 1024 * 1024;
const MAX_NAME = 200;

/**
 * Registers `POST /v1/tests`, `POST /v2/metrics/:id` and `POST /v1/tests/:id`. Auth:
 * `Authorization: Token <t>` (what k6 sends) or `Bearer <t>`, any live token of the organization.
 */
export function registerK6OutputRoutes(app: FastifyInstance, deps: K6OutputDeps): void {
  const { store, external } = deps;
  const maxPushBytes = deps.maxPushBytes ?? DEFAULT_MAX_PUSH_BYTES;
  const replays = new IdempotencyCache<Answer>(1000, deps.now ?? Date.now);

  // k6 retries a create or a finish that got a 5xx with the same K6-Idempotency-Key: the retry
  // gets the first answer instead of a second run. Pushes are deduplicated by ExternalRuns, in
  // the store, so that a retry is recognised even after a restart.
  const once = async (caller: Caller, request: FastifyRequest, work: () => Promise<Answer>): Promise<Answer> => {
    const header = request.headers['k6-idempotency-key'];
    if (typeof header !== 'string' || header === '') return work();
    return replays.run(`${caller.tokenId}\n${request.method} ${request.url}\n${header}`, work, (a) => a.status < 300);
  };
  const send = (reply: FastifyReply, answer: Answer): FastifyReply =>
    reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);

  void app.register(async (scope) => {
    scope.setErrorHandler((err, request, reply) => {
      const { status, body } = k6ErrorAnswer(err);
      if (status >= 500) request.log.error({ err }, 'k6 output request failed');
      return reply.code(status).type('application/json; charset=utf-8').send(body);
    });
    // The push body is binary; its encoding (snappy) is checked and undone by the route.
    scope.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer', bodyLimit: maxPushBytes }, (_request, body, done) => done(null, body));

    // §3.2: k6 is about to run the test locally.
    scope.post('/v1/tests', async (request, reply) => {
      const caller = await authenticate(store, request.headers.authorization);
      if (request.isMultipart()) {
        throw new ApiError('unsupported_media_type', 'herd takes the test run as JSON (k6 run --out cloud); the multipart form of k6 cloud run --local-execution is not supported',
          { hint: 'run the test with k6 run --out cloud, or upload it with k6 cloud' });
      }
      const input = parseCreate(request.body);
      return send(reply, await once(caller, request, async () => {
        const projectId = await projectOf(store, caller, input.projectId);
        const run = await external.create(caller.orgId, {
          projectId, testName: input.name, vus: input.vus, durationSeconds: input.duration, thresholds: input.thresholds, via: VIA,
        });
        const base = (deps.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
        return {
          status: 200,
          body: { reference_id: run.id, config: { ...OUTPUT_CONFIG, webAppURL: base, testRunDetails: `${base}/#/runs/${run.id}` } },
        };
      }));
    });

    // §3.3: one batch of aggregated metrics.
    scope.post('/v2/metrics/:id', async (request, reply) => {
      const caller = await authenticate(store, request.headers.authorization);
      const runId = runIdOf(request);
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/x-protobuf') {
        throw new ApiError('unsupported_media_type', `metrics are pushed as Content-Type: application/x-protobuf (protocol v2), got ${type === '' ? 'none' : type}`,
          { hint: 'use a k6 version whose cloud output speaks metrics protocol v2 (the default since v0.4x)' });
      }
      const encoding = String(request.headers['content-encoding'] ?? '').trim().toLowerCase();
      if (encoding !== 'snappy') {
        throw new ApiError('unsupported_media_type', `metrics are pushed with Content-Encoding: snappy, got ${encoding === '' ? 'none' : encoding}`);
      }
      const version = request.headers['k6-metrics-protocol-version'];
      if (typeof version === 'string' && version.trim() !== '' && !version.trim().startsWith('2.')) {
        throw new ApiError('invalid_request', `K6-Metrics-Protocol-Version ${version} is not supported; herd speaks 2.0`);
      }
      const body = request.body;
      if (!(body instanceof Uint8Array)) throw new ApiError('invalid_request', 'the body is missing: a snappy-compressed protobuf MetricSet');
      const set = decodeMetricsPush(body, MAX_DECODED_PUSH_BYTES);
      const key = request.headers['k6-idempotency-key'];
      // Without a key, a byte-identical body is the same push sent again (it holds the same periods).
      const pushKey = typeof key === 'string' && key !== '' ? `key:${key}` : `body:${createHash('sha256').update(body).digest('hex')}`;
      const outcome = await external.push(caller.orgId, runId, set, pushKey);
      if (outcome.outcome === 'ended') {
        throw new ApiError('forbidden', `test run ${runId} has ended (${outcome.status.name}); it takes no more metrics`);
      }
      return send(reply, { status: 200, body: {} });
    });

    // §3.5: the test has ended locally.
    scope.post('/v1/tests/:id', async (request, reply) => {
      const caller = await authenticate(store, request.headers.authorization);
      const runId = runIdOf(request);
      const ending = parseFinish(request.body);
      return send(reply, await once(caller, request, async () => {
        await external.finish(caller.orgId, runId, ending);
        return { status: 200, body: {} };
      }));
    });
  });
}

interface CreateInput {
  readonly name: string;
  readonly projectId: string | undefined;
  readonly vus: number;
  readonly duration: number;
  readonly thresholds: Record<string, string[]>;
}

/** k6's TestRun JSON (§3.2). Fields k6-operator adds (`instances`, `process_thresholds`) are ignored. */
function parseCreate(body: unknown): CreateInput {
  const o = objectBody(body, '{"name": …, "vus": …, "duration": …, "thresholds": {…}}');
  const name = o['name'];
  if (typeof name !== 'string' || name.trim() === '') throw badField('name', `"name" must be the test's name, a non-empty string, got ${show(name)}`);
  if (name.trim().length > MAX_NAME) throw badField('name', `"name" must be at most ${MAX_NAME} characters, got ${name.trim().length}`);
  const project = o['project_id'];
  let projectId: string | undefined;
  if (project === undefined || project === null || project === 0 || project === '' || project === '0') projectId = undefined;
  else if ((typeof project === 'number' && Number.isSafeInteger(project) && project > 0) || (typeof project === 'string' && /^[1-9][0-9]*$/.test(project))) projectId = String(project);
  else throw badField('project_id', `"project_id" must be a project id like 1 (or 0 for the organization's first project), got ${show(project)}`);
  const vus = wholeNumber(o['vus'], 'vus', 'the most VUs of the test');
  const duration = wholeNumber(o['duration'], 'duration', 'the test\'s planned duration in seconds');
  const raw = o['thresholds'];
  const thresholds: Record<string, string[]> = {};
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'object' || Array.isArray(raw)) throw badField('thresholds', `"thresholds" must map metric names to lists of threshold strings, got ${show(raw)}`);
    for (const [metric, sources] of Object.entries(raw as Record<string, unknown>)) {
      if (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string')) {
        throw badField(`thresholds.${metric}`, `"thresholds"."${metric}" must be a list of threshold strings like ["p(95)<500"], got ${show(sources)}`);
      }
      thresholds[metric] = sources as string[];
    }
  }
  return { name: name.trim(), projectId, vus, duration, thresholds };
}

/** k6's test-finished JSON (§3.5) as an ending in herd's terms. */
function parseFinish(body: unknown): ExternalEnding {
  const o = objectBody(body, '{"result_status": 0|1, "run_status": 3…9, "thresholds": {…}}');
  const runStatus = o['run_status'];
  if (typeof runStatus !== 'number' || !Number.isInteger(runStatus) || runStatus < 3 || runStatus > 9) {
    throw badField('run_status', `"run_status" must be the k6 run status the test ended with, 3 (finished) to 9 (aborted by limit), got ${show(runStatus)}`);
  }
  const resultStatus = o['result_status'] ?? 0;
  if (resultStatus !== 0 && resultStatus !== 1) throw badField('result_status', `"result_status" must be 0 (passed) or 1 (failed), got ${show(resultStatus)}`);
  const raw = o['thresholds'];
  const thresholds: Record<string, Record<string, boolean>> = {};
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'object' || Array.isArray(raw)) throw badField('thresholds', `"thresholds" must map metric names to {threshold: failed}, got ${show(raw)}`);
    for (const [metric, sources] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof sources !== 'object' || sources === null || Array.isArray(sources) || Object.values(sources).some((v) => typeof v !== 'boolean')) {
        throw badField(`thresholds.${metric}`, `"thresholds"."${metric}" must map each threshold to true (failed) or false (passed), got ${show(sources)}`);
      }
      thresholds[metric] = sources as Record<string, boolean>;
    }
  }
  return { ...endingOf(runStatus, resultStatus === 1, thresholds), thresholds, resultFailed: resultStatus === 1 };
}

/**
 * k6's run_status (§2.1, as a local run sets it per §2.5) → herd's final status and reason.
 * k6 reports a setup()/teardown() timeout as 9 (its "aborted by limit"); herd calls that Timed out,
 * since herd's Aborted by limit means one of herd's own limits.
 */
export function endingOf(runStatus: number, resultFailed: boolean, thresholds: Readonly<Record<string, Readonly<Record<string, boolean>>>>): { status: RunStatus; reason: StatusReason; message: string } {
  const failedList = Object.entries(thresholds).flatMap(([metric, s]) => Object.entries(s).filter(([, failed]) => failed).map(([src]) => `"${src}" on ${metric}`));
  const failedText = failedList.length === 0 ? '' : `: ${failedList.join(', ')}`;
  switch (runStatus) {
    case 3:
      return {
        status: RunStatuses.Finished, reason: 'completed',
        message: resultFailed || failedList.length > 0 ? `k6 reported the test finished; thresholds crossed${failedText}` : 'k6 reported the test finished',
      };
    case 4:
      return { status: RunStatuses.TimedOut, reason: 'external_timeout', message: 'k6 reported that the test timed out' };
    case 5:
      return { status: RunStatuses.AbortedByUser, reason: 'user_abort', message: 'k6 reported that the test was stopped by its user (Ctrl+C, its REST API or test.abort())' };
    case 6:
      return { status: RunStatuses.AbortedBySystem, reason: 'external_system_abort', message: 'k6 reported that the test was aborted outside the script\'s control (e.g. its cloud output gave up)' };
    case 7:
      return { status: RunStatuses.AbortedByScriptError, reason: 'script_error', message: 'k6 reported that the script failed with an exception' };
    case 8:
      return { status: RunStatuses.AbortedByThreshold, reason: 'thresholds_crossed', message: `k6 stopped the test: a threshold with abortOnFail was crossed${failedText}` };
    default:
      return { status: RunStatuses.TimedOut, reason: 'external_timeout', message: 'k6 reported that setup() or teardown() took longer than its timeout' };
  }
}

function runIdOf(request: FastifyRequest): RunId {
  const id = (request.params as { id: string }).id;
  const parsed = runIdSchema.safeParse(id);
  if (!parsed.success) throw new ApiError('not_found', `test run ${id} does not exist or belongs to another organization`);
  return parsed.data;
}

function objectBody(body: unknown, shape: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badField('body', `the body must be a JSON object ${shape}`);
  return body as Record<string, unknown>;
}

function wholeNumber(v: unknown, field: string, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw badField(field, `"${field}" must be ${what}, a whole number of at least 0, got ${show(v)}`);
  return v;
}

function show(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function badField(field: string, message: string): ApiError {
  return new ApiError('invalid_request', message, { fields: [{ path: field, message }] });
}
