// The fields of a ustar header, read and written the same way by herd's own archives
// (archive-tar.ts) and by k6's (cloud/k6compat/k6-tar.ts): strict reads that name what is wrong.
import { invalid } from './archive-errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A NUL-terminated header field; bytes after the terminator must be NUL too, so no name hides a tail. */
export function field(h: Uint8Array, off: number, len: number, what: string): string {
  const raw = h.subarray(off, off + len);
  const end = raw.indexOf(0);
  if (end !== -1 && raw.subarray(end).some((b) => b !== 0)) {
    throw invalid(`a tar header's ${what} field contains a NUL byte followed by more text`);
  }
  return decodeUtf8(end === -1 ? raw : raw.subarray(0, end), `tar header ${what}`);
}

export function parseOctal(h: Uint8Array, off: number, len: number): number {
  // Base-256 sizes (high bit set) are only needed past 8 GiB; no herd archive comes near that.
  const s = text(h, off, len).replace(/[\0 ]+$/, '').replace(/^ +/, '');
  return /^[0-7]{1,12}$/.test(s) ? parseInt(s, 8) : NaN;
}

export function text(h: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = off; i < off + len; i++) {
    const b = h[i] as number;
    if (b === 0) break;
    s += String.fromCharCode(b);
  }
  return s;
}

export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw invalid(`a ${what} is not valid UTF-8`);
  }
}

export function describeType(type: string): string {
  switch (type) {
    case '1': return 'a hard link';
    case '2': return 'a symbolic link';
    case '3': return 'a character device';
    case '4': return 'a block device';
    case '5': return 'a directory';
    case '6': return 'a FIFO';
    case '7': return 'a contiguous file';
    case 'g': return 'a pax global header';
    case 'K': case 'L': return 'a GNU long-name record';
    default: return `of unknown type ${JSON.stringify(type)}`;
  }
}

export function splitName(name: string): { name: string; prefix?: string } | undefined {
  if (encoder.encode(name).byteLength <= 100) return { name };
  // ustar splits a long name at a `/` into prefix (≤155 bytes) and name (≤100 bytes).
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (rest !== '' && encoder.encode(prefix).byteLength <= 155 && encoder.encode(rest).byteLength <= 100) {
      return { name: rest, prefix };
    }
  }
  return undefined;
}

export function paxRecord(key: string, value: string): Uint8Array {
  // A record is "<len> <key>=<value>\n" where <len> counts the whole record, its own digits included.
  const body = encoder.encode(` ${key}=${value}\n`).byteLength;
  let len = body + 1;
  while (String(len).length + body !== len) len = String(len).length + body;
  return encoder.encode(`${len} ${key}=${value}\n`);
}

export function putBytes(h: Uint8Array, off: number, len: number, bytes: Uint8Array): void {
  if (bytes.byteLength > len) throw new Error(`tar header field at ${off} holds ${len} bytes, got ${bytes.byteLength}`);
  h.set(bytes, off);
}

export function putOctal(h: Uint8Array, off: number, len: number, n: number): void {
  putBytes(h, off, len, encoder.encode(`${n.toString(8).padStart(len - 1, '0')}\0`));
}
