import { createHash, randomBytes } from 'node:crypto';

/**
 * The hash an API token is stored and looked up by. SHA-256 without salt is enough here (unlike
 * for passwords) because secrets are 256 random bits: there is nothing to guess, and an unsalted
 * digest lets every request find its token with one indexed lookup.
 */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new token secret: `herd_` and 32 random bytes, shown to the user once and never stored. */
export function newTokenSecret(): string {
  return `herd_${randomBytes(32).toString('base64url')}`;
}
