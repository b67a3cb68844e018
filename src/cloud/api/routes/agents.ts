import { agentListQuerySchema, agentListSchema, loadZoneListSchema } from '../api-schemas.js';
import { type ApiRoute, defineRoute, type RouteDeps } from '../route.js';
import { agentView, loadZonesOf } from '../views.js';

/**
 * Routes of load generators and load zones. These are the platform's shared machines, not an
 * organization's data, so every organization sees the same list (as k6 Cloud's public zones).
 */
export function agentRoutes({ store, now, isAgentHealthy }: RouteDeps): ApiRoute[] {
  const agents = async (zone?: string) => {
    const at = now();
    return (await store.listAgents(zone === undefined ? {} : { zone })).map((a) => agentView(a, isAgentHealthy(a, at)));
  };
  return [
    defineRoute({
      id: 'listAgents', method: 'GET', url: '/api/v1/agents', tag: 'agents', access: 'member',
      summary: 'Load generators with their zone, capacity, health and last CPU/memory readings',
      query: agentListQuerySchema,
      response: { status: 200, description: 'Agents', schema: agentListSchema, schemaName: 'AgentList' },
      handler: async ({ query }) => ({ agents: await agents(query.zone) }),
    }),
    defineRoute({
      id: 'listLoadZones', method: 'GET', url: '/api/v1/load-zones', tag: 'agents', access: 'member',
      summary: 'Load zones with their agent counts and healthy capacity in VUs',
      response: { status: 200, description: 'Load zones', schema: loadZoneListSchema, schemaName: 'LoadZoneList' },
      handler: async () => ({ loadZones: loadZonesOf(await agents()) }),
    }),
  ];
}
