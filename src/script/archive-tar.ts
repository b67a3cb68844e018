// A strict ustar (POSIX.1-1988, plus pax `path` records) codec: exactly what herd archives need.
// Written here rather than taken from a library so that the reader accepts only regular files,
// checks every header before reading its data, and never holds more than the limits allow.
import { formatBytes } from './archive-limits.js';
import { invalid, tooLarge } from './archive-errors.js';
import { unsafeEntryName } from './archive-paths.js';
import { decodeUtf8, describeType, field, paxRecord, parseOctal, putBytes, putOctal, splitName, text } from './tar-fields.js';

export { invalid, tooLarge } from './archive-errors.js';

/** The tar block size; headers and data are padded to it. */
export const TAR_BLOCK = 512;

const encoder = new TextEncoder();
// Pax records herd never writes but other tar writers add; harmless for a regular file's bytes.
const IGNORED_PAX_KEYS = new Set(['mtime', 'atime', 'ctime', 'uid', 'gid', 'uname', 'gname', 'mode', 'comment']);
// Our own pax headers hold one path; anything near this size is not one of ours.
const MAX_PAX_BYTES = 64 * 1024;

/** Fields of one raw ustar header; the writer's building block, and how tests craft hostile tars. */
export interface TarHeaderFields {
  /** The name field (at most 100 UTF-8 bytes). */
  name: string;
  /** The prefix field (at most 155 bytes), joined to name with `/` by readers. */
  prefix?: string;
  /** The size of the data that follows, in bytes. */
  size: number;
  /** The typeflag: '0' regular file (default), '1' hard link, '2' symlink, '5' directory, 'x' pax, ... */
  type?: string;
  /** The link target of a link entry. */
  linkname?: string;
  /** Raw bytes for the name field instead of `name` (e.g. with a NUL inside). */
  nameBytes?: Uint8Array;
  /** Permission bits; 0644 by default. */
  mode?: number;
  /** Modification time in epoch seconds; 0 by default (reproducible output). */
  mtime?: number;
}

/** Encodes one 512-byte ustar header with a valid checksum. Fixed owner, and by default mode and mtime, keep output reproducible. */
export function tarHeader(f: TarHeaderFields): Uint8Array {
  const h = new Uint8Array(TAR_BLOCK);
  putBytes(h, 0, 100, f.nameBytes ?? encoder.encode(f.name));
  putOctal(h, 100, 8, f.mode ?? 0o644);
  putOctal(h, 108, 8, 0);
  putOctal(h, 116, 8, 0);
  putOctal(h, 124, 12, f.size);
  putOctal(h, 136, 12, f.mtime ?? 0);
  h[156] = (f.type ?? '0').charCodeAt(0);
  putBytes(h, 157, 100, encoder.encode(f.linkname ?? ''));
  putBytes(h, 257, 6, encoder.encode('ustar\0'));
  putBytes(h, 263, 2, encoder.encode('00'));
  putBytes(h, 345, 155, encoder.encode(f.prefix ?? ''));
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  putBytes(h, 148, 8, encoder.encode(`${sum.toString(8).padStart(6, '0')}\0 `));
  return h;
}

/** The blocks of one regular-file entry: header(s), data and padding. Long names use ustar's prefix, then pax. */
export function tarFileBlocks(name: string, data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const split = splitName(name);
  if (split) {
    out.push(tarHeader({ ...split, size: data.byteLength }));
  } else {
    const pax = paxRecord('path', name);
    out.push(tarHeader({ name: 'PaxHeader', size: pax.byteLength, type: 'x' }), ...padded(pax));
    out.push(tarHeader({ name: 'long-path', size: data.byteLength }));
  }
  out.push(...padded(data));
  return out;
}

/** The two zero blocks that end a tar. */
export function tarEnd(): Uint8Array {
  return new Uint8Array(2 * TAR_BLOCK);
}

