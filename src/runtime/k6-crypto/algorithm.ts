import { createHash } from 'node:crypto';
import { HerdError } from '../../errors/index.js';

/** The hash algorithms k6/crypto names. */
export type HashAlgorithm =
  | 'md4'
  | 'md5'
  | 'sha1'
  | 'sha256'
  | 'sha384'
  | 'sha512'
  | 'sha512_224'
  | 'sha512_256'
  | 'ripemd160';

/** How herd computes one k6 algorithm with node:crypto. */
export interface AlgorithmSpec {
  /** The OpenSSL name node:crypto knows it by. */
  readonly nodeName: string;
  /** Block size in bytes, needed to build HMAC by hand (RFC 2104). */
  readonly blockSize: number;
}

const SPECS: Readonly<Record<HashAlgorithm, AlgorithmSpec>> = {
  md4: { nodeName: 'md4', blockSize: 64 },
  md5: { nodeName: 'md5', blockSize: 64 },
  sha1: { nodeName: 'sha1', blockSize: 64 },
  sha256: { nodeName: 'sha256', blockSize: 64 },
  sha384: { nodeName: 'sha384', blockSize: 128 },
  sha512: { nodeName: 'sha512', blockSize: 128 },
  sha512_224: { nodeName: 'sha512-224', blockSize: 128 },
  sha512_256: { nodeName: 'sha512-256', blockSize: 128 },
  ripemd160: { nodeName: 'ripemd160', blockSize: 64 },
};

/** Every algorithm name k6 accepts, in k6's documented order. */
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = Object.keys(SPECS) as HashAlgorithm[];

// OpenSSL 3 moved md4 (and, before 3.0.7, ripemd160) to the legacy provider, which Node does
// not load: probe once instead of trusting a list that depends on how Node was built.
const available = new Set<HashAlgorithm>(
  HASH_ALGORITHMS.filter((alg) => {
    try {
      createHash(SPECS[alg].nodeName).update('').digest();
      return true;
    } catch {
      return false;
    }
  }),
);

/** Whether this Node build can compute `alg`. */
export function isAlgorithmAvailable(alg: HashAlgorithm): boolean {
  return available.has(alg);
}

/**
 * The spec of algorithm `name`, or a HerdError naming the value and the allowed ones.
 * A k6 algorithm this Node build lacks (md4) gets its own error, so the script author
 * learns it is herd's gap and not a typo.
 */
export function algorithmSpec(name: unknown): AlgorithmSpec {
  if (typeof name === 'string' && Object.hasOwn(SPECS, name)) {
    const alg = name as HashAlgorithm;
    if (available.has(alg)) return SPECS[alg];
    throw new HerdError('script_unsupported', `the hash algorithm ${alg} is not supported by herd: this Node.js build's OpenSSL does not provide it`, {
      hint: `use one of ${[...available].join(', ')}`,
    });
  }
  throw new HerdError('script_exception', `invalid algorithm: ${String(name)}, it must be one of ${[...available].join(', ')}`);
}
