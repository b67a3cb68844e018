import { createdTokenSchema, createTokenBodySchema } from '../../../protocol/index.js';
import { hashToken, newTokenSecret } from '../../store/index.js';
import { tokenListSchema, tokenParamsSchema } from '../api-schemas.js';
import { notFound } from '../errors.js';
import { type ApiRoute, defineRoute, type RouteDeps } from '../route.js';

/** Routes of API tokens: admin tokens list, create and revoke the organization's tokens. */
export function tokenRoutes({ store, now }: RouteDeps): ApiRoute[] {
  return [
    defineRoute({
      id: 'listTokens', method: 'GET', url: '/api/v1/tokens', tag: 'tokens', access: 'admin',
      summary: "The organization's tokens, revoked ones included; never their secrets",
      response: { status: 200, description: 'Tokens', schema: tokenListSchema, schemaName: 'TokenList' },
      errors: [403],
      handler: async ({ caller }) => ({ tokens: await store.listTokens(caller.orgId) }),
    }),
    defineRoute({
      id: 'createToken', method: 'POST', url: '/api/v1/tokens', tag: 'tokens', access: 'admin',
      summary: 'Creates a token; its secret is in this answer only (the server keeps a hash)',
      body: createTokenBodySchema,
      response: { status: 201, description: 'The token and its secret', schema: createdTokenSchema, schemaName: 'CreatedToken' },
      errors: [403],
      handler: async ({ caller, body }) => {
        const secret = newTokenSecret();
        const token = await store.createToken({ orgId: caller.orgId, name: body.name, role: body.role, hash: hashToken(secret) });
        return { token, secret };
      },
    }),
    defineRoute({
      id: 'revokeToken', method: 'DELETE', url: '/api/v1/tokens/:id', tag: 'tokens', access: 'admin',
      summary: 'Revokes a token: requests carrying it get 401 from now on',
      params: tokenParamsSchema,
      response: { status: 204, description: 'Revoked' },
      errors: [403, 404],
      handler: async ({ caller, params }) => {
        // Revoking twice is a 404, as the store cannot tell "revoked" from "never existed"
        // across organizations without leaking which ids exist.
        if (!(await store.revokeToken(caller.orgId, params.id, now().toISOString()))) throw notFound(`live token ${params.id}`);
        return undefined;
      },
    }),
  ];
}
