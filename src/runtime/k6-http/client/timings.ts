/**
 * k6's request phases, measured with the monotonic clock (`performance.now()`, ms).
 *
 * The connection fills a PhaseTimes as the request moves on; `toTimings` turns the marks into
 * k6's durations. A mark left at 0 means the phase did not happen (a reused connection has no
 * connect or TLS marks), so its duration is 0.
 */
export class PhaseTimes {
  /** The request was asked for. */
  start = 0;
  /** TCP connect began (DNS and waiting for a connection are over). */
  connectStart = 0;
  /** TCP connect finished. */
  connectEnd = 0;
  /** TLS handshake finished. */
  tlsEnd = 0;
  /** A ready connection was in hand (new or reused). */
  gotConn = 0;
  /** The whole request (head and body) was handed to the kernel. */
  wrote = 0;
  /** The first response byte arrived. */
  firstByte = 0;
  /** The last response byte arrived (or the request failed). */
  end = 0;

  /** Clears every mark so the object can time another hop. */
  reset(): void {
    this.start = 0;
    this.connectStart = 0;
    this.connectEnd = 0;
    this.tlsEnd = 0;
    this.gotConn = 0;
    this.wrote = 0;
    this.firstByte = 0;
    this.end = 0;
  }
}

/** k6's `Response.timings`, in milliseconds. */
export interface Timings {
  blocked: number;
  connecting: number;
  tls_handshaking: number;
  sending: number;
  waiting: number;
  receiving: number;
  duration: number;
}

function span(from: number, to: number): number {
  return from > 0 && to > from ? to - from : 0;
}

/**
 * k6's durations from the marks: blocked lasts until TCP connect starts (new connection) or
 * until the reused connection is in hand; duration is sending + waiting + receiving, so
 * connection setup never counts in http_req_duration, as in k6.
 */
export function toTimings(t: PhaseTimes): Timings {
  const gotConn = t.gotConn > 0 ? t.gotConn : t.end;
  const blockedEnd = t.connectStart > 0 ? t.connectStart : gotConn;
  const wrote = t.wrote > 0 ? t.wrote : t.firstByte > 0 ? t.firstByte : t.end;
  const firstByte = t.firstByte > 0 ? t.firstByte : t.end;
  const sending = t.gotConn > 0 ? span(t.gotConn, wrote) : 0;
  const waiting = t.gotConn > 0 ? span(wrote, firstByte) : 0;
  const receiving = t.firstByte > 0 ? span(t.firstByte, t.end) : 0;
  return {
    blocked: span(t.start, blockedEnd),
    connecting: span(t.connectStart, t.connectEnd),
    tls_handshaking: t.tlsEnd > 0 ? span(t.connectEnd, t.tlsEnd) : 0,
    sending,
    waiting,
    receiving,
    duration: sending + waiting + receiving,
  };
}
