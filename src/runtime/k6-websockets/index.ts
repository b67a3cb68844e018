/**
 * `k6/websockets` for herd: the browser-style, non-blocking WebSocket of k6, sharing the
 * connection core and metrics of `k6/ws`. An iteration lasts until the sockets it opened have
 * closed: the engine awaits `whenVuSocketsClosed` after the default function returns.
 */
import { moduleObject, type RuntimeModule, type VuState } from '../vu-state.js';
import { existingVuSockets } from './vu-sockets.js';
import { WebSocket } from './websocket.js';

export { WebSocket, type BinaryType } from './websocket.js';
export type { WsEvent, WsMessageEvent, WsErrorEvent, WsCloseEvent } from './events.js';

/** The WebSocket constructor a script sees: `new WebSocket(url, [protocols], [params])`. */
export type WebSocketConstructor = new (url: unknown, protocols?: unknown, params?: unknown) => WebSocket;

/** What `import { WebSocket } from 'k6/websockets'` gives a script. */
export interface WebSocketsApi {
  readonly WebSocket: WebSocketConstructor;
  /** The Blob class of binary messages (`binaryType = 'blob'`), also accepted by send(). */
  readonly Blob: typeof Blob;
}

/** A WebSocket class bound to `vu`, named WebSocket so that it prints as in k6. */
function webSocketClass(vu: VuState): WebSocketConstructor {
  const C = class extends WebSocket {
    constructor(url: unknown, protocols?: unknown, params?: unknown) {
      super(vu, url, protocols, params);
    }
  };
  Object.defineProperty(C, 'name', { value: 'WebSocket' });
  return C;
}

/** Whether `vu` has k6/websockets sockets open or handlers running (a check without awaiting). */
export function hasOpenSockets(vu: VuState): boolean {
  const sockets = existingVuSockets(vu);
  return sockets !== undefined && sockets.pending > 0;
}

/**
 * Resolves once every k6/websockets socket of `vu` is closed and no async handler of theirs
 * is still running: k6 ends an iteration only when its event loop is empty, so the engine
 * awaits this (with the timers' idle promise) after the default function returns. Resolves
 * at once for a VU without sockets.
 */
export function whenVuSocketsClosed(vu: VuState): Promise<void> {
  return existingVuSockets(vu)?.whenIdle() ?? Promise.resolve();
}

/**
 * Drops every open socket of `vu` without running handlers (engine use: hard stop, an
 * interrupted iteration, end of test). Returns how many were dropped; safe to call twice.
 */
export function closeVuSockets(vu: VuState): number {
  return existingVuSockets(vu)?.abortAll() ?? 0;
}

/** Creates the `k6/websockets` module; sockets belong to the VU that opened them. */
export function createWebSocketsModule(): RuntimeModule {
  return {
    specifier: 'k6/websockets',
    instantiate(vu: VuState): Record<string, unknown> {
      const api: WebSocketsApi = { WebSocket: webSocketClass(vu), Blob };
      return moduleObject(api);
    },
  };
}
