import { createHash, type Hash, type Hmac } from 'node:crypto';
import { toBytes } from '../k6-encoding/index.js';
import { algorithmSpec, type AlgorithmSpec } from './algorithm.js';
import { encodeDigest } from './output-encoding.js';

/**
 * Adds a script's `input` to `h`: a string as itself, which node:crypto hashes as UTF-8 (the
 * bytes toBytes would make), anything else as bytes. Encoding a string into a new Buffer
 * first left one throw-away Buffer of the string's size per call: for a script hashing a
 * 64 KiB payload per iteration, V8's collector threads then used a fifth of a core more and
 * the iterations ran at 60 % of the speed.
 */
export function feed<T extends Hash | Hmac>(h: T, input: unknown, what: string): T {
  if (typeof input === 'string') h.update(input, 'utf8');
  else h.update(toBytes(input, what));
  return h;
}

/**
 * What `crypto.createHash(alg)` and `crypto.createHMAC(alg, secret)` return: feed it with
 * `update(data)`, read it with `digest(encoding)`. As in k6 (Go's hash.Hash.Sum), digest does
 * not end the hash: a script may digest, update more and digest again.
 */
export class Hasher {
  readonly #inner: Hash;
  readonly #spec: AlgorithmSpec;
  /** The HMAC outer key block (K xor opad), or null for a plain hash. */
  readonly #outerPad: Buffer | null;

  /** A plain hash when `secret` is null, else an HMAC keyed with `secret`. */
  constructor(algorithm: unknown, secret: Buffer | null) {
    this.#spec = algorithmSpec(algorithm);
    this.#inner = createHash(this.#spec.nodeName);
    if (secret === null) {
      this.#outerPad = null;
      return;
    }
    // HMAC by hand (RFC 2104) because node's Hmac, unlike Hash, cannot be copied, and a
    // copy is what lets digest() leave the state usable.
    const { blockSize, nodeName } = this.#spec;
    let key = secret;
    if (key.length > blockSize) key = createHash(nodeName).update(key).digest();
    const inner = Buffer.alloc(blockSize, 0x36);
    const outer = Buffer.alloc(blockSize, 0x5c);
    for (let i = 0; i < key.length; i++) {
      const b = key[i] as number;
      inner[i] = (inner[i] as number) ^ b;
      outer[i] = (outer[i] as number) ^ b;
    }
    this.#inner.update(inner);
    this.#outerPad = outer;
  }

  /** Adds `input` (a string as UTF-8, or an ArrayBuffer) to the hash. */
  update(input: unknown): void {
    feed(this.#inner, input, 'update');
  }

  /** The digest of everything added so far, in `encoding`. */
  digest(encoding: unknown): string | ArrayBuffer {
    const innerSum = this.#inner.copy().digest();
    if (this.#outerPad === null) return encodeDigest(innerSum, encoding);
    const sum = createHash(this.#spec.nodeName).update(this.#outerPad).update(innerSum).digest();
    return encodeDigest(sum, encoding);
  }
}
