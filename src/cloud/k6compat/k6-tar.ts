// The tar dialect of k6 archives (K6-CLOUD-API.md §1.4): what Go's archive/tar writes for
// `k6 archive` / `k6 cloud`. Unlike herd's own archives it has directory entries and one hard
// link (the main script's path → `data`), so herd's strict regular-files-only reader cannot read
// it. This reader is just as strict otherwise: every header is checked (checksum, magic, name,
// size against the limits) before its data is taken, names must be relative paths of plain
// segments, symbolic links, devices and FIFOs are refused, and the end-of-archive marker is required.
import { formatBytes, type ResolvedArchiveLimits } from '../../script/archive-limits.js';
import { unsafeEntryName } from '../../script/archive-paths.js';
import { concat, invalid, TAR_BLOCK, tarHeader, tooLarge } from '../../script/archive-tar.js';
import { decodeUtf8, describeType, field, paxRecord, parseOctal, splitName, text } from '../../script/tar-fields.js';

/** One entry of a k6 archive's tar. */
export type K6TarEntry =
  | { readonly kind: 'file'; readonly name: string; readonly data: Uint8Array }
  | { readonly kind: 'dir'; readonly name: string }
  | { readonly kind: 'link'; readonly name: string; readonly target: string };

const encoder = new TextEncoder();
const MAX_PAX_BYTES = 64 * 1024;
// Pax records Go's writer (or a repacking tool) may add that say nothing about where an entry goes.
const IGNORED_PAX_KEYS = new Set(['mtime', 'atime', 'ctime', 'uid', 'gid', 'uname', 'gname', 'mode', 'comment', 'size']);

/**
 * Reads every entry of an uncompressed tar held in memory. Limits: at most `maxEntries` entries
 * (directories and links included) and at most `maxBytes` of declared entry data; the tar itself
 * may not be larger than `maxBytes` plus its headers.
 */
export function readK6Tar(bytes: Uint8Array, limits: ResolvedArchiveLimits): K6TarEntry[] {
  if (bytes.byteLength > limits.maxBytes + (limits.maxEntries + 2) * 3 * TAR_BLOCK) {
    throw tooLarge(`the k6 archive is ${formatBytes(bytes.byteLength)}, more than the limit of ${formatBytes(limits.maxBytes)}`, 'Keep large data files out of the archive.');
  }
  const out: K6TarEntry[] = [];
  let off = 0;
  let pax: Map<string, string> | undefined;
  let zeroBlocks = 0;
  let declared = 0;
  let headers = 0;
  for (;;) {
    if (off + TAR_BLOCK > bytes.byteLength) throw invalid('the tar ends before its end-of-archive marker (it is truncated)');
    const h = bytes.subarray(off, off + TAR_BLOCK);
    off += TAR_BLOCK;
    if (h.every((b) => b === 0)) {
      if (pax !== undefined) throw invalid('the tar ends right after a pax header');
      zeroBlocks += 1;
      if (zeroBlocks === 2) break;
      continue;
    }
    if (zeroBlocks !== 0) throw invalid('the tar has a lone zero block before more entries (it is corrupt)');
    headers += 1;
    if (headers > 2 * limits.maxEntries + 2) {
      throw tooLarge(`the archive has more than ${limits.maxEntries} entries, the limit`, 'Archive fewer files.');
    }
    checkHeader(h, out.length + 1);
    const gnu = text(h, 257, 8) === 'ustar  ';
    const type = h[156] === 0 ? '0' : String.fromCharCode(h[156] as number);
    const size = parseOctal(h, 124, 12);
    if (Number.isNaN(size)) throw invalid(`tar header ${out.length + 1} has an unreadable size field`);
    if (type === 'x') {
      if (size > MAX_PAX_BYTES) throw invalid(`a pax header of ${formatBytes(size)} is larger than any k6 archive needs`);
      const data = take(bytes, off, size, 'pax header');
      off += padded(size);
      pax = parsePax(data);
      continue;
    }
    const prefix = gnu ? '' : field(h, 345, 155, 'prefix');
    const short = field(h, 0, 100, 'name');
    let name = pax?.get('path') ?? (prefix === '' ? short : `${prefix}/${short}`);
    const linkname = pax?.get('linkpath') ?? field(h, 157, 100, 'linkname');
    pax = undefined;
    if (type === '5' && name.endsWith('/')) name = name.slice(0, -1);
    const unsafe = unsafeEntryName(name);
    if (unsafe !== undefined) {
      throw invalid(`archive entry ${JSON.stringify(name)} ${unsafe}; entry names must be relative paths that stay inside the archive`);
    }
    if (out.length + 1 > limits.maxEntries) {
      throw tooLarge(`the archive has more than ${limits.maxEntries} entries, the limit`, 'Archive fewer files.');
    }
    switch (type) {
      case '0':
      case '7': {
        declared += size;
        if (declared > limits.maxBytes) {
          throw tooLarge(
            `the archive's files add up to more than ${formatBytes(limits.maxBytes)}, the limit (entry ${JSON.stringify(name)} declares ${formatBytes(size)})`,
            'Keep large data files out of the archive.',
          );
        }
        const data = take(bytes, off, size, name);
        off += padded(size);
        out.push({ kind: 'file', name, data: new Uint8Array(data) });
        break;
      }
      case '5':
        if (size !== 0) throw invalid(`the directory entry ${JSON.stringify(name)} declares ${size} bytes of data`);
        out.push({ kind: 'dir', name });
        break;
      case '1':
        // Go writes hard links with size 0; anything else is not from k6.
        if (size !== 0) throw invalid(`the hard link ${JSON.stringify(name)} declares ${size} bytes of data`);
        out.push({ kind: 'link', name, target: linkname });
        break;
      default:
        throw invalid(`archive entry ${JSON.stringify(name)} is ${describeType(type)}; a k6 archive holds only files, directories and the hard link to "data"`);
    }
  }
  if (!bytes.subarray(off).every((b) => b === 0)) throw invalid('the tar has data after its end-of-archive marker');
  return out;
}

