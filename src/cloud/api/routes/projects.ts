import { createProjectBodySchema, projectSchema } from '../../../protocol/index.js';
import { projectListSchema, projectParamsSchema } from '../api-schemas.js';
import { notFound } from '../errors.js';
import { type ApiRoute, defineRoute, type RouteDeps } from '../route.js';

/** Routes of projects: folders of tests within the caller's organization. */
export function projectRoutes({ store }: RouteDeps): ApiRoute[] {
  return [
    defineRoute({
      id: 'listProjects', method: 'GET', url: '/api/v1/projects', tag: 'projects', access: 'member',
      summary: "The organization's projects, oldest first",
      response: { status: 200, description: 'Projects', schema: projectListSchema, schemaName: 'ProjectList' },
      handler: async ({ caller }) => ({ projects: await store.listProjects(caller.orgId) }),
    }),
    defineRoute({
      id: 'createProject', method: 'POST', url: '/api/v1/projects', tag: 'projects', access: 'member',
      summary: 'Creates a project in the organization',
      body: createProjectBodySchema,
      response: { status: 201, description: 'The project', schema: projectSchema, schemaName: 'Project' },
      handler: async ({ caller, body, reply }) => {
        const project = await store.createProject(caller.orgId, { name: body.name });
        reply.header('location', `/api/v1/projects/${project.id}`);
        return project;
      },
    }),
    defineRoute({
      id: 'getProject', method: 'GET', url: '/api/v1/projects/:id', tag: 'projects', access: 'member',
      summary: 'One project of the organization',
      params: projectParamsSchema,
      response: { status: 200, description: 'The project', schema: projectSchema, schemaName: 'Project' },
      errors: [404],
      handler: async ({ caller, params }) => {
        const project = await store.getProject(caller.orgId, params.id);
        if (project === undefined) throw notFound(`project ${params.id}`);
        return project;
      },
    }),
  ];
}
