import { archiveInfoSchema, createLoadTestBodySchema, loadTestListQuerySchema, loadTestSchema, runSchema } from '../../../protocol/index.js';
import { loadTestListSchema, noFieldsSchema, testParamsSchema } from '../api-schemas.js';
import { ApiError, notFound } from '../errors.js';
import { type ApiRoute, defineRoute, type RouteDeps } from '../route.js';
import { runView } from '../views.js';

/** Routes of tests (k6's "load tests"): named scripts in a project, each with its latest archive. */
export function testRoutes({ store, runs }: RouteDeps): ApiRoute[] {
  return [
    defineRoute({
      id: 'listTests', method: 'GET', url: '/api/v1/tests', tag: 'tests', access: 'member',
      summary: "The organization's tests, optionally of one project",
      query: loadTestListQuerySchema,
      response: { status: 200, description: 'Tests', schema: loadTestListSchema, schemaName: 'LoadTestList' },
      handler: async ({ caller, query }) => ({
        tests: await store.listTests(caller.orgId, query.projectId === undefined ? {} : { projectId: query.projectId }),
      }),
    }),
    defineRoute({
      id: 'createTest', method: 'POST', url: '/api/v1/tests', tag: 'tests', access: 'member',
      summary: 'Creates a test in a project; names are unique within a project',
      body: createLoadTestBodySchema,
      response: { status: 201, description: 'The test (no archive yet)', schema: loadTestSchema, schemaName: 'LoadTest' },
      errors: [404, 409],
      handler: async ({ caller, body, reply }) => {
        if ((await store.getProject(caller.orgId, body.projectId)) === undefined) throw notFound(`project ${body.projectId}`);
        if ((await store.findTestByName(caller.orgId, body.projectId, body.name)) !== undefined) {
          throw new ApiError('conflict', `project ${body.projectId} already has a test named ${JSON.stringify(body.name)}`, {
            hint: 'upload a new archive to that test instead: POST /api/v1/tests/{id}/archives',
          });
        }
        const test = await store.createTest(caller.orgId, body);
        reply.header('location', `/api/v1/tests/${test.id}`);
        return test;
      },
    }),
    defineRoute({
      id: 'getTest', method: 'GET', url: '/api/v1/tests/:id', tag: 'tests', access: 'member',
      summary: 'One test with its latest archive',
      params: testParamsSchema,
      response: { status: 200, description: 'The test', schema: loadTestSchema, schemaName: 'LoadTest' },
      errors: [404],
      handler: async ({ caller, params }) => {
        const test = await store.getTest(caller.orgId, params.id);
        if (test === undefined) throw notFound(`test ${params.id}`);
        return test;
      },
    }),
    defineRoute({
      id: 'uploadTestArchive', method: 'POST', url: '/api/v1/tests/:id/archives', tag: 'tests', access: 'member',
      summary: "Uploads a new archive (multipart file part `archive`); it becomes the test's latest",
      params: testParamsSchema,
      upload: noFieldsSchema,
      response: { status: 201, description: 'The stored archive (size and digest)', schema: archiveInfoSchema, schemaName: 'ArchiveInfo' },
      errors: [404, 413, 415],
      handler: async ({ caller, params, upload }) => store.putArchive(caller.orgId, params.id, upload.archive),
    }),
    defineRoute({
      id: 'startTestRun', method: 'POST', url: '/api/v1/tests/:id/runs', tag: 'tests', access: 'member',
      summary: "Starts a run of the test's latest archive",
      params: testParamsSchema,
      response: { status: 201, description: 'The run as it stands after validation', schema: runSchema, schemaName: 'Run' },
      errors: [404, 409],
      handler: async ({ caller, params, reply }) => {
        const test = await store.getTest(caller.orgId, params.id);
        if (test === undefined) throw notFound(`test ${params.id}`);
        const archive = test.latestArchive === null ? undefined : await store.getArchive(caller.orgId, test.latestArchive.id);
        if (archive === undefined) {
          throw new ApiError('conflict', `test ${test.id} has no archive to run yet`, {
            hint: `upload one first: POST /api/v1/tests/${test.id}/archives`,
          });
        }
        const run = runView(await runs.submit(caller.orgId, { projectId: test.projectId, testId: test.id, archive: archive.bytes }));
        reply.header('location', `/api/v1/runs/${run.id}`);
        return run;
      },
    }),
  ];
}
