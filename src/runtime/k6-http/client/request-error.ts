/**
 * Request failures with k6's error codes (https://grafana.com/docs/k6/latest/javascript-api/error-codes/)
 * and messages worded like k6's (which are Go's), so scripts and thresholds that look at
 * `error_code` or `error` behave as with k6.
 */

/** k6's error codes that herd produces. */
export const K6ErrorCode = {
  generic: 1000,
  invalidUrl: 1020,
  timeout: 1050,
  dnsGeneric: 1100,
  dnsNoIp: 1101,
  blockedHostname: 1111,
  tcpGeneric: 1200,
  brokenPipe: 1201,
  tcpUnknown: 1202,
  dialGeneric: 1210,
  dialTimeout: 1211,
  dialRefused: 1212,
  dialUnknown: 1213,
  resetByPeer: 1220,
  tlsGeneric: 1300,
  tlsUnknownAuthority: 1310,
  tlsHostnameMismatch: 1311,
  http2Generic: 1600,
  http2GoAway: 1610,
  http2Stream: 1630,
  http2Connection: 1650,
  decompression: 1701,
} as const;

/** Go's wording of TLS alerts ("remote error: tls: …"), by OpenSSL's alert name as Node's error codes carry it. */
const TLS_ALERTS: Readonly<Record<string, string>> = {
  CLOSE_NOTIFY: 'close notify',
  UNEXPECTED_MESSAGE: 'unexpected message',
  BAD_RECORD_MAC: 'bad record MAC',
  HANDSHAKE_FAILURE: 'handshake failure',
  BAD_CERTIFICATE: 'bad certificate',
  UNSUPPORTED_CERTIFICATE: 'unsupported certificate',
  CERTIFICATE_REVOKED: 'revoked certificate',
  CERTIFICATE_EXPIRED: 'expired certificate',
  CERTIFICATE_UNKNOWN: 'unknown certificate',
  ILLEGAL_PARAMETER: 'illegal parameter',
  UNKNOWN_CA: 'unknown certificate authority',
  ACCESS_DENIED: 'access denied',
  DECODE_ERROR: 'error decoding message',
  DECRYPT_ERROR: 'error decrypting message',
  PROTOCOL_VERSION: 'protocol version not supported',
  INSUFFICIENT_SECURITY: 'insufficient security level',
  INTERNAL_ERROR: 'internal error',
  INAPPROPRIATE_FALLBACK: 'inappropriate fallback',
  USER_CANCELLED: 'user canceled',
  MISSING_EXTENSION: 'missing extension',
  UNSUPPORTED_EXTENSION: 'unsupported extension',
  UNRECOGNIZED_NAME: 'unrecognized name',
  UNKNOWN_PSK_IDENTITY: 'unknown PSK identity',
  CERTIFICATE_REQUIRED: 'certificate required',
  NO_APPLICATION_PROTOCOL: 'no application protocol',
};

const ALERT_CODE = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)$/;

/** HTTP/2 error code names (RFC 9113 §7), as Go prints them. */
export const H2_ERROR_NAMES: readonly string[] = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR',
  'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];

function h2Name(code: number): string {
  return H2_ERROR_NAMES[code] ?? `unknown error code 0x${code.toString(16)}`;
}

/** k6's error for a stream the server reset with `code` (1631 + code). */
export function h2StreamError(streamId: number, code: number): RequestError {
  return new RequestError(code < 19 ? K6ErrorCode.http2Stream + 1 + code : K6ErrorCode.http2Stream, `stream error: stream ID ${streamId}; ${h2Name(code)}`);
}

/** k6's error for a GOAWAY that ended a request (1611 + code). */
export function h2GoAwayError(lastStreamId: number, code: number): RequestError {
  return new RequestError(code < 19 ? K6ErrorCode.http2GoAway + 1 + code : K6ErrorCode.http2GoAway, `http2: server sent GOAWAY and closed the connection; LastStreamID=${lastStreamId}, ErrCode=${h2Name(code)}, debug=""`);
}

/** k6's error for an HTTP/2 connection-level protocol error (1651 + code). */
export function h2ConnectionError(code: number): RequestError {
  return new RequestError(code < 19 ? K6ErrorCode.http2Connection + 1 + code : K6ErrorCode.http2Connection, `connection error: ${h2Name(code)}`);
}

/** A failed request: k6's numeric code and message. */
export class RequestError extends Error {
  constructor(
    readonly k6Code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Where a request was when a socket error happened; it decides between dial and read/write codes. */
export type FailurePhase = 'dns' | 'connect' | 'tls' | 'exchange';

interface NodeErrorLike {
  code?: unknown;
  message?: unknown;
  syscall?: unknown;
}

/** Maps a Node socket/DNS/TLS error to k6's code and wording. */
export function classifyError(err: unknown, phase: FailurePhase, host: string, addr: string): RequestError {
  if (err instanceof RequestError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as NodeErrorLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const msg = typeof e.message === 'string' ? e.message : String(err);
  switch (code) {
    case 'ENOTFOUND':
    case 'ENODATA':
      return new RequestError(K6ErrorCode.dnsNoIp, `lookup ${host}: no such host`);
    case 'EAI_AGAIN':
    case 'ESERVFAIL':
      return new RequestError(K6ErrorCode.dnsGeneric, `lookup ${host}: temporary failure in name resolution`);
    case 'ECONNREFUSED':
      return new RequestError(K6ErrorCode.dialRefused, `dial tcp ${addr}: connect: connection refused`);
    case 'ETIMEDOUT':
      return phase === 'connect'
        ? new RequestError(K6ErrorCode.dialTimeout, `dial tcp ${addr}: i/o timeout`)
        : new RequestError(K6ErrorCode.tcpUnknown, `read tcp ${addr}: i/o timeout`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return new RequestError(K6ErrorCode.dialGeneric, `dial tcp ${addr}: connect: ${code === 'EHOSTUNREACH' ? 'no route to host' : 'network is unreachable'}`);
    case 'ECONNRESET':
      return new RequestError(K6ErrorCode.resetByPeer, `read tcp ${addr}: read: connection reset by peer`);
    case 'EPIPE':
      return new RequestError(K6ErrorCode.brokenPipe, `write tcp ${addr}: write: broken pipe`);
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return new RequestError(K6ErrorCode.tlsUnknownAuthority, 'x509: certificate signed by unknown authority');
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return new RequestError(K6ErrorCode.tlsHostnameMismatch, `x509: certificate is not valid for ${host}`);
    default:
      break;
  }
  const alert = ALERT_CODE.exec(code);
  if (alert !== null) {
    const text = TLS_ALERTS[alert[1] as string];
    return new RequestError(K6ErrorCode.tlsGeneric, `remote error: tls: ${text ?? (alert[1] as string).toLowerCase().replace(/_/g, ' ')}`);
  }
  if (phase === 'tls' || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.startsWith('CERT_')) {
    return new RequestError(K6ErrorCode.tlsGeneric, `tls: ${msg}`);
  }
  if (phase === 'dns') return new RequestError(K6ErrorCode.dnsGeneric, `lookup ${host}: ${msg}`);
  if (phase === 'connect') return new RequestError(K6ErrorCode.dialUnknown, `dial tcp ${addr}: ${msg}`);
  if (code.startsWith('E')) return new RequestError(K6ErrorCode.tcpUnknown, `${code === '' ? '' : `${code}: `}${msg}`);
  return new RequestError(K6ErrorCode.generic, msg);
}
