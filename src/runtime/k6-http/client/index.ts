/** herd's HTTP/1.1 client on raw net/tls sockets (HTTP/2 via node:http2 when TLS ALPN picks h2), measuring k6's request phases. */
export { send, Exchange, type ClientRequest, type ExchangeListener, type ExchangeObserver } from './exchange.js';
export { DeadlineWatch } from './deadline-watch.js';
export { ConnectionPool, DEFAULT_TLS, type TlsPolicy } from './pool.js';
export { DnsCache, type ResolvedAddress } from './dns-cache.js';
export { PhaseTimes, toTimings, type Timings } from './timings.js';
export { RequestError, K6ErrorCode, classifyError } from './request-error.js';
export { ResponseParser, HttpParseError } from './response-parser.js';
