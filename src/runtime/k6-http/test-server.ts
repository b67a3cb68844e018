/**
 * Small servers for k6/http tests of what the shared target (src/target) does not do on
 * purpose: chunked and compressed bodies, Connection: close, bodies without a length,
 * hanging requests, repeated headers, cookie attributes, raw byte-exact answers, HTTPS.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createSecureServer, type SecureServerOptions } from 'node:http2';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { gzipSync, brotliCompressSync, deflateSync } from 'node:zlib';

/** A running fixture server. */
export interface Fixture {
  readonly url: string;
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const JSON_DOC = JSON.stringify({ hello: 'world', list: [1, 2, 3] });

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const body = await readBody(req);
  switch (url.pathname) {
    case '/echo':
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ method: req.method, body: body.toString('utf8'), headers: req.headers, rawHeaders: req.rawHeaders }));
      return;
    case '/gzip':
      res.setHeader('Content-Encoding', 'gzip');
      res.end(gzipSync(JSON_DOC));
      return;
    case '/br':
      res.setHeader('Content-Encoding', 'br');
      res.end(brotliCompressSync(JSON_DOC));
      return;
    case '/deflate':
      res.setHeader('Content-Encoding', 'deflate');
      res.end(deflateSync(JSON_DOC));
      return;
    case '/chunked':
      // No Content-Length: node:http sends the pieces with chunked transfer coding.
      res.write('first,');
      setTimeout(() => {
        res.write('second,');
        res.end('third');
      }, 20);
      return;
    case '/close':
      res.setHeader('Connection', 'close');
      res.end('bye');
      return;
    case '/version':
      res.end(req.httpVersion);
      return;
    case '/peer': {
      const sock = req.socket as Partial<TLSSocket>;
      const cn = typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate().subject?.CN : undefined;
      res.end(cn ?? '');
      return;
    }
    case '/set-cookie':
      res.statusCode = 302;
      res.setHeader('Set-Cookie', 'h2=yes; Path=/');
      res.setHeader('Location', '/echo');
      res.end();
      return;
    case '/hang':
      return;
    case '/no-content':
      res.statusCode = 204;
      res.end();
      return;
    case '/multi':
      res.setHeader('X-Multi', ['a', 'b']);
      res.end('ok');
      return;
    case '/attrs':
      res.setHeader('Set-Cookie', [
        'plain=1',
        'scoped=2; Path=/attrs/sub; HttpOnly',
        'aged=3; Max-Age=100; Secure',
        'gone=4; Max-Age=0',
      ]);
      res.end('ok');
      return;
    case '/303':
      res.statusCode = 303;
      res.setHeader('Location', '/echo');
      res.end();
      return;
    case '/307':
      res.statusCode = 307;
      res.setHeader('Location', '/echo');
      res.end();
      return;
    default:
      res.statusCode = 404;
      res.end('not found');
  }
}

function listen(server: Server | NetServer, scheme: string): Promise<Fixture> {
  let count = 0;
  const sockets = new Set<Socket>();
  const onConn = (s: Socket): void => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  server.on(scheme === 'https' ? 'secureConnection' : 'connection', onConn);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `${scheme}://127.0.0.1:${port}`,
        connections: () => count,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Starts the node:http fixture server. */
export function startFixture(): Promise<Fixture> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  return listen(server, 'http');
}

/** Starts an HTTPS (HTTP/1.1 only) fixture server with the given PEM key and certificate. */
export function startHttpsFixture(key: string, cert: string, extra: HttpsServerOptions = {}): Promise<Fixture> {
  const server = createHttpsServer({ ...extra, key, cert }, (req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  return listen(server, 'https');
}

/** Starts a TCP server that answers every connection with `reply(requestHead)` bytes, then closes it if `close`. */
export function startRawServer(reply: (head: string) => Buffer | string, close: boolean): Promise<Fixture> {
  const server = createNetServer((socket) => {
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      socket.write(reply(head));
      if (close) socket.end();
    });
    socket.on('error', () => socket.destroy());
  });
  return listen(server, 'http');
}

/** Starts an HTTP/2 fixture server (TLS, ALPN h2 with HTTP/1.1 fallback) on the same routes. */
export function startH2Fixture(key: string, cert: string, extra: SecureServerOptions = {}): Promise<Fixture> {
  const server = createSecureServer({ ...extra, key, cert, allowHTTP1: true }, (req, res) => {
    // The compatibility API mirrors node:http's closely enough for these routes.
    handle(req as unknown as IncomingMessage, res as unknown as ServerResponse).catch(() => res.stream?.close());
  });
  server.on('sessionError', () => undefined);
  return listen(server as unknown as Server, 'https');
}

/** A self-signed certificate and its key (PEM), valid for localhost and 127.0.0.1. */
export interface TestCert {
  readonly key: string;
  readonly cert: string;
}

/** Makes a self-signed certificate with the openssl CLI (`cn` as subject); null when openssl is missing. */
export function makeCert(cn = 'localhost'): TestCert | null {
  const dir = mkdtempSync(join(tmpdir(), 'herd-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${cn}`,
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
