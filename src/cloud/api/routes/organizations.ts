import { createOrganizationBodySchema, organizationSchema } from '../../../protocol/index.js';
import { hashToken, newTokenSecret } from '../../store/index.js';
import { createdOrganizationSchema, organizationListSchema, orgParamsSchema } from '../api-schemas.js';
import { notFound } from '../errors.js';
import { type ApiRoute, defineRoute, type RouteDeps } from '../route.js';

/** Routes of organizations: a caller sees only its own; admin tokens create new ones. */
export function organizationRoutes({ store }: RouteDeps): ApiRoute[] {
  return [
    defineRoute({
      id: 'listOrganizations', method: 'GET', url: '/api/v1/organizations', tag: 'organizations', access: 'member',
      summary: "The caller's organization (a token belongs to exactly one)",
      response: { status: 200, description: 'A list holding the caller\'s organization', schema: organizationListSchema, schemaName: 'OrganizationList' },
      handler: async ({ caller }) => {
        const org = await store.getOrganization(caller.orgId);
        return { organizations: org === undefined ? [] : [org] };
      },
    }),
    defineRoute({
      id: 'getOrganization', method: 'GET', url: '/api/v1/organizations/:id', tag: 'organizations', access: 'member',
      summary: "The caller's organization with its limits; 404 for any other",
      params: orgParamsSchema,
      response: { status: 200, description: 'The organization', schema: organizationSchema, schemaName: 'Organization' },
      errors: [404],
      handler: async ({ caller, params }) => {
        // Compared before reading, so another organization's id is a 404 like a missing one.
        const org = params.id === caller.orgId ? await store.getOrganization(params.id) : undefined;
        if (org === undefined) throw notFound(`organization ${params.id}`);
        return org;
      },
    }),
    defineRoute({
      id: 'createOrganization', method: 'POST', url: '/api/v1/organizations', tag: 'organizations', access: 'admin',
      summary: 'Creates an organization and its first admin token (the secret is shown only in this answer)',
      body: createOrganizationBodySchema,
      response: { status: 201, description: 'The organization and its admin token', schema: createdOrganizationSchema, schemaName: 'CreatedOrganization' },
      errors: [403],
      handler: async ({ body, reply }) => {
        const organization = await store.createOrganization({ name: body.name, ...(body.limits === undefined ? {} : { limits: body.limits }) });
        // A new organization is unreachable without a token of its own: the caller's token
        // belongs to another organization and never sees into this one.
        const secret = newTokenSecret();
        const token = await store.createToken({ orgId: organization.id, name: `${body.name} admin`.slice(0, 200), role: 'admin', hash: hashToken(secret) });
        reply.header('location', `/api/v1/organizations/${organization.id}`);
        return { organization, adminToken: { token, secret } };
      },
    }),
  ];
}
