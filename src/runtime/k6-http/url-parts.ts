import { RequestError, K6ErrorCode } from './client/index.js';

/** What a request needs to know about its URL, computed once per distinct URL string. */
export interface UrlParts {
  /** The full URL (credentials included), as Response.url shows it. */
  readonly href: string;
  /** The URL without credentials or fragment: the default `url` and `name` tags. */
  readonly clean: string;
  readonly tls: boolean;
  /** Host name or IP, without IPv6 brackets. */
  readonly hostname: string;
  readonly port: number;
  /** The Host header: host, plus the port when it is not the scheme's default. */
  readonly hostHeader: string;
  /** Path and query, the request target. */
  readonly path: string;
  /** `Basic …` from credentials in the URL, or null. */
  readonly basicAuth: string | null;
  /** Connection pool key when no `hosts` override applies. */
  readonly poolKey: string;
}

/** The pool key of a connection: scheme, address, port, and the SNI name for TLS. */
export function poolKeyOf(tls: boolean, host: string, port: number, servername: string): string {
  return tls ? `s|${host}|${port}|${servername}` : `p|${host}|${port}`;
}

const cache = new Map<string, UrlParts>();
const MAX_CACHED = 10_000;

function build(u: URL): UrlParts | RequestError {
  const tls = u.protocol === 'https:';
  if (!tls && u.protocol !== 'http:') {
    return new RequestError(K6ErrorCode.generic, `unsupported protocol scheme "${u.protocol.slice(0, -1)}"`);
  }
  if (u.hostname === '') return new RequestError(K6ErrorCode.invalidUrl, `invalid URL "${u.href}": no host`);
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? (tls ? 443 : 80) : Number(u.port);
  let basicAuth: string | null = null;
  let clean = u.href;
  if (u.username !== '' || u.password !== '') {
    const creds = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    basicAuth = `Basic ${Buffer.from(creds, 'utf8').toString('base64')}`;
    const c = new URL(u.href);
    c.username = '';
    c.password = '';
    clean = c.href;
  }
  if (u.hash !== '') clean = clean.slice(0, clean.length - u.hash.length);
  return {
    href: u.hash === '' ? u.href : u.href.slice(0, u.href.length - u.hash.length),
    clean,
    tls,
    hostname,
    port,
    hostHeader: u.host,
    path: `${u.pathname}${u.search}`,
    basicAuth,
    poolKey: poolKeyOf(tls, hostname, port, hostname),
  };
}

/** The last URL parsed: a VU loop mostly requests one URL string again and again. */
let lastText = '';
let lastParts: UrlParts | null = null;

/** Parses `text` (cached); an invalid URL gives k6's error 1020. */
export function parseUrl(text: string): UrlParts | RequestError {
  if (text === lastText && lastParts !== null) return lastParts;
  const hit = cache.get(text);
  if (hit !== undefined) {
    lastText = text;
    lastParts = hit;
    return hit;
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return new RequestError(K6ErrorCode.invalidUrl, `invalid URL "${text}"`);
  }
  const parts = build(u);
  if (parts instanceof RequestError) return parts;
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(text, parts);
  return parts;
}

/** Resolves a Location header against the URL it came from. */
export function resolveLocation(location: string, base: UrlParts): UrlParts | RequestError {
  let u: URL;
  try {
    u = new URL(location, base.href);
  } catch {
    return new RequestError(K6ErrorCode.invalidUrl, `failed to parse Location header ${JSON.stringify(location)}`);
  }
  return parseUrl(u.href);
}
