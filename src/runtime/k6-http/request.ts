import { HerdError } from '../../errors/index.js';
import type { TagSet } from '../../metrics/tags.js';
import { Exchange, toTimings, RequestError, type ExchangeListener, type Timings } from './client/index.js';
import { canonicalHeaderName } from './canonical-header.js';
import type { CookieJar } from './cookie-jar.js';
import { compressBody, decodeContent } from './decompress.js';
import type { ExpectedStatuses } from './expected-statuses.js';
import { parseParams, type ParamCookie, type RequestParams, type ResponseType } from './params.js';
import { encodeBody } from './request-body.js';

import { HttpResponse, NO_COOKIES, type RequestCookie, type ResponseCookie } from './response.js';
import { emitHopSamples } from './sample-emitter.js';
import { parseSetCookie } from './set-cookie.js';
import { HttpUrl } from './tagged-url.js';
import { parseUrl, poolKeyOf, resolveLocation, type UrlParts } from './url-parts.js';
import type { TagCacheEntry, VuHttp } from './vu-http.js';

const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const MAX_TAG_CACHE = 256;

/**
 * Epoch ms of this thread's performance.now() zero: a hop's samples are stamped with the
 * exchange's end mark on that clock, so emitting them reads no clock of its own.
 */
const TIME_ORIGIN = performance.timeOrigin;

/** The URL of a request whose URL did not parse: it never goes out. */
const NO_URL: UrlParts = Object.freeze({ href: '', clean: '', tls: false, hostname: '', port: 0, hostHeader: '', path: '', basicAuth: null, poolKey: '' });

const ZERO_TIMINGS: Timings = { blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting: 0, receiving: 0, duration: 0 };

/** Throws k6's init-context error: requests are only allowed once the test runs. */
export function assertNotInit(h: VuHttp): void {
  if (h.vu.phase === 'init') {
    throw new HerdError('init_context_only', 'making HTTP requests in the init context is not supported', {
      hint: 'move the request into the default function, setup() or teardown(); use open() to read files in the init context',
    });
  }
}

function locationOf(headers: readonly string[]): string | null {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i] as string;
    if (n.length === 8 && n.toLowerCase() === 'location') return headers[i + 1] as string;
  }
  return null;
}

/** The last header array without Set-Cookie: a cached response head brings the same frozen array every time. */
let lastWithoutCookies: readonly string[] | null = null;

/** The Set-Cookie values; the first letter is checked before lower-casing (Connection has ten letters too). */
function setCookiesOf(headers: readonly string[]): string[] | null {
  if (headers === lastWithoutCookies) return null;
  let out: string[] | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i] as string;
    if (n.length === 10 && (n.charCodeAt(0) | 0x20) === 0x73 && n.toLowerCase() === 'set-cookie') (out ??= []).push(headers[i + 1] as string);
  }
  if (out === null && Object.isFrozen(headers)) lastWithoutCookies = headers;
  return out;
}

/** The last status line text made, kept: a load test gets the same status again and again. */
let lastStatus = 0;
let lastReason = '';
let lastStatusText = '0';

/** k6's `status_text`: "200 OK", or the bare code when the reason phrase is empty. */
function statusText(status: number, reason: string): string {
  if (status !== lastStatus || reason !== lastReason) {
    lastStatus = status;
    lastReason = reason;
    lastStatusText = reason === '' ? String(status) : `${status} ${reason}`;
  }
  return lastStatusText;
}

/** The Cookie header for a hop: jar cookies (minus those a `replace` cookie overrides), then params.cookies. */
function cookieHeader(jar: CookieJar | null, u: UrlParts, own: readonly ParamCookie[], info: Record<string, RequestCookie[]> | null): string {
  let out = '';
  if (jar !== null && !jar.empty) {
    for (const c of jar.matching(u)) {
      if (own.length > 0 && own.some((o) => o.replace && o.name === c.name)) continue;
      out = out === '' ? `${c.name}=${c.value}` : `${out}; ${c.name}=${c.value}`;
      if (info !== null) (info[c.name] ??= []).push({ name: c.name, value: c.value, replace: false });
    }
  }
  for (const o of own) {
    out = out === '' ? `${o.name}=${o.value}` : `${out}; ${o.name}=${o.value}`;
    if (info !== null) (info[o.name] ??= []).push({ name: o.name, value: o.value, replace: o.replace });
  }
  return out;
}

