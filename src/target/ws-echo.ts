import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/** Path of the WebSocket echo endpoint. */
export const WS_ECHO_PATH = '/ws/echo';

/** The WebSocket half of the target: an `upgrade` listener plus a way to drop all clients. */
export interface WsEcho {
  /** Listener for the HTTP server's `upgrade` event. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Terminates every open WebSocket so the HTTP server can finish closing. */
  close(): void;
}

const NOT_FOUND_BODY = '{"error":"not found"}';
const NOT_FOUND_RESPONSE =
  'HTTP/1.1 404 Not Found\r\n' +
  'Content-Type: application/json\r\n' +
  `Content-Length: ${NOT_FOUND_BODY.length}\r\n` +
  'Connection: close\r\n' +
  '\r\n' +
  NOT_FOUND_BODY;

/** Creates the echo endpoint; it accepts upgrades on `/ws/echo` only. */
export function createWsEcho(): WsEcho {
  const wss = new WebSocketServer({
    noServer: true,
    // Echo must return bytes unchanged and cheaply; compression would only cost CPU.
    perMessageDeflate: false,
    // The contract says no subprotocol: by default ws would pick the client's first offer.
    handleProtocols: () => false,
  });

  wss.on('connection', (ws: WebSocket) => {
    // Pings are answered by ws itself (autoPong) with the same payload, and a client's
    // close frame is answered with a close frame; only data frames need handling here.
    ws.on('message', (data: RawData, isBinary: boolean) => {
      ws.send(data, { binary: isBinary });
    });
    // A peer that vanishes mid-frame raises an error; without a listener it would crash
    // the process. The socket is already being torn down, so nothing else is needed.
    ws.on('error', () => {});
  });

  return {
    onUpgrade(req, socket, head) {
      // Errors on the raw socket (a peer resetting mid-handshake) would otherwise be
      // unhandled and crash the process.
      socket.on('error', () => socket.destroy());
      const target = req.url ?? '';
      const q = target.indexOf('?');
      const path = q === -1 ? target : target.slice(0, q);
      if (path !== WS_ECHO_PATH) {
        socket.end(NOT_FOUND_RESPONSE);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
