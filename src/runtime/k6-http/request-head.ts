import type { UrlParts } from './url-parts.js';
import { RequestError, K6ErrorCode } from './client/index.js';

/** What goes into one hop's request head besides the script's own headers. */
export interface HeadInput {
  readonly method: string;
  readonly url: UrlParts;
  /** The script's headers, canonical names (hop-adjusted on redirects). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Default User-Agent ('' sends none). */
  readonly userAgent: string;
  /** Cookie header from the jar and params.cookies, '' when none. */
  readonly cookie: string;
  /** Content-Type implied by a form body, null when none. */
  readonly contentType: string | null;
  /** Body length, or -1 when the request has no body. */
  readonly bodyLength: number;
  /** Authorization from URL credentials, null when none. */
  readonly basicAuth: string | null;
  /** Referer set on redirected hops, '' on the first. */
  readonly referer: string;
  /** Ask the server to close (noConnectionReuse). */
  readonly close: boolean;
}

/** The serialized head and the header view Response.request.headers shows. */
export interface BuiltHead {
  readonly head: string;
  /** `head` as UTF-8 bytes, made once per head: a socket write of bytes needs no encoding step. */
  readonly bytes: Buffer;
  readonly headers: Record<string, string[]>;
}

function addInfo(info: Record<string, string[]>, name: string, value: string): void {
  const list = info[name];
  if (list === undefined) info[name] = [value];
  else list.push(value);
}

function hasCrLf(s: string): boolean {
  return s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0;
}

/**
 * Serializes a request head as Go's client would send it for k6: Host (with the port unless
 * it is the default, or the script's Host header), User-Agent unless the script sets one,
 * the script's headers, Content-Length for bodies (and for empty POST/PUT/PATCH), Authorization
 * from URL credentials, and the Cookie header merged with any Cookie the script set.
 */
export function buildHead(h: HeadInput): BuiltHead | RequestError {
  const info: Record<string, string[]> = {};
  let host = h.url.hostHeader;
  let userCookie = '';
  let hasUa = false;
  let hasCt = false;
  let hasAuth = false;
  let lines = '';
  for (const [name, value] of h.headers) {
    if (hasCrLf(value) || hasCrLf(name)) return new RequestError(K6ErrorCode.generic, `net/http: invalid header field value for "${name}"`);
    switch (name) {
      case 'Host':
        host = value;
        continue;
      case 'Content-Length':
        // The real length is always computed from the body.
        continue;
      case 'Cookie':
        userCookie = userCookie === '' ? value : `${userCookie}; ${value}`;
        continue;
      case 'User-Agent':
        hasUa = true;
        break;
      case 'Content-Type':
        hasCt = true;
        break;
      case 'Authorization':
        hasAuth = true;
        break;
      default:
        break;
    }
    lines += `${name}: ${value}\r\n`;
    addInfo(info, name, value);
  }
  let head = `${h.method} ${h.url.path} HTTP/1.1\r\nHost: ${host}\r\n`;
  addInfo(info, 'Host', host);
  if (!hasUa && h.userAgent !== '') {
    head += `User-Agent: ${h.userAgent}\r\n`;
    addInfo(info, 'User-Agent', h.userAgent);
  }
  head += lines;
  if (h.bodyLength >= 0 || h.method === 'POST' || h.method === 'PUT' || h.method === 'PATCH') {
    const n = String(h.bodyLength < 0 ? 0 : h.bodyLength);
    head += `Content-Length: ${n}\r\n`;
    addInfo(info, 'Content-Length', n);
  }
  if (h.contentType !== null && !hasCt) {
    head += `Content-Type: ${h.contentType}\r\n`;
    addInfo(info, 'Content-Type', h.contentType);
  }
  if (h.basicAuth !== null && !hasAuth) {
    head += `Authorization: ${h.basicAuth}\r\n`;
    addInfo(info, 'Authorization', h.basicAuth);
  }
  const cookie = userCookie === '' ? h.cookie : h.cookie === '' ? userCookie : `${userCookie}; ${h.cookie}`;
  if (cookie !== '') {
    head += `Cookie: ${cookie}\r\n`;
    addInfo(info, 'Cookie', cookie);
  }
  if (h.referer !== '') {
    head += `Referer: ${h.referer}\r\n`;
    addInfo(info, 'Referer', h.referer);
  }
  if (h.close) head += 'Connection: close\r\n';
  head += '\r\n';
  return { head, bytes: Buffer.from(head, 'utf8'), headers: info };
}

function sameHeaders(a: ReadonlyArray<readonly [string, string]>, b: ReadonlyArray<readonly [string, string]>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as readonly [string, string];
    const y = b[i] as readonly [string, string];
    if (x[0] !== y[0] || x[1] !== y[1]) return false;
  }
  return true;
}

/**
 * A VU's last request head, reused while the next request has the same inputs (a load test
 * sends the same request over and over): the serialized head is then one flat string made
 * once, instead of a concatenation flattened again by every socket write. The header view is
 * shared by the responses too: HttpResponse copies it when a script reads Response.request.
 * A miss asks `shared`, the test's cache, first: the VUs of a test mostly send the same
 * requests, so they share one head instead of each building and keeping its own.
 */
export class HeadCache {
  private input: HeadInput | null = null;
  private built: BuiltHead | null = null;

  constructor(private readonly shared: HeadCache | null = null) {}

  build(h: HeadInput): BuiltHead | RequestError {
    const hit = this.lookup(h);
    if (hit !== null) return hit;
    const known = this.shared?.lookup(h) ?? null;
    const fresh = known ?? buildHead(h);
    if (fresh instanceof RequestError) return fresh;
    this.input = h;
    this.built = fresh;
    if (known === null && this.shared !== null) this.shared.keep(h, fresh);
    return fresh;
  }

  private keep(h: HeadInput, built: BuiltHead): void {
    this.input = h;
    this.built = built;
  }

  /** The head built for inputs equal to `h`, if it is the one this cache holds. */
  private lookup(h: HeadInput): BuiltHead | null {
    const last = this.input;
    const built = this.built;
    if (
      last !== null &&
      built !== null &&
      last.url === h.url &&
      last.method === h.method &&
      last.userAgent === h.userAgent &&
      last.cookie === h.cookie &&
      last.contentType === h.contentType &&
      last.bodyLength === h.bodyLength &&
      last.basicAuth === h.basicAuth &&
      last.referer === h.referer &&
      last.close === h.close &&
      sameHeaders(last.headers, h.headers)
    ) {
      return built;
    }
    return null;
  }
}
