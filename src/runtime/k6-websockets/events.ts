/**
 * The event objects k6/websockets hands to handlers: k6's subset of the DOM events
 * (`type`, `target`, `timestamp`) plus each event's own fields.
 */

/** Fields every event has. */
export interface WsEvent {
  readonly type: string;
  /** The WebSocket that fired the event. */
  readonly target: unknown;
  /** Epoch milliseconds when the event was created. */
  readonly timestamp: number;
}

/** A received message: a string, or binary data as an ArrayBuffer or a Blob (per binaryType). */
export interface WsMessageEvent extends WsEvent {
  readonly type: 'message';
  readonly data: string | ArrayBuffer | Blob;
  /** The URL of the socket, as k6 sets it. */
  readonly origin: string;
}

/** An error; k6 puts the message in `error`. */
export interface WsErrorEvent extends WsEvent {
  readonly type: 'error';
  readonly error: string;
}

/** The end of the connection. */
export interface WsCloseEvent extends WsEvent {
  readonly type: 'close';
  readonly code: number;
  readonly reason: string;
  /** False when the connection dropped without a close handshake. */
  readonly wasClean: boolean;
}

/** A plain event (open, ping, pong). */
export function plainEvent(type: string, target: unknown): WsEvent {
  return { type, target, timestamp: Date.now() };
}

/** A message event. */
export function messageEvent(target: unknown, data: string | ArrayBuffer | Blob, origin: string): WsMessageEvent {
  return { type: 'message', target, timestamp: Date.now(), data, origin };
}

/** An error event carrying `message`. */
export function errorEvent(target: unknown, message: string): WsErrorEvent {
  return { type: 'error', target, timestamp: Date.now(), error: message };
}

/** A close event. */
export function closeEvent(target: unknown, code: number, reason: string, wasClean: boolean): WsCloseEvent {
  return { type: 'close', target, timestamp: Date.now(), code, reason, wasClean };
}
