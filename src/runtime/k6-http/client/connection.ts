import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Exchange } from './exchange.js';
import { H2Session } from './h2-session.js';
import type { ConnectionPool } from './pool.js';
import { ResponseParser } from './response-parser.js';
import { RequestError, K6ErrorCode, classifyError, type FailurePhase } from './request-error.js';

const TLS_VERSIONS: Record<string, string> = {
  TLSv1: 'tls1.0',
  'TLSv1.1': 'tls1.1',
  'TLSv1.2': 'tls1.2',
  'TLSv1.3': 'tls1.3',
};

/** Where to open a connection. */
export interface ConnectTarget {
  /** Pool key: scheme, host and port. */
  readonly key: string;
  /** IP address to connect to. */
  readonly address: string;
  readonly port: number;
  readonly tls: boolean;
  /** Host name for SNI and certificate checks. */
  readonly servername: string;
  readonly rejectUnauthorized: boolean;
}

/** Offered on every TLS connection; the server picks, and HTTP/1.1 servers ignore it or pick http/1.1. */
const ALPN = ['h2', 'http/1.1'];

/**
 * Where plain-TCP connections of this thread read into (net's `onread`). A read is handled
 * to the end before the next one starts, so one buffer serves every socket; the parser
 * copies out the few bytes it keeps. That saves the Buffer Node would allocate per read and
 * the readable stream's push and 'data' event, a good part of a small response's cost.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const EMPTY = Buffer.alloc(0);

/**
 * The Connection a socket belongs to. Socket events call their listeners with the socket as
 * `this`, so one set of listener functions serves every connection: five bound functions per
 * connection were a good part of what a VU's first request leaves for the collector.
 */
const CONNECTION = Symbol('herd connection');
type Owned = (Socket | TLSSocket) & { [CONNECTION]?: Connection };

function connectionOf(s: Owned): Connection | undefined {
  return s[CONNECTION];
}
function onSocketConnect(this: Owned): void {
  connectionOf(this)?.socketConnected();
}
function onSocketSecureConnect(this: Owned): void {
  connectionOf(this)?.socketSecured();
}
function onSocketData(this: Owned, chunk: Buffer): void {
  connectionOf(this)?.socketData(chunk);
}
function onSocketEnd(this: Owned): void {
  connectionOf(this)?.socketEnded();
}
function onSocketError(this: Owned, err: Error): void {
  connectionOf(this)?.socketFailed(err);
}
function onSocketClose(this: Owned): void {
  connectionOf(this)?.socketClosed();
}

/**
 * One HTTP/1.1 connection (TCP, optionally TLS) carrying one exchange at a time.
 * Socket events reach it through shared listener functions (see CONNECTION); the parser is reused.
 */
export class Connection {
  /** The pool key this connection belongs to. */
  readonly key: string;
  /** Set once the socket is closed or failed. */
  dead = false;
  /** Whether it sits in the pool's idle list. */
  idle = false;
  /** Remote IP and port. */
  readonly remoteIp: string;
  readonly remotePort: number;
  /** k6-style TLS version ("tls1.3"), '' for plain HTTP. */
  tlsVersion = '';
  /** TLS cipher suite name, '' for plain HTTP. */
  tlsCipher = '';
  /** Requests carried so far. */
  uses = 0;
  /**
   * Bytes read and written on a plain-TCP socket, counted here: net's own `bytesWritten`
   * copies its write queue into a new array on every read of it. TLS sockets use net's
   * counters of the raw socket, which include the TLS records.
   */
  private readCount = 0;
  private writeCount = 0;

  private readonly raw: Socket;
  private readonly socket: Socket | TLSSocket;
  private readonly parser: ResponseParser;
  private readonly isTls: boolean;
  private connected = false;
  private ready = false;
  private ex: Exchange | null = null;
  private readonly addr: string;
  private readonly servername: string;
  private onWritten: (() => void) | null = null;

