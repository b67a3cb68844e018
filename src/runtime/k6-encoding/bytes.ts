import { HerdError } from '../../errors/index.js';

/**
 * Converts what a script passes as binary input to bytes, as k6 does: a string is taken as
 * UTF-8, an ArrayBuffer or a view of one (typed array, DataView) as its bytes. The result
 * shares memory with a buffer input: callers only read it.
 */
export function toBytes(input: unknown, what: string): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof ArrayBuffer) return Buffer.from(input);
  if (ArrayBuffer.isView(input)) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  throw new HerdError(
    'script_exception',
    `${what}: invalid input type ${describeType(input)}, expected a string or an ArrayBuffer`,
  );
}

/**
 * An ArrayBuffer holding exactly the bytes of `buf`. Small Buffers are slices of a shared
 * pool, so handing out `buf.buffer` would leak unrelated bytes to the script: copy unless
 * the Buffer spans its whole ArrayBuffer.
 */
export function toArrayBuffer(buf: Buffer): ArrayBuffer {
  const ab = buf.buffer;
  if (ab instanceof ArrayBuffer && buf.byteOffset === 0 && buf.byteLength === ab.byteLength) return ab;
  const out = new ArrayBuffer(buf.byteLength);
  new Uint8Array(out).set(buf);
  return out;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'object';
}
