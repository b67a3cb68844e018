import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleRequest } from './routes.js';
import { createWsEcho } from './ws-echo.js';

/** Where and how to listen. */
export interface TargetOptions {
  /** TCP port; 0 picks a free one. Default 8099, as for `herd target`. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
}

/** A running target server. */
export interface RunningTarget {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:8099`. */
  url: string;
  /** The port actually bound (useful with port 0). */
  port: number;
  /** Stops accepting, drops every open connection and WebSocket, resolves once closed. */
  close(): Promise<void>;
}

/** Default port of the target, shared with the `herd target` command. */
export const DEFAULT_TARGET_PORT = 8099;
/** Default bind address: loopback only, the target is not meant to be exposed. */
export const DEFAULT_TARGET_HOST = '127.0.0.1';

/** Starts the httpbin-style test target of TARGET.md; resolves once it accepts connections. */
export async function startTarget(opts: TargetOptions = {}): Promise<RunningTarget> {
  const host = opts.host ?? DEFAULT_TARGET_HOST;
  const server = createServer(
    {
      // Slow tests (long `/delay`, slow uploads) must not be cut off by Node's defaults
      // (300 s per request, 60 s for headers); 0 disables both.
      requestTimeout: 0,
      headersTimeout: 0,
      noDelay: true,
    },
    handleRequest,
  );
  // Load generators keep connections open between iterations; Node's 5 s default would
  // close them under a slow ramp and show up as spurious reconnects.
  server.keepAliveTimeout = 60_000;
  server.timeout = 0;

  const ws = createWsEcho();
  server.on('upgrade', ws.onUpgrade);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_TARGET_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        // Upgraded sockets are no longer tracked by the HTTP server, so WebSockets are
        // terminated separately; then every HTTP connection, idle or mid-request, is cut.
        ws.close();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
