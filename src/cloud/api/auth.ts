import { hashToken, type Store } from '../store/index.js';
import type { OrgId, TokenId, TokenRole } from '../../protocol/index.js';
import { ApiError } from './errors.js';

/** Who is calling: the organization and role of the token the request carried. */
export interface Caller {
  readonly orgId: OrgId;
  readonly tokenId: TokenId;
  readonly role: TokenRole;
}

const MISSING_HINT = 'send the header "Authorization: Bearer <token>" (k6\'s "Token <token>" form works too)';

/**
 * The secret in an Authorization header: `Bearer <secret>` (ours) or `Token <secret>` (what k6
 * sends to its cloud), scheme case-insensitive. Undefined when there is none.
 */
export function tokenFromHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(bearer|token)\s+(\S+)\s*$/i.exec(header);
  return m?.[2];
}

/**
 * Authenticates a request by its token: hashed, looked up, and only a live (not revoked) token
 * counts. Missing, malformed, unknown and revoked tokens all get the same 401, so the answer
 * tells an attacker nothing about which tokens exist.
 */
export async function authenticate(store: Store, header: string | undefined): Promise<Caller> {
  const secret = tokenFromHeader(header);
  if (secret === undefined) {
    throw new ApiError('unauthorized', header === undefined ? 'this request needs an API token' : 'the Authorization header is not "Bearer <token>"', { hint: MISSING_HINT });
  }
  const token = await store.findTokenByHash(hashToken(secret));
  if (token === undefined) {
    throw new ApiError('unauthorized', 'the API token is not valid (unknown or revoked)', { hint: 'create a token with an admin token: POST /api/v1/tokens' });
  }
  return { orgId: token.orgId, tokenId: token.id, role: token.role };
}

/** Throws 403 unless the caller's token is an admin token. */
export function requireAdmin(caller: Caller, action: string): void {
  if (caller.role !== 'admin') {
    throw new ApiError('forbidden', `${action} needs an admin token; this token's role is ${caller.role}`);
  }
}