/** One entry to write with `writeK6Tar`. */
export type K6TarWriteEntry =
  | { readonly kind: 'file'; readonly name: string; readonly data: Uint8Array }
  | { readonly kind: 'dir'; readonly name: string }
  | { readonly kind: 'link'; readonly name: string; readonly target: string };

/**
 * Writes a tar as Go's archive/tar does for k6: ustar headers (mode 0644 for files, 0755 for
 * directories, 0 for the hard link), long names split into prefix/name, else a pax `path` record.
 * `mtime` is fixed (default: the epoch) so the same input gives the same bytes.
 */
export function writeK6Tar(entries: readonly K6TarWriteEntry[], mtime = new Date(0)): Uint8Array {
  const blocks: Uint8Array[] = [];
  const secs = Math.floor(mtime.getTime() / 1000);
  for (const e of entries) {
    const size = e.kind === 'file' ? e.data.byteLength : 0;
    const type = e.kind === 'file' ? '0' : e.kind === 'dir' ? '5' : '1';
    const mode = e.kind === 'file' ? 0o644 : e.kind === 'dir' ? 0o755 : 0;
    const linkname = e.kind === 'link' ? e.target : '';
    const split = splitName(e.name);
    const records: Uint8Array[] = [];
    if (split === undefined) records.push(paxRecord('path', e.name));
    if (encoder.encode(linkname).byteLength > 100) records.push(paxRecord('linkpath', linkname));
    if (records.length > 0) {
      const body = concat(records);
      blocks.push(tarHeader({ name: 'PaxHeaders/entry', size: body.byteLength, type: 'x', mode: 0o644, mtime: secs }), ...pad(body));
    }
    blocks.push(tarHeader({
      name: split?.name ?? 'long-path',
      prefix: split?.prefix ?? '',
      size,
      type,
      mode,
      mtime: e.kind === 'link' ? 0 : secs,
      linkname: linkname.length <= 100 ? linkname : '',
    }));
    if (e.kind === 'file') blocks.push(...pad(e.data));
  }
  blocks.push(new Uint8Array(2 * TAR_BLOCK));
  return concat(blocks);
}




function pad(data: Uint8Array): Uint8Array[] {
  const rest = padded(data.byteLength) - data.byteLength;
  return rest === 0 ? [data] : [data, new Uint8Array(rest)];
}

function padded(n: number): number {
  return Math.ceil(n / TAR_BLOCK) * TAR_BLOCK;
}



function take(bytes: Uint8Array, off: number, size: number, what: string): Uint8Array {
  if (off + size > bytes.byteLength) throw invalid(`the tar ends in the middle of entry ${JSON.stringify(what)} (it is truncated)`);
  return bytes.subarray(off, off + size);
}

function checkHeader(h: Uint8Array, n: number): void {
  const stored = parseOctal(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  if (stored !== sum) throw invalid(`tar header ${n} has a bad checksum (the tar is corrupt)`);
  const magic = text(h, 257, 8);
  // POSIX ustar ("ustar\0" "00", what Go writes) or GNU ("ustar  \0").
  const posix = text(h, 257, 6) === 'ustar' && h[262] === 0 && text(h, 263, 2) === '00';
  if (!posix && magic !== 'ustar  ') throw invalid(`tar header ${n} is not a ustar header`);
}

function parsePax(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
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
    if (key === 'path' || key === 'linkpath') out.set(key, kv.slice(eq + 1));
    else if (!IGNORED_PAX_KEYS.has(key)) throw invalid(`a pax header sets ${JSON.stringify(key)}, which k6 archives never use`);
    pos += len;
  }
  return out;
}





