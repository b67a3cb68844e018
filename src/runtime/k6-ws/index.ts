/**
 * `k6/ws` for herd: k6's blocking WebSocket client (`connect` and its Socket) with k6's ws_*
 * metrics, on the `ws` npm client. The connection core (dialing, metrics, event queue) is
 * shared with `k6/websockets`, which imports it from here.
 */
import { moduleObject, type RuntimeModule, type VuState } from '../vu-state.js';
import { connect, type WsResponse } from './connect.js';

export { connect, assertNotInitContext, type WsResponse, type ConnectCallback } from './connect.js';
export { Socket } from './socket.js';
export { WsError, isUnexpectedClose, unexpectedCloseError } from './ws-error.js';
export { parseWsParams, DEFAULT_WS_PARAMS, type WsParams } from './params.js';
export { dialWs, type WsDialRequest, type WsDialResult } from './dial.js';
export { WsConnection, type WsConnectionListener, type WsHandshake } from './connection.js';
export { HandlerTable, isThenable, describeThrown } from './script-callback.js';

/** What `import ws from 'k6/ws'` gives a script. */
export interface WsApi {
  /** Opens a socket, runs `callback(socket)`, and settles with the handshake response once the socket closed. */
  readonly connect: (url: unknown, ...args: unknown[]) => Promise<WsResponse>;
}

/** Creates the `k6/ws` module; sockets belong to the VU that opened them. */
export function createWsModule(): RuntimeModule {
  return {
    specifier: 'k6/ws',
    instantiate(vu: VuState): Record<string, unknown> {
      const api: WsApi = {
        connect: (url, ...args) => connect(vu, url, args),
      };
      return moduleObject(api);
    },
  };
}
