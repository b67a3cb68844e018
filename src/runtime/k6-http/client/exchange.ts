import { Connection, type ConnectTarget } from './connection.js';
import type { ConnectionPool } from './pool.js';
import type { ResolvedAddress } from './dns-cache.js';
import type { ResponseParser } from './response-parser.js';
import { PhaseTimes } from './timings.js';
import { RequestError, K6ErrorCode, classifyError } from './request-error.js';

/** One request as the client sends it: the head is already serialized. */
export interface ClientRequest {
  /** Upper-case method; HEAD responses have no body. */
  readonly method: string;
  readonly tls: boolean;
  /** Host name for SNI and DNS (no IPv6 brackets). */
  readonly hostname: string;
  /** Name or IP to connect to (the `hosts` option may point a name elsewhere). */
  readonly connectHost: string;
  readonly port: number;
  /** Request line, headers and the empty line (HTTP/2 reads its headers from it). */
  readonly head: string;
  /** `head` as UTF-8 bytes, as Go sends header bytes: what an HTTP/1.1 connection writes. */
  readonly headBytes: Buffer;
  readonly body: Buffer | null;
  /** false discards the body as it arrives (responseType 'none'). */
  readonly keepBody: boolean;
  /** Whole-request timeout in ms. */
  readonly timeoutMs: number;
  /** false closes the connection afterwards (noConnectionReuse). */
  readonly reuse: boolean;
  readonly rejectUnauthorized: boolean;
  /** Connections are shared by requests with equal keys: scheme, connect host, port, SNI name. */
  readonly poolKey: string;
}

/** What carries an exchange: an HTTP/1.1 connection, or a stream of an HTTP/2 session. */
export interface Carrier {
  readonly remoteIp: string;
  readonly remotePort: number;
  readonly tlsVersion: string;
  readonly tlsCipher: string;
  /** Drops the exchange (it failed, timed out or was aborted). Safe to call twice. */
  abandon(): void;
}

/** Errors on a reused connection before any response byte mean the server closed it meanwhile. */
const RETRYABLE = new Set<number>([K6ErrorCode.generic, K6ErrorCode.resetByPeer, K6ErrorCode.brokenPipe]);

/**
 * The owner of exchanges: told when one starts and when it is over. An exchange with an
 * observer leaves its timeout to it (see DeadlineWatch); one without sets its own timer.
 */
export interface ExchangeObserver {
  exchangeStarted(ex: Exchange): void;
  exchangeSettled(ex: Exchange): void;
}

/**
 * Told when an exchange is over, synchronously, by whatever ended it (the connection that read
 * the last byte, a timeout, an abort). A request's next step runs then, without the promise
 * and the microtask turn an awaited exchange costs. By then the connection is back in the pool.
 */
export interface ExchangeListener {
  exchangeDone(ex: Exchange): void;
}

function onTimeout(ex: Exchange): void {
  ex.timeOut();
}

/**
 * One request/response on the wire, and its outcome. The timer takes the exchange as its
 * argument, so no closure is made per request; cancellation comes through `abort`, called by
 * whoever watches the VU's signal (one listener per VU, not one per request).
 */
export class Exchange {
  /** Phase marks. */
  readonly times = new PhaseTimes();
  /** Outcome; status 0 when `error` is set. */
  status = 0;
  reason = '';
  /** 2 for HTTP/2 (res.proto 'HTTP/2.0'), else 1. */
  httpMajor = 1;
  httpMinor = 1;
  /** Response headers, flattened [name, value, …], as received. */
  headers: string[] = [];
  /** Raw (still encoded) body, null when discarded or absent. */
  body: Buffer | null = null;
  /** Lower-cased Content-Encoding. */
  contentEncoding = '';
  remoteIp = '';
  remotePort = 0;
  tlsVersion = '';
  tlsCipher = '';
  /** Bytes written/read on the socket for this exchange (TLS handshake included on a new connection). */
  bytesSent = 0;
  bytesReceived = 0;
  error: RequestError | null = null;
  /** Set when the signal aborted the request: its reason. */
  aborted: unknown = undefined;
  /** Byte counters of the connection when this exchange started on it. */
  readMark = 0;
  writeMark = 0;
  /** performance.now() time at which the exchange times out. */
  deadline = Infinity;

  private conn: Carrier | null = null;
  private reused = false;
  private retried = false;
  private settled = false;
  /** A complete response was taken; `finish` settles. */
  private responded = false;
  private timer: NodeJS.Timeout | null = null;
  private listener: ExchangeListener | null = null;

  constructor(
    /** The request. */
    readonly req: ClientRequest,
    private readonly pool: ConnectionPool,
    private readonly observer: ExchangeObserver | null = null,
  ) {}

  /** Starts the exchange; the promise always resolves (failures are in `error`). */
  run(): Promise<Exchange> {
    return new Promise<Exchange>((resolve) => {
      this.start({ exchangeDone: resolve });
    });
  }

  /** Starts the exchange; `listener` hears once when it is over (failures are in `error`). */
  start(listener: ExchangeListener): void {
    const start = performance.now();
    this.times.start = start;
    this.deadline = start + this.req.timeoutMs;
    this.listener = listener;
    if (this.observer === null) this.timer = setTimeout(onTimeout, this.req.timeoutMs, this);
    else this.observer.exchangeStarted(this);
    this.acquire();
  }

