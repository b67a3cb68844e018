/**
 * HTTP/2 over TLS, negotiated with ALPN: a `node:http2` client session on the socket a
 * Connection opened, one per VU and origin, reused by every later request to that origin
 * (k6 keeps one Go transport per VU). Each exchange is one stream.
 *
 * Timings: blocked, connecting and tls_handshaking belong to the exchange that opened the
 * connection (the Connection marks them); each stream marks its own sending (request handed
 * to the session until its last frame was written), waiting (until the response headers) and
 * receiving (until the end of the stream).
 *
 * data_sent/data_received are approximate: streams share the socket, so each settled stream
 * is charged with the socket's TCP bytes since the previous stream settled (TLS records and
 * HTTP/2 control frames included). Over a session the sums match the socket's totals, but a
 * single request in a concurrent batch may carry bytes of its neighbours.
 */
import { STATUS_CODES } from 'node:http';
import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Carrier, Exchange } from './exchange.js';
import type { ConnectionPool } from './pool.js';
import { RequestError, K6ErrorCode, classifyError, h2ConnectionError, h2GoAwayError, h2StreamError } from './request-error.js';

/** What the session keeps of the Connection it replaces. */
export interface SessionOrigin {
  readonly key: string;
  readonly remoteIp: string;
  readonly remotePort: number;
  readonly tlsVersion: string;
  readonly tlsCipher: string;
  readonly servername: string;
  /** "ip:port" for error messages. */
  readonly addr: string;
}

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2); Go's client drops them too. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Turns the serialized HTTP/1.1 head the higher layers built into HTTP/2 header fields. */
export function h2Headers(head: string): OutgoingHttpHeaders {
  const eol = head.indexOf('\r\n');
  const line = head.slice(0, eol);
  const sp1 = line.indexOf(' ');
  const sp2 = line.lastIndexOf(' ');
  const out: OutgoingHttpHeaders = { ':method': line.slice(0, sp1), ':scheme': 'https', ':path': line.slice(sp1 + 1, sp2) };
  let pos = eol + 2;
  while (pos < head.length) {
    const end = head.indexOf('\r\n', pos);
    if (end <= pos) break;
    const colon = head.indexOf(':', pos);
    const name = head.slice(pos, colon).toLowerCase();
    const value = head.slice(colon + 1, end).trim();
    pos = end + 2;
    if (name === 'host') {
      out[':authority'] = value;
      continue;
    }
    if (HOP_BY_HOP.has(name)) continue;
    if (name === 'te' && value.toLowerCase() !== 'trailers') continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  return out;
}

/** Flattens response headers into [name, value, …] as the HTTP/1.1 parser gives them; names are lower case. */
function flatHeaders(h: IncomingHttpHeaders): { list: string[]; encoding: string } {
  const list: string[] = [];
  let encoding = '';
  for (const name of Object.keys(h)) {
    if (name.charCodeAt(0) === 58) continue; // pseudo-headers
    const v = h[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) {
      for (const x of v) list.push(name, x);
    } else {
      list.push(name, String(v));
    }
    if (name === 'content-encoding') encoding = String(v).toLowerCase();
  }
  return { list, encoding };
}

/** One VU's HTTP/2 session to one origin. */
export class H2Session {
  readonly key: string;
  readonly remoteIp: string;
  readonly remotePort: number;
  readonly tlsVersion: string;
  readonly tlsCipher: string;
  readonly addr: string;
  readonly servername: string;
  /** Closed or failed. */
  dead = false;
  /** Streams on the wire now. */
  active = 0;
  private readonly session: ClientHttp2Session;
  /** The server sent GOAWAY: no new streams. */
  private goingAway = false;
  private goAwayCode = -1;
  private goAwayLast = 0;
  /** Whether the pool hands this session to later requests (false: closes when its streams are done). */
  private readonly shared: boolean;
  private readonly streams = new Set<H2Stream>();
  /** Socket byte counters already charged to settled streams. */
  private readMark = 0;
  private writeMark = 0;

  constructor(
    private readonly pool: ConnectionPool,
    origin: SessionOrigin,
    socket: TLSSocket,
    private readonly raw: Socket,
    first: Exchange,
  ) {
    this.key = origin.key;
    this.remoteIp = origin.remoteIp;
    this.remotePort = origin.remotePort;
    this.tlsVersion = origin.tlsVersion;
    this.tlsCipher = origin.tlsCipher;
    this.addr = origin.addr;
    this.servername = origin.servername;
    const host = origin.servername.includes(':') ? `[${origin.servername}]` : origin.servername;
    this.session = h2connect(`https://${host}:${origin.remotePort}`, { createConnection: () => socket });
    this.session.on('error', (err: Error) => this.onSessionError(err));
    this.session.on('goaway', (code: number, last: number) => this.onGoAway(code, last));
    this.session.on('close', () => this.onSessionClose());
    this.shared = this.pool.h2Opened(this, first.req.reuse);
    this.request(first);
  }

  /** Whether new requests may use this session. */
  get usable(): boolean {
    return !this.dead && !this.goingAway && !this.session.closed && !this.session.destroyed;
  }

  /** Whether no stream is on the wire (closeIdle may close it). */
  get idleNow(): boolean {
    return this.active === 0;
  }

  /** Starts `ex` as a new stream. */
  request(ex: Exchange): void {
    if (this.active === 0) this.session.ref();
    this.active++;
    const s = new H2Stream(this, ex);
    this.streams.add(s);
    s.start(this.session);
  }

  /** Charges the socket bytes since the last settled stream to `ex`; returns the socket's counters. */
  account(ex: Exchange): [number, number] {
    const r = this.raw.bytesRead;
    const w = this.raw.bytesWritten;
    ex.readMark = this.readMark;
    ex.writeMark = this.writeMark;
    this.readMark = r;
    this.writeMark = w;
    return [r, w];
  }

  /** A stream is over. */
  streamDone(s: H2Stream): void {
    if (!this.streams.delete(s)) return;
    this.active--;
    if (this.active > 0) return;
    if (!this.shared || this.goingAway) {
      this.destroy();
      return;
    }
    this.session.unref();
  }

  /** The error to give a stream that ended because the session went away. */
  goneError(): RequestError {
    if (this.goAwayCode >= 0) return h2GoAwayError(this.goAwayLast, this.goAwayCode);
    return new RequestError(K6ErrorCode.generic, 'unexpected EOF');
  }

  /** Closes the session now; its streams fail. Safe to call twice. */
  destroy(): void {
    if (!this.dead) {
      this.dead = true;
      this.session.destroy();
      this.raw.destroy();
    }
    this.pool.h2Closed(this, true);
  }

  private onGoAway(code: number, last: number): void {
    this.goingAway = true;
    this.goAwayCode = code;
    this.goAwayLast = last;
    this.pool.h2Closed(this, false);
    if (this.active === 0) this.destroy();
  }

  private onSessionError(err: Error): void {
    const e = err as Error & { code?: string; errno?: number };
    let re: RequestError;
    if (e.code === 'ERR_HTTP2_SESSION_ERROR' && typeof e.errno === 'number') re = h2ConnectionError(e.errno);
    else if (e.code === 'ERR_HTTP2_ERROR') re = new RequestError(K6ErrorCode.http2Generic, `http2: ${e.message}`);
    else re = classifyError(err, 'exchange', this.servername, this.addr);
    this.failAll(re);
  }

  private onSessionClose(): void {
    this.dead = true;
    this.pool.h2Closed(this, true);
    this.failAll(this.goneError());
  }

  private failAll(err: RequestError): void {
    for (const s of [...this.streams]) s.fail(err);
    this.destroy();
  }
}

/** One exchange on an HTTP/2 session. */
class H2Stream implements Carrier {
  private stream: ClientHttp2Stream | null = null;
  private done = false;
  private status = 0;
  private headers: string[] = [];
  private encoding = '';
  private readonly body: Buffer[] = [];
  private bodyLength = 0;
  private started = false;

  constructor(
    private readonly session: H2Session,
    private readonly ex: Exchange,
  ) {
    ex.attached(this);
  }

  get remoteIp(): string {
    return this.session.remoteIp;
  }

  get remotePort(): number {
    return this.session.remotePort;
  }

  get tlsVersion(): string {
    return this.session.tlsVersion;
  }

  get tlsCipher(): string {
    return this.session.tlsCipher;
  }

  start(session: ClientHttp2Session): void {
    const ex = this.ex;
    const t = ex.times;
    t.gotConn = performance.now();
    const body = ex.req.body;
    const hasBody = body !== null && body.length > 0;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(h2Headers(ex.req.head), { endStream: !hasBody });
    } catch (e) {
      this.fail(new RequestError(K6ErrorCode.generic, `net/http: ${(e as Error).message}`));
      return;
    }
    this.stream = stream;
    stream.on('finish', () => {
      if (t.wrote === 0) t.wrote = performance.now();
    });
    stream.on('response', (h: IncomingHttpHeaders) => this.onResponse(h));
    stream.on('data', (chunk: Buffer) => {
      this.bodyLength += chunk.length;
      if (ex.req.keepBody) this.body.push(chunk);
    });
    stream.on('end', () => this.onEnd());
    stream.on('error', (err: Error) => this.onError(err));
    stream.on('close', () => this.onClose());
    if (hasBody) stream.end(body);
  }

  /** Exchange.fail → cancel the stream, keep the session. */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    const s = this.stream;
    if (s !== null && !s.closed) s.close(constants.NGHTTP2_CANCEL);
    this.session.streamDone(this);
  }

  /** Ends the exchange with `err`. */
  fail(err: RequestError): void {
    if (this.done) return;
    this.done = true;
    const s = this.stream;
    if (s !== null && !s.closed) s.close(constants.NGHTTP2_CANCEL);
    const [r, w] = this.session.account(this.ex);
    this.session.streamDone(this);
    this.ex.failed(err, this.started, r, w);
  }

  private onResponse(h: IncomingHttpHeaders): void {
    const t = this.ex.times;
    const now = performance.now();
    this.started = true;
    t.firstByte = now;
    if (t.wrote === 0) t.wrote = now;
    this.status = Number(h[':status']);
    const f = flatHeaders(h);
    this.headers = f.list;
    this.encoding = f.encoding;
  }

  private onEnd(): void {
    if (this.done) return;
    if (!this.started) {
      this.fail(new RequestError(K6ErrorCode.generic, 'unexpected EOF'));
      return;
    }
    this.done = true;
    const [r, w] = this.session.account(this.ex);
    this.session.streamDone(this);
    this.ex.completedH2(this.status, STATUS_CODES[this.status] ?? '', this.headers, this.encoding, this.body, this.bodyLength, r, w);
  }

  private onError(err: Error): void {
    if (this.done) return;
    const e = err as Error & { code?: string };
    const s = this.stream;
    if (e.code === 'ERR_HTTP2_STREAM_ERROR' && s !== null) {
      this.fail(h2StreamError(s.id ?? 0, s.rstCode ?? 0));
    } else if (e.code === 'ERR_HTTP2_GOAWAY_SESSION' || e.code === 'ERR_HTTP2_STREAM_CANCEL') {
      this.fail(this.session.goneError());
    } else {
      this.fail(classifyError(err, 'exchange', this.session.servername, this.session.addr));
    }
  }

  private onClose(): void {
    if (this.done) return;
    const s = this.stream;
    const code = s?.rstCode ?? 0;
    if (code !== 0 && code !== constants.NGHTTP2_NO_ERROR) this.fail(h2StreamError(s?.id ?? 0, code));
    else this.fail(this.session.dead ? this.session.goneError() : new RequestError(K6ErrorCode.generic, 'unexpected EOF'));
  }
}
