import { HerdError } from '../../errors/index.js';
import type { VuState } from '../vu-state.js';
import { dialWs } from './dial.js';
import { parseWsParams } from './params.js';
import { SocketSession, type Socket } from './socket.js';

/** What `ws.connect` returns: the handshake response, k6's WSHTTPResponse. */
export interface WsResponse {
  readonly url: string;
  /** 101 after a successful handshake; the server's status when it refused; 0 when none came back. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** '' on success, else why the connection failed. */
  readonly error: string;
  /** 0 on success, else k6's error code when one applies. */
  readonly error_code: number;
}

/** The script's connect callback. */
export type ConnectCallback = (socket: Socket) => unknown;

/** Throws k6's init-context error: sockets are only allowed once the test runs. */
export function assertNotInitContext(vu: VuState): void {
  if (vu.phase === 'init') {
    throw new HerdError('init_context_only', 'using websockets in the init context is not supported', {
      hint: 'open WebSockets in the default function, setup() or teardown()',
    });
  }
}

function splitArgs(args: readonly unknown[]): { params: unknown; callback: ConnectCallback } {
  let params: unknown;
  let callback: unknown;
  if (args.length === 1) {
    callback = args[0];
  } else if (args.length === 2) {
    params = args[0];
    callback = args[1];
  } else {
    throw new HerdError('script_exception', 'invalid number of arguments to ws.connect');
  }
  if (typeof callback !== 'function') {
    throw new HerdError('script_exception', 'last argument to ws.connect must be a function');
  }
  return { params, callback: callback as ConnectCallback };
}

/**
 * k6/ws `connect(url, [params], callback)`. Arguments are checked synchronously (so a misuse
 * throws where it is written); the returned promise settles once the socket is closed: with
 * the handshake response, with a response carrying `error` when the connection failed (or an
 * exception under `options.throw`), rejected with a handler's exception, or rejected with the
 * VU's stop reason when the VU is stopped. herd's script transform awaits every `connect`
 * call, which makes it block as it does in k6.
 */
export function connect(vu: VuState, url: unknown, args: readonly unknown[]): Promise<WsResponse> {
  assertNotInitContext(vu);
  const { params: rawParams, callback } = splitArgs(args);
  const params = parseWsParams(rawParams, 'ws.connect');
  return run(vu, String(url), params, callback);
}

async function run(vu: VuState, url: string, params: ReturnType<typeof parseWsParams>, callback: ConnectCallback): Promise<WsResponse> {
  const signal = vu.signal;
  if (signal.aborted) throw signal.reason;
  const result = await dialWs(vu, { url, protocols: [], params, signal, nameTag: false });
  if (signal.aborted) {
    if (result.ok) result.connection.abort();
    throw signal.reason;
  }
  if (!result.ok) {
    if (vu.test.options.throw) throw new HerdError('script_exception', result.error.message);
    vu.test.logger.log('warn', 'Attempt to establish a WebSocket connection failed', { error: result.error.message });
    const hs = result.handshake;
    return {
      url,
      status: hs?.status ?? 0,
      headers: hs?.headers ?? {},
      body: hs?.body ?? '',
      error: result.error.message,
      error_code: result.error.code,
    };
  }
  const conn = result.connection;
  await new SocketSession(vu, conn, signal).run(callback);
  const hs = conn.handshake;
  return { url, status: hs.status, headers: hs.headers, body: hs.body, error: '', error_code: 0 };
}