  constructor(
    private readonly pool: ConnectionPool,
    target: ConnectTarget,
    first: Exchange,
  ) {
    this.key = target.key;
    this.remoteIp = target.address;
    this.remotePort = target.port;
    this.isTls = target.tls;
    this.servername = target.servername;
    this.addr = target.address.includes(':') ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`;
    this.ex = first;
    first.times.connectStart = performance.now();
    // Plain TCP reads into the shared buffer, so its parser must copy what it keeps.
    this.parser = new ResponseParser(!target.tls);
    // onread's callback gets no socket to find this connection by: it stays a bound function.
    this.raw = target.tls
      ? netConnect({ host: target.address, port: target.port, noDelay: true })
      : netConnect({ host: target.address, port: target.port, noDelay: true, onread: { buffer: READ_BUFFER, callback: this.onRead.bind(this) } });
    (this.raw as Owned)[CONNECTION] = this;
    this.raw.on('connect', onSocketConnect);
    if (target.tls) {
      const sock = tlsConnect({
        socket: this.raw,
        servername: isIP(target.servername) === 0 ? target.servername : undefined,
        rejectUnauthorized: target.rejectUnauthorized,
        ALPNProtocols: ALPN,
        secureContext: pool.tls.contextFor(target.servername),
      });
      (sock as Owned)[CONNECTION] = this;
      sock.on('secureConnect', onSocketSecureConnect);
      this.raw.on('error', onSocketError);
      this.socket = sock;
      // 'data' is bound once ALPN chose HTTP/1.1: bytes must not flow before an HTTP/2 session may take the socket.
      sock.on('end', onSocketEnd);
      sock.on('error', onSocketError);
      sock.on('close', onSocketClose);
    } else {
      this.socket = this.raw;
      // A plain socket never holds the process: while it carries a request, that request's
      // timeout timer does (see DeadlineWatch), so no ref/unref is needed per request.
      this.raw.unref();
      this.socket.on('end', onSocketEnd);
      this.socket.on('error', onSocketError);
      this.socket.on('close', onSocketClose);
    }
    pool.opened(this);
    this.parser.begin(first.req.method === 'HEAD', first.req.keepBody);
    first.attached(this);
  }

  /** Bytes written to / read from the TCP socket so far (TLS records included). */
  get bytesWritten(): number {
    return this.isTls ? this.raw.bytesWritten : this.writeCount;
  }
  get bytesRead(): number {
    return this.isTls ? this.raw.bytesRead : this.readCount;
  }

  /** Starts `ex` on this idle, ready connection. */
  assign(ex: Exchange): void {
    this.ex = ex;
    if (this.isTls) this.socket.ref();
    this.parser.begin(ex.req.method === 'HEAD', ex.req.keepBody);
    ex.attached(this);
    this.send(ex);
  }

  /** Drops the current exchange (it failed or was aborted) and closes the socket. */
  abandon(): void {
    this.ex = null;
    this.destroy();
  }

  /** Closes the socket now. Safe to call twice. */
  destroy(): void {
    if (!this.dead) {
      this.dead = true;
      this.socket.destroy();
      if (this.socket !== this.raw) this.raw.destroy();
    }
    this.pool.closed(this);
  }

  /** 'connect' of the TCP socket. */
  socketConnected(): void {
    this.connected = true;
    const ex = this.ex;
    if (ex !== null) ex.times.connectEnd = performance.now();
    if (!this.isTls) this.onReady();
  }

  /** 'secureConnect' of the TLS socket. */
  socketSecured(): void {
    const sock = this.socket as TLSSocket;
    const proto = sock.getProtocol();
    this.tlsVersion = proto === null ? '' : (TLS_VERSIONS[proto] ?? proto);
    this.tlsCipher = sock.getCipher()?.standardName ?? '';
    const ex = this.ex;
    if (ex !== null) ex.times.tlsEnd = performance.now();
    if (sock.alpnProtocol === 'h2') {
      this.handOff(sock);
      return;
    }
    sock.on('data', onSocketData);
    this.onReady();
  }

  /** The server chose HTTP/2: an H2Session takes over the socket and the waiting exchange. */
  private handOff(sock: TLSSocket): void {
    const ex = this.ex;
    this.ex = null;
    sock.off('end', onSocketEnd);
    sock.off('error', onSocketError);
    sock.off('close', onSocketClose);
    this.raw.off('error', onSocketError);
    (sock as Owned)[CONNECTION] = undefined;
    (this.raw as Owned)[CONNECTION] = undefined;
    // The pool forgets this connection; the socket now belongs to the session.
    this.dead = true;
    this.pool.closed(this);
    if (ex === null) {
      sock.destroy();
      return;
    }
    new H2Session(this.pool, {
      key: this.key,
      remoteIp: this.remoteIp,
      remotePort: this.remotePort,
      tlsVersion: this.tlsVersion,
      tlsCipher: this.tlsCipher,
      servername: this.servername,
      addr: this.addr,
    }, sock, this.raw, ex);
  }

  private onReady(): void {
    this.ready = true;
    const ex = this.ex;
    if (ex !== null) this.send(ex);
  }

  private send(ex: Exchange): void {
    this.uses++;
    // An exchange that took an idle connection at once has it since it started (see Exchange).
    if (ex.times.gotConn === 0) ex.times.gotConn = performance.now();
    ex.readMark = this.bytesRead;
    ex.writeMark = this.bytesWritten;
    const body = ex.req.body;
    const s = this.socket;
    const head = ex.req.headBytes;
    if (!this.isTls) this.writeCount += head.length + (body === null ? 0 : body.length);
    if (body === null || body.length === 0) {
      // A head alone nearly always goes out in the write call itself: stamp it then, without
      // the callback (a WriteWrap callback and a nextTick per request). Otherwise an empty
      // write after it calls back once the head is out.
      s.write(head);
      if (s.writableLength === 0) ex.times.wrote = performance.now();
      else s.write(EMPTY, this.written());
    } else {
      // One writev for head and body.
      s.cork();
      s.write(head);
      s.write(body, this.written());
      s.uncork();
    }
  }

  /** The write callback that stamps `wrote`: made once per connection, when first needed (most heads go out at once). */
  private written(): () => void {
    return (this.onWritten ??= (): void => {
      const ex = this.ex;
      if (ex !== null && ex.times.wrote === 0) ex.times.wrote = performance.now();
    });
  }

  /** net's `onread` callback of a plain-TCP socket: `buf` is READ_BUFFER, valid only during this call. */
  private onRead(n: number, _buf: Uint8Array): boolean {
    this.readCount += n;
    // The buffer and the length, not a view of the bytes read: a Buffer view per read costs more than parsing a small response.
    this.onData(READ_BUFFER, n);
    return true;
  }

  /** 'data' of a TLS socket that speaks HTTP/1.1. */
  socketData(chunk: Buffer): void {
    this.onData(chunk, chunk.length);
  }

  private onData(chunk: Buffer, length: number): void {
    const ex = this.ex;
    if (ex === null) {
      // Bytes nobody asked for on an idle connection: it cannot be trusted any more.
      this.destroy();
      return;
    }
    const t = ex.times;
    let arrived = 0;
    if (t.firstByte === 0) {
      arrived = t.firstByte = performance.now();
      if (t.wrote === 0) t.wrote = arrived;
    }
    let done: boolean;
    try {
      done = this.parser.execute(chunk, length);
    } catch (e) {
      this.fail(new RequestError(K6ErrorCode.generic, `malformed HTTP response: ${(e as Error).message}`));
      return;
    }
    // A response that came in one read ended when it arrived (receiving time 0).
    if (done) this.complete(ex, arrived);
  }

  /** `end`: when the response's last byte arrived, 0 for now. */
  private complete(ex: Exchange, end = 0): void {
    this.ex = null;
    const reusable = this.parser.keepAlive && ex.req.reuse && !this.dead;
    ex.completed(this.parser, this.bytesRead, this.bytesWritten, end);
    this.parser.release();
    if (reusable) {
      if (this.isTls) this.socket.unref();
      this.pool.release(this);
    } else {
      this.destroy();
    }
    // Last: the exchange's listener may start the next request on this connection.
    ex.finish();
  }

  private fail(err: RequestError): void {
    const ex = this.ex;
    this.ex = null;
    this.destroy();
    if (ex !== null) ex.failed(err, this.parser.started, this.bytesRead, this.bytesWritten);
  }

  private phase(): FailurePhase {
    if (!this.connected) return 'connect';
    if (!this.ready) return 'tls';
    return 'exchange';
  }

  /** 'end' of the socket. */
  socketEnded(): void {
    const ex = this.ex;
    if (ex !== null && this.parser.eof()) {
      this.complete(ex);
      return;
    }
    this.endedEarly();
  }

  /** 'close' of the socket. */
  socketClosed(): void {
    const ex = this.ex;
    if (ex !== null && this.ready && this.parser.eof()) {
      this.complete(ex);
      return;
    }
    this.endedEarly();
  }

  private endedEarly(): void {
    if (this.ex === null) {
      this.destroy();
      return;
    }
    const msg = this.parser.started ? 'unexpected EOF' : 'EOF';
    this.fail(new RequestError(K6ErrorCode.generic, this.ready ? msg : `${this.phase() === 'tls' ? 'remote error: tls: handshake failure' : msg}`));
  }

  /** 'error' of either socket. */
  socketFailed(err: Error): void {
    const ex = this.ex;
    if (ex === null) {
      this.destroy();
      return;
    }
    this.fail(classifyError(err, this.phase(), this.servername, this.addr));
  }
}
