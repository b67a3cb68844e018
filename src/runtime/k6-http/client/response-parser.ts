/**
 * An incremental HTTP/1.1 response parser working on the Buffers a socket delivers.
 *
 * The head is located with one `indexOf` of CRLFCRLF and decoded with one latin1 conversion;
 * header lines are then cut out of that string, so no string is built byte by byte. Bodies
 * are delimited by Content-Length, chunked transfer coding (parsed byte by byte, it is only
 * the size lines) or the end of the connection, and kept as the socket's own Buffer slices
 * until the message completes. One parser lives on each connection and is reset per response.
 *
 * A server answering the same requests sends the very same head bytes again and again (until
 * its Date header ticks over, once a second), on every connection: the parsers of a thread
 * share the last few final heads parsed, and a head byte-for-byte equal to one of them reuses
 * that parse (the header array is frozen and shared, read-only downstream) instead of being
 * decoded, sliced and lower-cased again. That is most of the per-response allocation of a
 * small response, also for VUs that send one request per second on their own connection.
 */

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** Heads larger than this are refused (Go's default MaxHeaderBytes is 1 MB; 256 KB is plenty). */
const MAX_HEAD_BYTES = 256 * 1024;
/** Larger bodies with a Content-Length are kept in parts, so that a lying length cannot reserve memory up front. */
const MAX_PREALLOCATED_BODY = 8 * 1024 * 1024;

const S_HEAD = 0;
const S_BODY_LENGTH = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_EXT = 3;
const S_CHUNK_DATA = 4;
const S_CHUNK_DATA_END = 5;
const S_TRAILERS = 6;
const S_BODY_EOF = 7;
const S_DONE = 8;

// Shared empty arrays for an idle parser; a fresh array replaces them before anything is pushed.
const NO_HEADERS: string[] = [];
const NO_BODY: Buffer[] = [];

/** Thrown on a response that is not valid HTTP/1.x. */
export class HttpParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpParseError';
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** What parsing one head set, kept to reuse when the next head has the same bytes. */
interface ParsedHead {
  readonly bytes: Buffer;
  /** The first `bytes.length >> 2` groups of four bytes of `bytes`, as 32-bit words (see sameHead). */
  readonly words: Int32Array;
  readonly statusCode: number;
  readonly reason: string;
  readonly httpMinor: number;
  readonly keepAlive: boolean;
  readonly headers: string[];
  readonly contentLength: number;
  readonly chunked: boolean;
  readonly contentEncoding: string;
}

/** The last final heads parsed in this thread, newest at `headsNext - 1` (a small ring). */
const HEAD_CACHE_SIZE = 8;
const heads: Array<ParsedHead | undefined> = new Array<ParsedHead | undefined>(HEAD_CACHE_SIZE);
let headsNext = 0;

/**
 * The cached parse of the head at the start of `data`, found without searching for its end:
 * a cached head's bytes followed by CRLFCRLF. Its bytes hold no CRLFCRLF of their own (they
 * were cut at the first one), so that is where this head ends too.
 */
function cachedHeadAtStart(data: Buffer, n: number): ParsedHead | null {
  for (let k = 1; k <= HEAD_CACHE_SIZE; k++) {
    const h = heads[(headsNext - k + HEAD_CACHE_SIZE) % HEAD_CACHE_SIZE];
    if (h === undefined) return null;
    const end = h.bytes.length;
    if (n >= end + 4 && data[end] === 13 && data[end + 1] === 10 && data[end + 2] === 13 && data[end + 3] === 10 && sameHead(h, data)) return h;
  }
  return null;
}

/** A 32-bit view of the last ArrayBuffer compared against, kept: the socket reads into one buffer. */
let viewedBuffer: ArrayBufferLike | null = null;
let viewedWords: Int32Array<ArrayBufferLike> = new Int32Array(0);

/**
 * Whether `data` starts with the bytes of `h`. Four bytes at a time when `data` is aligned
 * (it is, for the shared read buffer): a JavaScript loop over a few dozen words beats the
 * call into Buffer#compare, whose argument checks cost more than comparing a head.
 */
function sameHead(h: ParsedHead, data: Buffer): boolean {
  const end = h.bytes.length;
  const offset = data.byteOffset;
  if ((offset & 3) !== 0) return h.bytes.compare(data, 0, end) === 0;
  if (data.buffer !== viewedBuffer) {
    viewedBuffer = data.buffer;
    viewedWords = new Int32Array(data.buffer, 0, data.buffer.byteLength >> 2);
  }
  const words = h.words;
  const dw = viewedWords;
  const base = offset >> 2;
  for (let i = 0; i < words.length; i++) if (words[i] !== dw[base + i]) return false;
  const bytes = h.bytes;
  for (let i = words.length << 2; i < end; i++) if (bytes[i] !== data[i]) return false;
  return true;
}

/** A copy of the first `end` bytes of `data`, in an ArrayBuffer of its own (so it is aligned), with its word view. */
function headCopy(data: Buffer, end: number): { bytes: Buffer; words: Int32Array } {
  const ab = new ArrayBuffer((end + 3) & ~3);
  const bytes = Buffer.from(ab, 0, end);
  data.copy(bytes, 0, 0, end);
  return { bytes, words: new Int32Array(ab, 0, end >> 2) };
}

/** Copies `n` bytes; a loop beats Buffer#copy's checks and view for the few bytes of a small body. */
function copyBytes(src: Buffer, srcStart: number, dst: Buffer, dstStart: number, n: number): void {
  if (n > 64) {
    src.copy(dst, dstStart, srcStart, srcStart + n);
    return;
  }
  for (let i = 0; i < n; i++) dst[dstStart + i] = src[srcStart + i] as number;
}

function rememberHead(h: ParsedHead): void {
  heads[headsNext] = h;
  headsNext = (headsNext + 1) % HEAD_CACHE_SIZE;
}

/** Parses one response at a time; `begin` readies it for the next one on the same connection. */
export class ResponseParser {
  /** Status code of the current response. */
  statusCode = 0;
  /** Reason phrase ("OK"). */
  reason = '';
  /** Minor version of HTTP/1.x. */
  httpMinor = 1;
  /** Header names and values as received, flattened: [name0, value0, name1, value1, …]. */
  headers: string[] = [];
  /** Content-Length, or -1 when absent. */
  contentLength = -1;
  /** Whether the body uses chunked transfer coding. */
  chunked = false;
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;
  /** Lower-cased Content-Encoding, '' when absent. */
  contentEncoding = '';
  /** Body slices, when the body is kept. */
  body: Buffer[] = [];
  /** Number of body bytes seen (kept or not). */
  bodyLength = 0;
  /** Whether a byte of the response has been seen. */
  started = false;

  /**
   * `copyChunks`: the chunks given to `execute` are reused by the caller after the call (a
   * socket reading into one shared buffer), so body bytes and an incomplete head are copied
   * out; otherwise slices of the chunks are kept.
   */
  constructor(private readonly copyChunks = false) {}

  private keepBody = true;
  private noBody = false;
  private state = S_HEAD;
  private pendingHead: Buffer | null = null;
  /** Where parseHeadFrom found the head, for `execute` to go on with the body. */
  private headData: Buffer | null = null;
  private headDataLength = 0;
  private remaining = 0;
  private chunkSize = 0;
  private sawSizeDigit = false;
  private trailerLineLength = 0;

  /** Readies the parser for a response; `noBody` for HEAD requests; `keepBody` false discards the body. */
  begin(noBody: boolean, keepBody: boolean): void {
    this.statusCode = 0;
    this.reason = '';
    this.httpMinor = 1;
    // Fresh arrays only when needed: a cached head brings its own, a discarded body needs none.
    this.headers = NO_HEADERS;
    this.contentLength = -1;
    this.chunked = false;
    this.keepAlive = true;
    this.contentEncoding = '';
    this.body = NO_BODY;
    this.bodyLength = 0;
    this.started = false;
    this.keepBody = keepBody;
    this.noBody = noBody;
    this.state = S_HEAD;
    this.pendingHead = null;
    this.remaining = 0;
    this.chunkSize = 0;
    this.sawSizeDigit = false;
    this.trailerLineLength = 0;
  }

  /** Drops references to the last response (its body slices pin socket buffers) once its owner took them. */
  release(): void {
    this.headers = NO_HEADERS;
    this.body = NO_BODY;
    this.pendingHead = null;
  }

  /** Whether the current response is complete. */
  get done(): boolean {
    return this.state === S_DONE;
  }

  /** Whether the body runs until the connection closes. */
  get readsUntilClose(): boolean {
    return this.state === S_BODY_EOF;
  }

  /**
   * Feeds the next bytes. Returns true once the response is complete. Bytes after the end of
   * the response (the server sent more than one answer) make the connection not reusable.
   */
  execute(chunk: Buffer, chunkLength = chunk.length): boolean {
    this.started = true;
    let data = chunk;
    let len = chunkLength;
    let i = 0;
    if (this.state === S_HEAD) {
      i = this.parseHeadFrom(chunk, chunkLength);
      if (i < 0) return false;
      data = this.headData as Buffer;
      len = this.headDataLength;
      this.headData = null;
    }
    while (i < len) {
      switch (this.state) {
        case S_BODY_LENGTH: {
          const n = Math.min(this.remaining, len - i);
          this.take(data, i, n);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = S_DONE;
          break;
        }
        case S_BODY_EOF: {
          this.take(data, i, len - i);
          i = len;
          break;
        }
        case S_CHUNK_SIZE: {
          const c = data[i++] as number;
          const v = hexValue(c);
          if (v >= 0) {
            this.chunkSize = this.chunkSize * 16 + v;
            this.sawSizeDigit = true;
            if (this.chunkSize > 0xffffffffff) throw new HttpParseError('malformed chunked encoding: chunk size too large');
          } else if (c === 10) {
            this.endSizeLine();
          } else if (c === 59 || c === 32 || c === 9) {
            this.state = S_CHUNK_EXT;
          } else if (c !== 13) {
            throw new HttpParseError('malformed chunked encoding: invalid byte in chunk length');
          }
          break;
        }
        case S_CHUNK_EXT: {
          const lf = data.indexOf(10, i);
          if (lf < 0) {
            i = len;
          } else {
            i = lf + 1;
            this.endSizeLine();
          }
          break;
        }
        case S_CHUNK_DATA: {
          const n = Math.min(this.remaining, len - i);
          this.take(data, i, n);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = S_CHUNK_DATA_END;
          break;
        }
        case S_CHUNK_DATA_END: {
          const c = data[i++] as number;
          if (c === 10) this.state = S_CHUNK_SIZE;
          else if (c !== 13) throw new HttpParseError('malformed chunked encoding: missing CRLF after chunk data');
          break;
        }
        case S_TRAILERS: {
          const c = data[i++] as number;
          if (c === 10) {
            if (this.trailerLineLength === 0) this.state = S_DONE;
            this.trailerLineLength = 0;
          } else if (c !== 13) {
            this.trailerLineLength++;
          }
          break;
        }
        case S_DONE: {
          // Unsolicited bytes after a complete response: the stream can no longer be trusted.
          this.keepAlive = false;
          return true;
        }
        default:
          throw new HttpParseError('parser in an impossible state');
      }
    }
    return this.state === S_DONE;
  }

  /** The connection ended: returns true when that ends the body (no length given), false when the response is cut short. */
  eof(): boolean {
    if (this.state === S_BODY_EOF) {
      this.state = S_DONE;
      return true;
    }
    return this.state === S_DONE;
  }

  private endSizeLine(): void {
    if (!this.sawSizeDigit) throw new HttpParseError('malformed chunked encoding: empty chunk length');
    this.sawSizeDigit = false;
    if (this.chunkSize === 0) {
      this.state = S_TRAILERS;
      this.trailerLineLength = 0;
    } else {
      this.remaining = this.chunkSize;
      this.chunkSize = 0;
      this.state = S_CHUNK_DATA;
    }
  }

  private take(data: Buffer, start: number, n: number): void {
    if (n <= 0) return;
    this.bodyLength += n;
    if (!this.keepBody) return;
    if (this.body === NO_BODY) this.body = [];
    if (!this.copyChunks) {
      this.body.push(start === 0 && n === data.length ? data : data.subarray(start, start + n));
      return;
    }
    // With a known length the body is copied into one Buffer of that size (no concat later).
    if (this.state === S_BODY_LENGTH && this.contentLength > 0 && this.contentLength <= MAX_PREALLOCATED_BODY) {
      let whole = this.body[0];
      if (whole === undefined) {
        whole = Buffer.allocUnsafe(this.contentLength);
        this.body.push(whole);
      }
      copyBytes(data, start, whole, this.bodyLength - n, n);
      return;
    }
    const part = Buffer.allocUnsafe(n);
    copyBytes(data, start, part, 0, n);
    this.body.push(part);
  }

  /**
   * Finds and parses the head; returns where the body starts in `headData` (the chunk, or
   * the chunk joined to an earlier incomplete head), or -1 when more bytes are needed.
   */
  private parseHeadFrom(chunk: Buffer, chunkLength: number): number {
    if (this.pendingHead === null) {
      // The common case: the whole head in this read, and the same as a recent one.
      const known = cachedHeadAtStart(chunk, chunkLength);
      if (known !== null) {
        this.useHead(known);
        this.headData = chunk;
        this.headDataLength = chunkLength;
        return known.bytes.length + 4;
      }
    }
    let data = chunkLength === chunk.length ? chunk : chunk.subarray(0, chunkLength);
    const whole = data;
    let from = 0;
    // Whether `data` was looked up in the head cache already (just above).
    let looked = this.pendingHead === null;
    // Informational (1xx) responses precede the real one; loop over them.
    for (;;) {
      if (this.pendingHead !== null) {
        from = Math.max(0, this.pendingHead.length - 3);
        data = Buffer.concat([this.pendingHead, data]);
        this.pendingHead = null;
      }
      if (!looked) {
        const known = cachedHeadAtStart(data, data.length);
        if (known !== null) {
          this.useHead(known);
          this.headData = data;
          this.headDataLength = data.length;
          return known.bytes.length + 4;
        }
      }
      looked = false;
      const end = data.indexOf(CRLFCRLF, from);
      if (end < 0) {
        if (data.length > MAX_HEAD_BYTES) throw new HttpParseError('response head too large');
        this.pendingHead = this.copyChunks && data === whole ? Buffer.from(data) : data;
        return -1;
      }
      const offset = end + 4;
      this.headers = [];
      this.parseHead(data.toString('latin1', 0, end));
      if (this.statusCode >= 100 && this.statusCode < 200 && this.statusCode !== 101) {
        this.headers = [];
        this.contentLength = -1;
        this.chunked = false;
        this.contentEncoding = '';
        this.keepAlive = true;
        data = data.subarray(offset);
        from = 0;
        if (data.length === 0) return -1;
        continue;
      }
      rememberHead({
        // A copy: the socket's chunk must not stay pinned by the cache.
        ...headCopy(data, end),
        statusCode: this.statusCode,
        reason: this.reason,
        httpMinor: this.httpMinor,
        keepAlive: this.keepAlive,
        headers: Object.freeze(this.headers) as string[],
        contentLength: this.contentLength,
        chunked: this.chunked,
        contentEncoding: this.contentEncoding,
      });
      this.chooseBodyMode();
      this.headData = data;
      this.headDataLength = data.length;
      return offset;
    }
  }

  /** Takes a cached head's parse as this response's. */
  private useHead(h: ParsedHead): void {
    this.statusCode = h.statusCode;
    this.reason = h.reason;
    this.httpMinor = h.httpMinor;
    this.keepAlive = h.keepAlive;
    this.headers = h.headers;
    this.contentLength = h.contentLength;
    this.chunked = h.chunked;
    this.contentEncoding = h.contentEncoding;
    this.chooseBodyMode();
  }

  private chooseBodyMode(): void {
    const s = this.statusCode;
    if (this.noBody || s === 204 || s === 304 || (s >= 100 && s < 200)) {
      this.state = S_DONE;
    } else if (this.chunked) {
      this.state = S_CHUNK_SIZE;
    } else if (this.contentLength >= 0) {
      this.remaining = this.contentLength;
      this.state = this.contentLength === 0 ? S_DONE : S_BODY_LENGTH;
    } else {
      // No length: the body is whatever arrives until the server closes.
      this.state = S_BODY_EOF;
      this.keepAlive = false;
    }
  }

  private parseHead(text: string): void {
    let eol = text.indexOf('\r\n');
    if (eol < 0) eol = text.length;
    if (eol < 12 || !text.startsWith('HTTP/1.')) throw new HttpParseError(`malformed HTTP response ${JSON.stringify(text.slice(0, Math.min(eol, 40)))}`);
    this.httpMinor = text.charCodeAt(7) - 48;
    const code = Number(text.slice(9, 12));
    if (!Number.isInteger(code) || code < 100 || code > 999 || text.charCodeAt(8) !== 32) {
      throw new HttpParseError(`malformed HTTP status code ${JSON.stringify(text.slice(9, 12))}`);
    }
    this.statusCode = code;
    this.reason = eol > 13 ? text.slice(13, eol) : '';
    this.keepAlive = this.httpMinor >= 1;
    const headers = this.headers;
    let pos = eol;
    while (pos < text.length) {
      const start = pos + 2;
      let end = text.indexOf('\r\n', start);
      if (end < 0) end = text.length;
      pos = end;
      if (end === start) continue;
      const first = text.charCodeAt(start);
      if ((first === 32 || first === 9) && headers.length > 0) {
        // Obsolete line folding: the line continues the previous value.
        headers[headers.length - 1] = `${headers[headers.length - 1] as string} ${text.slice(start, end).trim()}`;
        continue;
      }
      const colon = text.indexOf(':', start);
      if (colon < 0 || colon > end) throw new HttpParseError('malformed MIME header line');
      const name = text.slice(start, colon);
      const value = text.slice(colon + 1, end).trim();
      headers.push(name, value);
      this.noteHeader(name, value);
    }
  }

  private noteHeader(name: string, value: string): void {
    // Only four headers steer the parser; compare lengths before lower-casing anything.
    switch (name.length) {
      case 14:
        if (name.toLowerCase() === 'content-length') {
          const n = Number(value);
          if (!Number.isSafeInteger(n) || n < 0 || value === '') throw new HttpParseError(`bad Content-Length ${JSON.stringify(value)}`);
          if (this.contentLength >= 0 && this.contentLength !== n) throw new HttpParseError('conflicting Content-Length headers');
          this.contentLength = n;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding' && value.toLowerCase().includes('chunked')) this.chunked = true;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          const v = value.toLowerCase();
          if (v.includes('close')) this.keepAlive = false;
          else if (v.includes('keep-alive')) this.keepAlive = true;
        }
        break;
      case 16:
        if (name.toLowerCase() === 'content-encoding') this.contentEncoding = value.toLowerCase();
        break;
      default:
        break;
    }
  }
}