  /** Cancels the exchange now; `aborted` keeps `reason` for the caller to rethrow. */
  abort(reason: unknown): void {
    if (this.settled) return;
    this.aborted = reason ?? new Error('aborted');
    this.fail(new RequestError(K6ErrorCode.generic, 'request aborted'));
  }

  /** Ends the exchange with k6's timeout error (its deadline passed). */
  timeOut(): void {
    this.fail(new RequestError(K6ErrorCode.timeout, 'request timeout'));
  }

  /** Called by the connection when it takes this exchange. */
  attached(conn: Carrier): void {
    this.conn = conn;
    this.remoteIp = conn.remoteIp;
    this.remotePort = conn.remotePort;
  }

  /**
   * Called by the connection when the response is complete; `end` is when its last byte came
   * (0: now). It takes what it needs from the parser; the connection then frees the parser
   * and itself and calls `finish`, so the listener may reuse the connection at once.
   */
  completed(p: ResponseParser, bytesRead: number, bytesWritten: number, end = 0): void {
    if (this.settled) return;
    this.times.end = end > 0 ? end : performance.now();
    this.status = p.statusCode;
    this.reason = p.reason;
    this.httpMinor = p.httpMinor;
    this.headers = p.headers;
    this.contentEncoding = p.contentEncoding;
    this.body = this.req.keepBody && p.body.length > 0 ? (p.body.length === 1 ? (p.body[0] as Buffer) : Buffer.concat(p.body, p.bodyLength)) : null;
    if (this.req.keepBody && this.body === null) this.body = EMPTY;
    this.count(bytesRead, bytesWritten);
    this.responded = true;
  }

  /** Ends an exchange whose response `completed` took. */
  finish(): void {
    if (this.responded && !this.settled) this.settle();
  }

  /** Called by an HTTP/2 stream when its response is complete; `body` holds the kept chunks. */
  completedH2(status: number, reason: string, headers: string[], contentEncoding: string, body: Buffer[], bodyLength: number, bytesRead: number, bytesWritten: number): void {
    if (this.settled) return;
    this.times.end = performance.now();
    this.httpMajor = 2;
    this.httpMinor = 0;
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    this.contentEncoding = contentEncoding;
    this.body = this.req.keepBody ? (body.length === 0 ? EMPTY : body.length === 1 ? (body[0] as Buffer) : Buffer.concat(body, bodyLength)) : null;
    this.count(bytesRead, bytesWritten);
    this.settle();
  }

  /** Called by the connection when it failed during this exchange. */
  failed(err: RequestError, responseStarted: boolean, bytesRead: number, bytesWritten: number): void {
    if (this.settled) return;
    this.count(bytesRead, bytesWritten);
    if (this.reused && !this.retried && !responseStarted && RETRYABLE.has(err.k6Code)) {
      // The server closed the idle connection as we reused it: try once on a new one.
      this.retried = true;
      this.conn = null;
      this.times.gotConn = 0;
      this.times.wrote = 0;
      this.openNew();
      return;
    }
    this.fail(err);
  }

  /** Ends the exchange with `err` now (timeout, abort, connection failure). */
  fail(err: RequestError): void {
    if (this.settled) return;
    this.error = err;
    this.status = 0;
    const c = this.conn;
    this.conn = null;
    if (c !== null) c.abandon();
    this.times.end = performance.now();
    this.settle();
  }

  private count(bytesRead: number, bytesWritten: number): void {
    this.bytesReceived += bytesRead - this.readMark;
    this.bytesSent += bytesWritten - this.writeMark;
    this.readMark = bytesRead;
    this.writeMark = bytesWritten;
  }

  private settle(): void {
    this.settled = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const c = this.conn;
    if (c !== null) {
      this.tlsVersion = c.tlsVersion;
      this.tlsCipher = c.tlsCipher;
    }
    this.conn = null;
    if (this.observer !== null) this.observer.exchangeSettled(this);
    const l = this.listener;
    this.listener = null;
    if (l !== null) l.exchangeDone(this);
  }

  private acquire(): void {
    const key = this.req.poolKey;
    if (this.req.reuse) {
      const c = this.pool.takeIdle(key);
      if (c !== undefined) {
        this.reused = true;
        // No wait for a connection: blocked ends where the exchange started (one clock read less).
        this.times.gotConn = this.times.start;
        c.assign(this);
        return;
      }
      if (this.req.tls) {
        const s = this.pool.h2For(key);
        if (s !== undefined) {
          this.reused = true;
          s.request(this);
          return;
        }
      }
    }
    this.openNew();
  }

  private openNew(): void {
    this.reused = false;
    const host = this.req.connectHost;
    const hit = this.pool.dns.peek(host);
    if (hit !== undefined) {
      this.connectTo(hit);
      return;
    }
    this.pool.dns.resolve(host).then(
      (a) => this.connectTo(a),
      (e: unknown) => this.fail(classifyError(e, 'dns', host, host)),
    );
  }

  private connectTo(a: ResolvedAddress): void {
    if (this.settled) return;
    const target: ConnectTarget = {
      key: this.req.poolKey,
      address: a.address,
      port: this.req.port,
      tls: this.req.tls,
      servername: this.req.hostname,
      rejectUnauthorized: this.req.rejectUnauthorized,
    };
    this.readMark = 0;
    this.writeMark = 0;
    new Connection(this.pool, target, this);
  }
}

const EMPTY = Buffer.alloc(0);

/** Sends `req` over a pooled or new connection; resolves with the finished exchange. */
export function send(pool: ConnectionPool, req: ClientRequest): Promise<Exchange> {
  return new Exchange(req, pool).run();
}