/** A whole tar of regular files, in the given order. */
export function encodeTar(entries: ReadonlyArray<{ name: string; data: Uint8Array }>): Uint8Array {
  const blocks = entries.flatMap((e) => tarFileBlocks(e.name, e.data));
  blocks.push(tarEnd());
  return concat(blocks);
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

function padded(data: Uint8Array): Uint8Array[] {
  const pad = (TAR_BLOCK - (data.byteLength % TAR_BLOCK)) % TAR_BLOCK;
  return pad === 0 ? [data] : [data, new Uint8Array(pad)];
}





/** What a TarReader calls back with and the limits it enforces. */
export interface TarReaderOptions {
  /** Most regular-file entries accepted. */
  maxEntries: number;
  /** Most bytes of entry data accepted, summed over the sizes the headers declare. */
  maxBytes: number;
  /** Receives each regular file once its data is complete, in tar order. */
  onEntry(name: string, data: Uint8Array): void;
}

type State =
  | { kind: 'header'; zeroBlocks: number }
  | { kind: 'data'; name: string; type: 'file' | 'pax'; data: Uint8Array; filled: number }
  | { kind: 'padding'; left: number }
  | { kind: 'ended' };

/**
 * A push parser for a ustar stream. Each header is checked (checksum, magic, type, name, size
 * against the limits) before any of its data is accepted, so a hostile tar is rejected at the
 * header that breaks a rule. Bytes after the end-of-archive marker must be zero padding.
 */
export class TarReader {
  private readonly opts: TarReaderOptions;
  private readonly block = new Uint8Array(TAR_BLOCK);
  private blockFill = 0;
  private state: State = { kind: 'header', zeroBlocks: 0 };
  private entries = 0;
  private declaredBytes = 0;
  private paxPath: string | undefined;

  constructor(opts: TarReaderOptions) {
    this.opts = opts;
  }

  /** Feeds the next bytes of the tar; throws a HerdError at the first problem. */
  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.byteLength) {
      const s = this.state;
      const avail = chunk.byteLength - off;
      switch (s.kind) {
        case 'header': {
          const n = Math.min(TAR_BLOCK - this.blockFill, avail);
          this.block.set(chunk.subarray(off, off + n), this.blockFill);
          this.blockFill += n;
          off += n;
          if (this.blockFill === TAR_BLOCK) {
            this.blockFill = 0;
            this.header(s.zeroBlocks);
          }
          break;
        }
        case 'data': {
          const n = Math.min(s.data.byteLength - s.filled, avail);
          s.data.set(chunk.subarray(off, off + n), s.filled);
          s.filled += n;
          off += n;
          if (s.filled === s.data.byteLength) this.completeData(s);
          break;
        }
        case 'padding': {
          const n = Math.min(s.left, avail);
          s.left -= n;
          off += n;
          if (s.left === 0) this.state = { kind: 'header', zeroBlocks: 0 };
          break;
        }
        case 'ended': {
          // tar writers pad the end to a record size with zeros; anything else is not ours.
          if (!allZero(chunk.subarray(off))) throw invalid('the tar has data after its end-of-archive marker');
          off = chunk.byteLength;
          break;
        }
      }
    }
  }

  /** Declares the stream complete; throws when the tar stopped before its end-of-archive marker. */
  end(): void {
    if (this.state.kind === 'ended') return;
    const where = this.state.kind === 'data' ? `in the middle of entry ${JSON.stringify(this.state.name)}` : 'before its end-of-archive marker';
    throw invalid(`the tar ends ${where} (it is truncated)`);
  }

  private header(zeroBlocks: number): void {
    const h = this.block;
    if (h.every((b) => b === 0)) {
      if (this.paxPath !== undefined) throw invalid('the tar ends right after a pax header');
      this.state = zeroBlocks === 0 ? { kind: 'header', zeroBlocks: 1 } : { kind: 'ended' };
      return;
    }
    if (zeroBlocks !== 0) throw invalid('the tar has a lone zero block before more entries (it is corrupt)');
    const stored = parseOctal(h, 148, 8);
    let sum = 0;
    for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    if (stored !== sum) throw invalid(`tar header ${this.entries + 1} has a bad checksum (the tar is corrupt)`);
    if (text(h, 257, 6) !== 'ustar' || h[262] !== 0 || text(h, 263, 2) !== '00') {
      throw invalid(`tar header ${this.entries + 1} is not a ustar header`);
    }
    const prefix = field(h, 345, 155, 'prefix');
    const short = field(h, 0, 100, 'name');
    const type = h[156] === 0 ? '0' : String.fromCharCode(h[156] as number);
    const name = type === 'x' ? 'pax header' : this.paxPath ?? (prefix === '' ? short : `${prefix}/${short}`);
    this.paxPath = undefined;
    const size = parseOctal(h, 124, 12);
    if (Number.isNaN(size)) throw invalid(`archive entry ${JSON.stringify(name)} has an unreadable size field`);

    if (type === 'x') {
      if (size > MAX_PAX_BYTES) throw invalid(`a pax header of ${formatBytes(size)} is larger than herd ever writes (${formatBytes(MAX_PAX_BYTES)})`);
      this.startData(name, 'pax', size);
      return;
    }
    const unsafe = unsafeEntryName(name);
    if (unsafe !== undefined) {
      throw invalid(`archive entry ${JSON.stringify(name)} ${unsafe}; entry names must be relative paths that stay inside the archive`);
    }
    if (type !== '0') throw invalid(`archive entry ${JSON.stringify(name)} is ${describeType(type)}; herd archives hold only regular files`);
    this.entries += 1;
    if (this.entries > this.opts.maxEntries) {
      throw tooLarge(`the archive has more than ${this.opts.maxEntries} entries, the limit`, 'Open fewer files in the init code, or combine small data files into one.');
    }
    this.declaredBytes += size;
    if (this.declaredBytes > this.opts.maxBytes) {
      throw tooLarge(
        `the archive's files add up to more than ${formatBytes(this.opts.maxBytes)}, the limit (entry ${JSON.stringify(name)} declares ${formatBytes(size)})`,
        'Open smaller data files in the init code, or fetch large data at run time.',
      );
    }
    this.startData(name, 'file', size);
  }

  private startData(name: string, type: 'file' | 'pax', size: number): void {
    const s = { kind: 'data' as const, name, type, data: new Uint8Array(size), filled: 0 };
    if (size === 0) this.completeData(s);
    else this.state = s;
  }

  private completeData(s: Extract<State, { kind: 'data' }>): void {
    if (s.type === 'pax') this.paxPath = parsePax(s.data);
    else this.opts.onEntry(s.name, s.data);
    const pad = (TAR_BLOCK - (s.data.byteLength % TAR_BLOCK)) % TAR_BLOCK;
    this.state = pad === 0 ? { kind: 'header', zeroBlocks: 0 } : { kind: 'padding', left: pad };
  }
}

const ZEROS = Buffer.alloc(64 * 1024);

// A native compare: a bomb of zeros after the end marker is tens of MB, too many for a JS loop.
function allZero(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < b.byteLength; i += ZEROS.byteLength) {
    const part = b.subarray(i, i + ZEROS.byteLength);
    if (!part.equals(ZEROS.subarray(0, part.byteLength))) return false;
  }
  return true;
}

function parsePax(data: Uint8Array): string | undefined {
  let path: string | undefined;
  let pos = 0;
  while (pos < data.byteLength) {
    const space = data.indexOf(0x20, pos);
    const len = space === -1 ? NaN : Number(text(data, pos, space - pos));
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > data.byteLength || data[pos + len - 1] !== 0x0a) {
      throw invalid('a pax header record is malformed');
    }
    const kv = decodeUtf8(data.subarray(space + 1, pos + len - 1), 'pax record');
    const eq = kv.indexOf('=');
    const key = eq === -1 ? kv : kv.slice(0, eq);
    if (key === 'path') path = kv.slice(eq + 1);
    else if (!IGNORED_PAX_KEYS.has(key)) throw invalid(`a pax header sets ${JSON.stringify(key)}, which herd archives never use`);
    pos += len;
  }
  return path;
}