/**
 * Tags of a successful hop. Building a TagSet costs a chain of interned lookups per tag, so
 * the system part is cached per URL object (parseUrl returns one object per URL string) and
 * status; the params tags are added on top, as in the uncached path.
 */
function successTags(r: RequestRun, status: number, proto: string, expected: boolean | null, tlsVersion: string): TagSet {
  const h = r.h;
  const name = r.fixedName ?? r.url.clean;
  let e = h.tagCache.get(r.url);
  if (e === undefined || e.vuTags !== h.vu.tags || e.callback !== r.callback || e.method !== r.method || e.name !== name || e.tlsVersion !== tlsVersion || e.proto !== proto) {
    if (h.tagCache.size >= MAX_TAG_CACHE) h.tagCache.clear();
    e = { vuTags: h.vu.tags, callback: r.callback, method: r.method, name, tlsVersion, proto, byStatus: new Map() } satisfies TagCacheEntry;
    h.tagCache.set(r.url, e);
  }
  let t = e.byStatus.get(status);
  if (t === undefined) {
    t = hopTags(r, status, proto, expected, statusErrorCode(status), '', tlsVersion, false);
    e.byStatus.set(status, t);
  }
  return withParamsTags(t, r.params.tags);
}

/** `t` with the request's params.tags on top. */
function withParamsTags(t: TagSet, tags: ReadonlyArray<readonly [string, string]>): TagSet {
  let out = t;
  for (let i = 0; i < tags.length; i++) {
    const pair = tags[i] as readonly [string, string];
    out = out.with(pair[0], pair[1]);
  }
  return out;
}

function hopTags(r: RequestRun, status: number, proto: string, expected: boolean | null, errorCode: number, errorMsg: string, tlsVersion: string, withUser = true): TagSet {
  const sys = r.h.test.sys;
  let t = r.h.vu.tags;
  if (sys.proto && proto !== '') t = t.with('proto', proto);
  if (sys.status) t = t.with('status', String(status));
  if (sys.method) t = t.with('method', r.method);
  if (sys.url) t = t.with('url', r.url.clean);
  if (sys.name) t = t.with('name', r.fixedName ?? r.url.clean);
  if (expected !== null && sys.expected_response) t = t.with('expected_response', expected ? 'true' : 'false');
  if (errorCode !== 0 && sys.error_code) t = t.with('error_code', String(errorCode));
  if (errorMsg !== '' && sys.error) t = t.with('error', errorMsg);
  if (tlsVersion !== '' && sys.tls_version) t = t.with('tls_version', tlsVersion);
  return withUser ? withParamsTags(t, r.params.tags) : t;
}

/** k6's error_code for an HTTP status: 1400–1599 mirror 4xx/5xx statuses. */
function statusErrorCode(status: number): number {
  return status >= 400 && status < 600 ? 1000 + status : 0;
}

/**
 * The last header array turned into Response.headers, and the result. The parser hands out
 * one frozen array per distinct response head (see response-parser.ts), so the same array
 * comes back for every response of a load test's repeated request: a copy of the object
 * built for it is then much cheaper than canonicalizing every name again.
 */
let lastRaw: readonly string[] | null = null;
let lastHeaders: Record<string, string> = {};

function responseHeaders(raw: readonly string[]): Record<string, string> {
  if (raw === lastRaw) return { ...lastHeaders };
  const out = buildResponseHeaders(raw);
  if (Object.isFrozen(raw)) {
    lastRaw = raw;
    lastHeaders = { ...out };
  }
  return out;
}

function buildResponseHeaders(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = canonicalHeaderName(raw[i] as string);
    const prev = out[name];
    out[name] = prev === undefined ? (raw[i + 1] as string) : `${prev}, ${raw[i + 1] as string}`;
  }
  return out;
}

function responseCookies(setCookies: readonly string[] | null): Record<string, ResponseCookie[]> {
  const out: Record<string, ResponseCookie[]> = {};
  if (setCookies === null) return out;
  for (const h of setCookies) {
    const c = parseSetCookie(h);
    if (c === null) continue;
    (out[c.name] ??= []).push({
      name: c.name,
      value: c.value,
      domain: c.domain,
      path: c.path,
      http_only: c.httpOnly,
      secure: c.secure,
      max_age: c.maxAge ?? 0,
      expires: c.expires ?? 0,
    });
  }
  return out;
}

