/**
 * The error value k6/ws hands to `error` handlers. k6 passes a Go error there, which scripts
 * read with `e.error()`; `message` and `toString()` make it print sensibly in Node as well.
 */
export class WsError {
  /** `code` is k6's numeric error code (https://grafana.com/docs/k6/latest/javascript-api/error-codes/), 0 when none applies. */
  constructor(
    readonly message: string,
    readonly code: number = 0,
  ) {}

  /** The message, read the way k6 scripts read a Go error. */
  error(): string {
    return this.message;
  }

  /** The message, so that `String(e)` and string concatenation show it. */
  toString(): string {
    return this.message;
  }
}

/** Go's (gorilla/websocket's) names of close codes, used in the text of unexpected-close errors. */
const CLOSE_TEXT: Readonly<Record<number, string>> = {
  1000: 'normal',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status',
  1006: 'abnormal closure',
  1007: 'invalid payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'mandatory extension',
  1011: 'internal server error',
  1012: 'service restart',
  1013: 'try again later',
  1015: 'TLS handshake',
};

/**
 * True when a peer's close code is one k6 reports as an error: anything but a normal closure
 * or "going away" (k6 asks gorilla's IsUnexpectedCloseError with exactly those two).
 */
export function isUnexpectedClose(code: number): boolean {
  return code !== 1000 && code !== 1001;
}

/** The error for a peer's unexpected close, worded as gorilla/websocket words it. */
export function unexpectedCloseError(code: number, reason: string): WsError {
  const text = CLOSE_TEXT[code];
  const head = text === undefined ? `websocket: close ${code}` : `websocket: close ${code} (${text})`;
  return new WsError(reason === '' ? head : `${head}: ${reason}`);
}
