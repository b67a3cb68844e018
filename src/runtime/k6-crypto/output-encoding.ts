import { HerdError } from '../../errors/index.js';
import { encodeBase64, toArrayBuffer } from '../k6-encoding/index.js';

/** How k6/crypto returns a digest: text in one of four encodings, or an ArrayBuffer for `binary`. */
export type OutputEncoding = 'hex' | 'base64' | 'base64url' | 'base64rawurl' | 'binary';

/** Every output encoding k6 accepts. */
export const OUTPUT_ENCODINGS: readonly OutputEncoding[] = ['hex', 'base64', 'base64url', 'base64rawurl', 'binary'];

/** Encodes a digest as k6 does; `base64url` keeps the padding (Go's URLEncoding), `base64rawurl` drops it. */
export function encodeDigest(sum: Buffer, encoding: unknown): string | ArrayBuffer {
  switch (encoding) {
    case 'hex':
      return sum.toString('hex');
    case 'base64':
      return encodeBase64(sum, 'std');
    case 'base64url':
      return encodeBase64(sum, 'url');
    case 'base64rawurl':
      return encodeBase64(sum, 'rawurl');
    case 'binary':
      return toArrayBuffer(sum);
    default:
      throw new HerdError(
        'script_exception',
        `invalid output encoding: ${String(encoding)}, it must be one of ${OUTPUT_ENCODINGS.join(', ')}`,
      );
  }
}
