import { runHistorySchema, runListQuerySchema, runListSchema, runSchema } from '../../../protocol/index.js';
import {
  estimateSchema, metricSeriesQuerySchema, metricSeriesSchema, noFieldsSchema, runMetricParamsSchema, runParamsSchema, runSummarySchema,
  runThresholdsSchema, runWarningsSchema, submitRunFieldsSchema,
} from '../api-schemas.js';
import { ApiError, notFound } from '../errors.js';
import { type ApiRoute, defineRoute, type RouteDeps } from '../route.js';
import { runView } from '../views.js';

/** Routes of test runs: submit, list, inspect, abort, and read their metrics and results. */
export function runRoutes({ store, runs }: RouteDeps): ApiRoute[] {
  return [
    defineRoute({
      id: 'submitRun', method: 'POST', url: '/api/v1/runs', tag: 'runs', access: 'member',
      summary: 'Submits a run: multipart fields projectId and testId or testName, file part `archive`',
      upload: submitRunFieldsSchema,
      response: { status: 201, description: 'The run as it stands after validation (Queued, or Aborted with the reason)', schema: runSchema, schemaName: 'Run' },
      errors: [404, 413, 415],
      handler: async ({ caller, upload, reply }) => {
        const { projectId, testId, testName } = upload.fields;
        // Checked here too (not only in the service) so that a foreign id is a plain 404
        // before any archive is stored.
        if ((await store.getProject(caller.orgId, projectId)) === undefined) throw notFound(`project ${projectId}`);
        if (testId !== undefined) {
          const test = await store.getTest(caller.orgId, testId);
          if (test === undefined) throw notFound(`test ${testId}`);
          if (test.projectId !== projectId) {
            const message = `body.testId must be a test of project ${projectId}, got test ${testId} of project ${test.projectId}`;
            throw new ApiError('invalid_request', message, { fields: [{ path: 'body.testId', message }] });
          }
        }
        const run = runView(await runs.submit(caller.orgId, {
          projectId,
          ...(testId === undefined ? {} : { testId }),
          ...(testName === undefined ? {} : { testName }),
          archive: upload.archive,
        }));
        reply.header('location', `/api/v1/runs/${run.id}`);
        return run;
      },
    }),
    defineRoute({
      id: 'listRuns', method: 'GET', url: '/api/v1/runs', tag: 'runs', access: 'member',
      summary: 'Runs of the organization, newest first; `before` is the cursor of the next page',
      query: runListQuerySchema,
      response: { status: 200, description: 'A page of runs', schema: runListSchema, schemaName: 'RunList' },
      handler: async ({ caller, query }) => {
        const page = await store.listRuns(caller.orgId, query);
        return { runs: page.runs.map(runView), nextBefore: page.nextBefore };
      },
    }),
    defineRoute({
      id: 'getRun', method: 'GET', url: '/api/v1/runs/:id', tag: 'runs', access: 'member',
      summary: 'One run: status as {code, name}, result, the last change and its reason',
      params: runParamsSchema,
      response: { status: 200, description: 'The run', schema: runSchema, schemaName: 'Run' },
      errors: [404],
      handler: async ({ caller, params }) => {
        const run = await store.getRun(caller.orgId, params.id);
        if (run === undefined) throw notFound(`run ${params.id}`);
        return runView(run);
      },
    }),
    defineRoute({
      id: 'getRunHistory', method: 'GET', url: '/api/v1/runs/:id/history', tag: 'runs', access: 'member',
      summary: "The run's status changes, oldest first, each with time, reason and message",
      params: runParamsSchema,
      response: { status: 200, description: 'The history', schema: runHistorySchema, schemaName: 'RunHistory' },
      errors: [404],
      handler: async ({ caller, params }) => {
        const changes = await store.getStatusHistory(caller.orgId, params.id);
        if (changes === undefined) throw notFound(`run ${params.id}`);
        return { runId: params.id, changes };
      },
    }),
    defineRoute({
      id: 'abortRun', method: 'POST', url: '/api/v1/runs/:id/abort', tag: 'runs', access: 'member',
      summary: 'Aborts a run (it ends Aborted by user); 409 if it has already ended',
      params: runParamsSchema,
      response: { status: 200, description: 'The run after the abort', schema: runSchema, schemaName: 'Run' },
      errors: [404, 409],
      handler: async ({ caller, params }) => {
        const run = await runs.abort(caller.orgId, params.id);
        if (run === undefined) throw notFound(`run ${params.id}`);
        return runView(run);
      },
    }),
    defineRoute({
      id: 'getRunMetric', method: 'GET', url: '/api/v1/runs/:id/metrics/:metric', tag: 'runs', access: 'member',
      summary: 'A metric (or sub-metric, e.g. `http_req_duration{status:200}`, URL-encoded) at 1 s resolution; from/to in epoch ms',
      params: runMetricParamsSchema,
      query: metricSeriesQuerySchema,
      response: { status: 200, description: 'The series', schema: metricSeriesSchema, schemaName: 'MetricSeries' },
      errors: [404],
      handler: async ({ caller, params, query }) => {
        const points = await runs.metricSeries(caller.orgId, params.id, params.metric, query.from, query.to);
        if (points === undefined) throw notFound(`run ${params.id}`);
        return { runId: params.id, metric: params.metric, points: points.map((p) => ({ t: p.t, values: { ...p.values } })) };
      },
    }),
    defineRoute({
      id: 'getRunSummary', method: 'GET', url: '/api/v1/runs/:id/summary', tag: 'runs', access: 'member',
      summary: "k6's summary data of the run (handleSummary's `metrics`, `root_group`), so far or final",
      params: runParamsSchema,
      response: { status: 200, description: 'The summary', schema: runSummarySchema, schemaName: 'RunSummary' },
      errors: [404],
      handler: async ({ caller, params }) => {
        const summary = await runs.summary(caller.orgId, params.id);
        if (summary === undefined) throw notFound(`run ${params.id}`);
        return { runId: params.id, summary };
      },
    }),
    defineRoute({
      id: 'getRunThresholds', method: 'GET', url: '/api/v1/runs/:id/thresholds', tag: 'runs', access: 'member',
      summary: "The run's thresholds: expression, pass/fail, abortOnFail, when last evaluated",
      params: runParamsSchema,
      response: { status: 200, description: 'Threshold outcomes', schema: runThresholdsSchema, schemaName: 'RunThresholds' },
      errors: [404],
      handler: async ({ caller, params }) => {
        const thresholds = await store.listThresholdResults(caller.orgId, params.id);
        if (thresholds === undefined) throw notFound(`run ${params.id}`);
        return { runId: params.id, thresholds };
      },
    }),
    defineRoute({
      id: 'getRunWarnings', method: 'GET', url: '/api/v1/runs/:id/warnings', tag: 'runs', access: 'member',
      summary: 'Warnings raised on the run (e.g. a load generator over 90% CPU), oldest first, with the advice',
      params: runParamsSchema,
      response: { status: 200, description: 'Warnings', schema: runWarningsSchema, schemaName: 'RunWarnings' },
      errors: [404],
      handler: async ({ caller, params }) => {
        const warnings = await store.listRunWarnings(caller.orgId, params.id);
        if (warnings === undefined) throw notFound(`run ${params.id}`);
        return { runId: params.id, warnings: warnings.map((w) => ({ code: w.code, message: w.message, at: w.at })) };
      },
    }),
    defineRoute({
      id: 'estimateRun', method: 'POST', url: '/api/v1/estimate', tag: 'runs', access: 'member',
      summary: "Estimates an archive's VUs, duration and VU-hours from its executor plan, without running it",
      upload: noFieldsSchema,
      response: { status: 200, description: 'The estimate', schema: estimateSchema, schemaName: 'Estimate' },
      errors: [413, 415],
      handler: async ({ caller, upload }) => {
        const e = await runs.estimate(caller.orgId, upload.archive);
        return { vus: e.vus, durationSeconds: e.durationSeconds, vuHours: e.vuHours };
      },
    }),
  ];
}
