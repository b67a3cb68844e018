import { createHash, createHmac, randomFillSync } from 'node:crypto';
import { HerdError } from '../../errors/index.js';
import { toBytes } from '../k6-encoding/index.js';
import type { RuntimeModule, VuState } from '../vu-state.js';
import { algorithmSpec, type HashAlgorithm } from './algorithm.js';
import { feed, Hasher } from './hasher.js';
import { encodeDigest } from './output-encoding.js';

export { HASH_ALGORITHMS, isAlgorithmAvailable, type HashAlgorithm } from './algorithm.js';
export { Hasher } from './hasher.js';
export { OUTPUT_ENCODINGS, encodeDigest, type OutputEncoding } from './output-encoding.js';

/** A one-shot digest function such as `crypto.sha256(input, outputEncoding)`. */
export type DigestFunction = (input: unknown, outputEncoding: unknown) => string | ArrayBuffer;

/** What `import crypto from 'k6/crypto'` gives a script. */
export interface CryptoApi extends Readonly<Record<HashAlgorithm, DigestFunction>> {
  readonly createHash: (algorithm: unknown) => Hasher;
  readonly createHMAC: (algorithm: unknown, secret: unknown) => Hasher;
  readonly hmac: (algorithm: unknown, secret: unknown, data: unknown, outputEncoding: unknown) => string | ArrayBuffer;
  readonly randomBytes: (size: unknown) => ArrayBuffer;
  readonly hexEncode: (data: unknown) => string;
}

function digestWith(algorithm: HashAlgorithm): DigestFunction {
  return (input, outputEncoding) => {
    const { nodeName } = algorithmSpec(algorithm);
    return encodeDigest(feed(createHash(nodeName), input, algorithm).digest(), outputEncoding);
  };
}

/** k6's `hmac(algorithm, secret, data, outputEncoding)`. One-shot, so node's Hmac is fine here. */
function hmac(algorithm: unknown, secret: unknown, data: unknown, outputEncoding: unknown): string | ArrayBuffer {
  const { nodeName } = algorithmSpec(algorithm);
  const mac = feed(createHmac(nodeName, toBytes(secret, 'hmac')), data, 'hmac').digest();
  return encodeDigest(mac, outputEncoding);
}

/** k6's `randomBytes(size)`: `size` cryptographically random bytes; size must be at least 1. */
function randomBytes(size: unknown): ArrayBuffer {
  const n = Math.trunc(Number(size));
  if (!(n >= 1)) throw new HerdError('script_exception', `invalid size: ${String(size)}, it must be a number of bytes of at least 1`);
  const out = new ArrayBuffer(n);
  randomFillSync(new Uint8Array(out));
  return out;
}

/** Creates the `k6/crypto` module. It keeps no state, so every VU shares one frozen API object. */
export function createCryptoModule(): RuntimeModule {
  const api: CryptoApi = Object.freeze({
    md4: digestWith('md4'),
    md5: digestWith('md5'),
    sha1: digestWith('sha1'),
    sha256: digestWith('sha256'),
    sha384: digestWith('sha384'),
    sha512: digestWith('sha512'),
    sha512_224: digestWith('sha512_224'),
    sha512_256: digestWith('sha512_256'),
    ripemd160: digestWith('ripemd160'),
    createHash: (algorithm: unknown) => new Hasher(algorithm, null),
    createHMAC: (algorithm: unknown, secret: unknown) => new Hasher(algorithm, toBytes(secret, 'createHMAC')),
    hmac,
    randomBytes,
    hexEncode: (data: unknown) => toBytes(data, 'hexEncode').toString('hex'),
  });
  return {
    specifier: 'k6/crypto',
    instantiate(_vu: VuState): Record<string, unknown> {
      return { default: api, ...api };
    },
  };
}
