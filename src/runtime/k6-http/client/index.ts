/** herd's HTTP/1.1 client on raw net/tls sockets, measuring k6's request phases. */
export { send, Exchange, type ClientRequest, type ExchangeObserver } from './exchange.js';
export { ConnectionPool } from './pool.js';
export { DnsCache, type ResolvedAddress } from './dns-cache.js';
export { PhaseTimes, toTimings, type Timings } from './timings.js';
export { RequestError, K6ErrorCode, classifyError } from './request-error.js';
export { ResponseParser, HttpParseError } from './response-parser.js';
