import { usageQuerySchema, usageSchema } from '../../../protocol/index.js';
import { usageMonth } from '../../runs/index.js';
import { notFound } from '../errors.js';
import { type ApiRoute, defineRoute, type RouteDeps } from '../route.js';

/** Routes of usage: VU-hours per organization and project per month. */
export function usageRoutes({ store, now }: RouteDeps): ApiRoute[] {
  return [
    defineRoute({
      id: 'getUsage', method: 'GET', url: '/api/v1/usage', tag: 'usage', access: 'member',
      summary: "The organization's VU-hours in a month (default: the current UTC month), in total and per project",
      query: usageQuerySchema,
      response: { status: 200, description: 'Usage', schema: usageSchema, schemaName: 'Usage' },
      errors: [404],
      handler: async ({ caller, query }) => {
        // Another organization's project is a 404, not an empty total that would confirm it exists.
        if (query.projectId !== undefined && (await store.getProject(caller.orgId, query.projectId)) === undefined) {
          throw notFound(`project ${query.projectId}`);
        }
        const month = query.month ?? usageMonth(now().toISOString());
        return store.getUsage(caller.orgId, month, query.projectId === undefined ? {} : { projectId: query.projectId });
      },
    }),
  ];
}