/** Ends a failed request as k6 does: throw with options.throw, else warn and return status 0. */
function failure(r: RequestRun, res: HttpResponse, err: RequestError): HttpResponse {
  res.status = 0;
  res.error = err.message;
  res.error_code = err.k6Code;
  if (r.h.vu.test.options.throw) throw new HerdError('script_exception', err.message);
  r.h.vu.test.logger.log('warn', 'Request Failed', { error: err.message });
  return res;
}

/**
 * The resolving functions of the promise being made: `new Promise(capture)` stores them here
 * and the maker takes them at once, so no executor closure is made per request.
 */
let capturedResolve: ((res: HttpResponse) => void) | null = null;
let capturedReject: ((e: unknown) => void) | null = null;

function capture(resolve: (res: HttpResponse) => void, reject: (e: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

function noop(): void {}

/**
 * Sends one k6 request: builds each hop's head (cookies, auth, user agent), follows redirects
 * up to the limit (each hop is a request of its own in the metrics), stores cookies from
 * every hop, and turns the last hop into k6's Response. The promise is made with `P`: the
 * script realm's Promise for a promise the script awaits, Node's for herd's own callers.
 */
export function performRequest(h: VuHttp, methodArg: unknown, urlArg: unknown, bodyArg: unknown, paramsArg: unknown, P: PromiseConstructor = Promise): Promise<HttpResponse> {
  let run: RequestRun;
  try {
    run = new RequestRun(h, methodArg, urlArg, bodyArg, paramsArg);
  } catch (e) {
    return P.reject(e) as Promise<HttpResponse>;
  }
  return run.begin(P);
}

/**
 * One request from the script's call to its Response: the flow (what every hop shares), the
 * hop on the wire, and the promise the script awaits. The exchange calls back when a hop is
 * over (ExchangeListener), so a request costs one promise and no async frame; the same
 * object carries the redirect hops.
 */
class RequestRun implements ExchangeListener {
  // The flow: what stays the same across the hops of one request.
  readonly h: VuHttp;
  readonly params: RequestParams;
  readonly jar: CookieJar | null;
  readonly callback: ExpectedStatuses | null;
  readonly responseType: ResponseType;
  /** The name tag fixed for every hop (params.tags.name or the http.url template), or null. */
  readonly fixedName: string | null;
  // The hop: the request as it is about to go out (advanceHop moves it to a redirect target).
  method: string;
  url: UrlParts;
  body: Buffer | null = null;
  bodyText = '';
  contentType: string | null = null;
  headers: ReadonlyArray<readonly [string, string]>;
  referer = '';

  private readonly res = new HttpResponse();
  /** Set when the URL given does not parse: the request fails without a hop. */
  private readonly badUrl: RequestError | null = null;
  private readonly maxRedirects: number;
  private redirects = 0;
  private resolve: (res: HttpResponse) => void = noop;
  private reject: (e: unknown) => void = noop;

  /** Checks the arguments; throws what the script must see thrown (bad params, body, compression). */
  constructor(h: VuHttp, methodArg: unknown, urlArg: unknown, bodyArg: unknown, paramsArg: unknown) {
    const vu = h.vu;
    const opts = vu.test.options;
    if (h.test.options !== opts || h.test.exported !== vu.test.exportedOptions) h.refresh();
    const params = parseParams(paramsArg);
    this.h = h;
    this.params = params;
    this.method = typeof methodArg === 'string' && KNOWN_METHODS.has(methodArg) ? methodArg : String(methodArg).toUpperCase();
    let fixedName: string | null = null;
    for (let i = 0; i < params.tags.length; i++) {
      const pair = params.tags[i] as readonly [string, string];
      if (pair[0] === 'name') fixedName = pair[1];
    }
    let urlText: string;
    if (urlArg instanceof HttpUrl) {
      urlText = urlArg.url;
      fixedName ??= urlArg.name;
    } else {
      urlText = String(urlArg);
    }
    this.fixedName = fixedName;
    this.jar = params.jar === undefined ? h.jar : params.jar;
    this.callback = params.responseCallback === undefined ? h.responseCallback : params.responseCallback;
    this.responseType = params.responseType ?? (opts.discardResponseBodies ? 'none' : 'text');
    this.maxRedirects = params.redirects ?? opts.maxRedirects;
    this.headers = params.headers;
    const first = parseUrl(urlText);
    if (first instanceof RequestError) {
      this.res.url = urlText;
      this.badUrl = first;
      this.url = NO_URL;
      return;
    }
    this.url = first;
    const enc = encodeBody(bodyArg);
    let body = enc.bytes;
    if (params.compression !== null && body !== null) {
      try {
        body = compressBody(body, params.compression);
      } catch (e) {
        throw new HerdError('script_exception', (e as Error).message);
      }
      this.headers = [...this.headers.filter(([n]) => n !== 'Content-Encoding'), ['Content-Encoding', params.compression]];
    }
    this.body = body;
    this.bodyText = typeof bodyArg === 'string' ? bodyArg : enc.bytes === null ? '' : enc.bytes.toString('utf8');
    this.contentType = enc.contentType;
  }

  /** Sends the first hop; the promise settles with the Response or what the script must see thrown. */
  begin(P: PromiseConstructor): Promise<HttpResponse> {
    const p = new P<HttpResponse>(capture);
    this.resolve = capturedResolve as (res: HttpResponse) => void;
    this.reject = capturedReject as (e: unknown) => void;
    capturedResolve = null;
    capturedReject = null;
    try {
      if (this.badUrl !== null) this.resolve(failure(this, this.res, this.badUrl));
      else this.sendHop();
    } catch (e) {
      this.reject(e);
    }
    return p;
  }

  /** The exchange of the current hop is over (called by it, synchronously). */
  exchangeDone(ex: Exchange): void {
    try {
      this.hopDone(ex);
    } catch (e) {
      this.reject(e);
    }
  }

  /** Builds the current hop's head and puts it on the wire, or ends the request if it cannot go. */
  private sendHop(): void {
    const h = this.h;
    const vu = h.vu;
    const opts = vu.test.options;
    const params = this.params;
    const res = this.res;
    const u = this.url;
    res.url = u.href;
    const noCookies = (this.jar === null || this.jar.empty) && params.cookies.length === 0;
    const reqCookies: Record<string, RequestCookie[]> = noCookies ? NO_COOKIES : {};
    const cookie = noCookies ? '' : cookieHeader(this.jar, u, params.cookies, reqCookies);
    const built = h.heads.build({
      method: this.method,
      url: u,
      headers: this.headers,
      userAgent: opts.userAgent,
      cookie,
      contentType: this.contentType,
      bodyLength: this.body === null ? -1 : this.body.length,
      basicAuth: u.basicAuth,
      referer: this.referer,
      close: opts.noConnectionReuse,
    });
    if (built instanceof RequestError) {
      this.resolve(failure(this, res, built));
      return;
    }
    res.shareRequest({ method: this.method, url: u.href, headers: built.headers, body: this.bodyText, cookies: reqCookies });
    const addr = h.test.rules.resolve(u.hostname, u.port);
    if (addr instanceof RequestError) {
      const expected = this.callback === null ? null : this.callback.matches(0);
      emitHopSamples(vu, hopTags(this, 0, '', expected, addr.k6Code, addr.message, ''), ZERO_TIMINGS, expected === null ? -1 : expected ? 0 : 1, 0, 0, Date.now());
      this.resolve(failure(this, res, addr));
      return;
    }
    const connectHost = addr === null ? u.hostname : addr.host;
    const connectPort = addr === null ? u.port : addr.port;
    h.track(new Exchange({
      method: this.method,
      tls: u.tls,
      hostname: u.hostname,
      connectHost,
      port: connectPort,
      head: built.head,
      headBytes: built.bytes,
      body: this.body,
      keepBody: this.responseType !== 'none',
      timeoutMs: params.timeoutMs,
      reuse: !opts.noConnectionReuse,
      rejectUnauthorized: !opts.insecureSkipTLSVerify,
      poolKey: addr === null ? u.poolKey : poolKeyOf(u.tls, connectHost, connectPort, u.hostname),
    }, h.pool, h), this);
  }

  /** Records a finished hop; follows a redirect or settles the request. */
  private hopDone(ex: Exchange): void {
    if (ex.aborted !== undefined) {
      this.reject(ex.aborted);
      return;
    }
    const vu = this.h.vu;
    const res = this.res;
    const u = this.url;
    const timings = toTimings(ex.times);
    res.timings = timings;
    res.remote_ip = ex.remoteIp;
    res.remote_port = ex.remotePort;
    res.tls_version = ex.tlsVersion;
    res.tls_cipher_suite = ex.tlsCipher;
    if (ex.error !== null) {
      const err = ex.error;
      const expected = this.callback === null ? null : this.callback.matches(0);
      emitHopSamples(vu, hopTags(this, 0, '', expected, err.k6Code, err.message, ex.tlsVersion), timings, expected === null ? -1 : expected ? 0 : 1, ex.bytesSent, ex.bytesReceived, TIME_ORIGIN + ex.times.end);
      this.resolve(failure(this, res, err));
      return;
    }
    const status = ex.status;
    const proto = ex.httpMajor === 2 ? 'HTTP/2.0' : ex.httpMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
    const expected = this.callback === null ? null : this.callback.matches(status);
    emitHopSamples(vu, successTags(this, status, proto, expected, ex.tlsVersion), timings, expected === null ? -1 : expected ? 0 : 1, ex.bytesSent, ex.bytesReceived, TIME_ORIGIN + ex.times.end);
    const setCookies = setCookiesOf(ex.headers);
    if (setCookies !== null && this.jar !== null) this.jar.storeSetCookies(u, setCookies);

    const location = status >= 300 && status < 400 && status !== 304 && status !== 305 && status !== 306 ? locationOf(ex.headers) : null;
    if (location !== null) {
      if (this.redirects < this.maxRedirects) {
        const next = resolveLocation(location, u);
        if (next instanceof RequestError) {
          this.resolve(failure(this, res, next));
          return;
        }
        this.redirects++;
        advanceHop(this, status, next);
        this.sendHop();
        return;
      }
      if (this.maxRedirects > 0) {
        vu.test.logger.log('warn', `Stopped after ${this.maxRedirects} redirects and returned the redirection; pass { redirects: n } in request params or set global maxRedirects to silence this`, { url: u.clean });
      }
    }

    res.status = status;
    res.status_text = statusText(status, ex.reason);
    res.proto = proto;
    res.headers = responseHeaders(ex.headers);
    res.cookies = responseCookies(setCookies);
    res.error_code = statusErrorCode(status);
    if (ex.body !== null) {
      const decoded = decodeContent(ex.body, ex.contentEncoding);
      if (decoded instanceof RequestError) {
        res.error = decoded.message;
        res.error_code = decoded.k6Code;
        res.body = null;
      } else {
        // The script's realm owns the ArrayBuffer so that `body instanceof ArrayBuffer` holds there.
        res.body = this.responseType === 'binary' ? vu.test.scriptArrayBuffer(decoded) : decoded.toString('utf8');
      }
    }
    this.resolve(res);
  }
}

/**
 * Moves a hop to the redirect target with Go's rules: 301/302/303 turn into GET without body
 * (HEAD stays HEAD), 307/308 resend method and body; credentials, Authorization and Cookie
 * headers do not follow to another host; the previous URL becomes the Referer unless that
 * would leak an https URL to http.
 */
function advanceHop(hop: RequestRun, status: number, next: UrlParts): void {
  const prev = hop.url;
  if ((status === 301 || status === 302 || status === 303) && hop.method !== 'HEAD') {
    if (hop.method !== 'GET' || hop.body !== null) {
      hop.method = 'GET';
      hop.body = null;
      hop.bodyText = '';
      hop.contentType = null;
      hop.headers = hop.headers.filter(([n]) => n !== 'Content-Type' && n !== 'Content-Encoding');
    }
  }
  if (prev.hostname !== next.hostname) {
    hop.headers = hop.headers.filter(([n]) => n !== 'Authorization' && n !== 'Cookie' && n !== 'Www-Authenticate');
  }
  hop.referer = prev.tls && !next.tls ? '' : prev.clean;
  hop.url = next;
}
