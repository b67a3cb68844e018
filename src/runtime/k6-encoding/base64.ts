import { HerdError } from '../../errors/index.js';
import { toArrayBuffer, toBytes } from './bytes.js';

/**
 * k6's base64 variants (RFC 4648): `std` (+/ with = padding), `rawstd` (no padding),
 * `url` (-_ with padding) and `rawurl` (no padding).
 */
export type Base64Variant = 'std' | 'rawstd' | 'url' | 'rawurl';

/** The variant named `name`; like k6, anything unknown (or omitted) means `std`. */
export function base64Variant(name: unknown): Base64Variant {
  return name === 'rawstd' || name === 'url' || name === 'rawurl' ? name : 'std';
}

/** Encodes bytes in the given variant. */
export function encodeBase64(bytes: Buffer, variant: Base64Variant): string {
  switch (variant) {
    case 'std':
      return bytes.toString('base64');
    case 'rawstd':
      return stripPadding(bytes.toString('base64'));
    case 'url': {
      // Node's base64url never pads; k6's `url` (Go's URLEncoding) does.
      const s = bytes.toString('base64url');
      return s + '='.repeat((4 - (s.length % 4)) % 4);
    }
    case 'rawurl':
      return bytes.toString('base64url');
  }
}

/**
 * Decodes `input` in the given variant, as strictly as k6 (Go's encoding/base64): the
 * alphabet must match the variant, padded variants need exact padding, raw ones refuse it;
 * CR and LF are skipped. Node's own decoder silently drops bad characters, which would turn
 * a corrupt token into wrong bytes instead of an error.
 */
export function decodeBase64(input: string, variant: Base64Variant): Buffer {
  const bad = illegalByteAt(input, variant);
  if (bad !== -1) throw new HerdError('script_exception', `illegal base64 data at input byte ${bad}`);
  return Buffer.from(input, variant === 'std' || variant === 'rawstd' ? 'base64' : 'base64url');
}

/** k6's `b64encode(input, [encoding])`: input is a string (UTF-8) or an ArrayBuffer. */
export function b64encode(input: unknown, encoding?: unknown): string {
  return encodeBase64(toBytes(input, 'b64encode'), base64Variant(encoding));
}

/** k6's `b64decode(input, [encoding], [format])`: an ArrayBuffer, or a string when format is "s". */
export function b64decode(input: unknown, encoding?: unknown, format?: unknown): ArrayBuffer | string {
  const bytes = decodeBase64(typeof input === 'string' ? input : String(input), base64Variant(encoding));
  return format === 's' ? bytes.toString('utf8') : toArrayBuffer(bytes);
}

function stripPadding(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 61) end--;
  return s.slice(0, end);
}

const LF = 10;
const CR = 13;
const PAD = 61;

function inAlphabet(c: number, url: boolean): boolean {
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57)) return true;
  return url ? c === 45 || c === 95 : c === 43 || c === 47;
}

/** The offset of the first byte that makes `input` invalid in `variant`, or -1 when valid. */
function illegalByteAt(input: string, variant: Base64Variant): number {
  const url = variant === 'url' || variant === 'rawurl';
  const padded = variant === 'std' || variant === 'url';
  let chars = 0;
  let pads = 0;
  let padsNeeded = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === LF || c === CR) continue;
    if (c === PAD) {
      if (!padded) return i;
      if (pads === 0) {
        // Padding may only complete a quantum that already holds 2 or 3 characters.
        const inQuantum = chars % 4;
        if (inQuantum < 2) return i;
        padsNeeded = 4 - inQuantum;
      } else if (pads >= padsNeeded) {
        return i;
      }
      pads++;
      continue;
    }
    if (pads > 0 || !inAlphabet(c, url)) return i;
    chars++;
  }
  const inQuantum = chars % 4;
  if (padded) {
    if (pads === 0 ? inQuantum !== 0 : pads !== padsNeeded) return input.length;
  } else if (inQuantum === 1) {
    return input.length;
  }
  return -1;
}
