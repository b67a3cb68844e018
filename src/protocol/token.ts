import { z } from 'zod';
import { isoTimeSchema, orgIdSchema, tokenIdSchema } from './ids.js';

/** What a token may do: `admin` manages organizations and tokens, `member` runs tests. */
export const tokenRoleSchema = z.enum(['admin', 'member']);
/** What a token may do. */
export type TokenRole = z.infer<typeof tokenRoleSchema>;

/** An API token as listed: never its secret (only a hash of it is stored). */
export const apiTokenSchema = z.strictObject({
  id: tokenIdSchema,
  orgId: orgIdSchema,
  name: z.string().min(1).max(200),
  role: tokenRoleSchema,
  createdAt: isoTimeSchema,
  revokedAt: isoTimeSchema.nullable(),
});
/** An API token as listed. */
export type ApiToken = z.infer<typeof apiTokenSchema>;

/** Body of a request creating a token. */
export const createTokenBodySchema = z.strictObject({
  name: z.string().min(1).max(200),
  role: tokenRoleSchema.default('member'),
});
/** Body of a request creating a token. */
export type CreateTokenBody = z.infer<typeof createTokenBodySchema>;

/** Answer to creating a token: the only time its secret is shown. */
export const createdTokenSchema = z.strictObject({ token: apiTokenSchema, secret: z.string().min(20) });
/** Answer to creating a token. */
export type CreatedToken = z.infer<typeof createdTokenSchema>;
