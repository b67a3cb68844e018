import { isIP } from 'node:net';
import { HerdError } from '../../errors/index.js';
import { parseSetCookie, type ParsedSetCookie } from './set-cookie.js';
import { parseUrl, type UrlParts } from './url-parts.js';

/** A cookie as the jar keeps it. */
export interface StoredCookie {
  name: string;
  value: string;
  /** Lower-case domain without a leading dot. */
  domain: string;
  /** Sent only to exactly `domain` (no Domain attribute was given). */
  hostOnly: boolean;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  /** Epoch ms after which the cookie is gone; Infinity for session cookies. */
  expires: number;
  /** Creation order, for RFC 6265's ordering of equal-length paths. */
  seq: number;
}

/** Options of `CookieJar.set`, as k6 names them. */
export interface CookieOptions {
  domain?: string;
  path?: string;
  expires?: string;
  max_age?: number;
  secure?: boolean;
  http_only?: boolean;
}

let nextSeq = 0;

function defaultPath(requestPath: string): string {
  const q = requestPath.indexOf('?');
  const p = q < 0 ? requestPath : requestPath.slice(0, q);
  if (!p.startsWith('/')) return '/';
  const last = p.lastIndexOf('/');
  return last <= 0 ? '/' : p.slice(0, last);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charCodeAt(cookiePath.length) === 47;
}

function requestPathOf(u: UrlParts): string {
  const q = u.path.indexOf('?');
  return q < 0 ? u.path : u.path.slice(0, q);
}

function urlOrThrow(url: unknown): UrlParts {
  const u = parseUrl(String(url));
  if (u instanceof Error) throw new HerdError('script_exception', `invalid cookie URL: ${u.message}`);
  return u;
}

/**
 * A cookie jar with RFC 6265's basic rules: host-only and domain cookies, path matching,
 * Secure, expiry (Expires and Max-Age, Max-Age winning; a past date deletes the cookie).
 * Cookies are kept per domain so a lookup only visits the request host and its parents.
 * Scripts use cookiesForURL/set/clear/delete; the request code uses the other methods.
 */
export class CookieJar {
  // Made on the first stored cookie: every VU has a jar, most never get a cookie.
  private byDomain: Map<string, StoredCookie[]> | null = null;

  /** `{name: [value, …]}` of the cookies that would be sent to `url`. */
  cookiesForURL(url: unknown): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const c of this.matching(urlOrThrow(url))) (out[c.name] ??= []).push(c.value);
    return out;
  }

  /** Stores a cookie for `url` as if the server at `url` had set it. */
  set(url: unknown, name: unknown, value: unknown, options?: CookieOptions | null): void {
    const u = urlOrThrow(url);
    const o = options ?? {};
    let expires: number | null = null;
    if (o.expires !== undefined) {
      expires = Date.parse(String(o.expires));
      if (Number.isNaN(expires)) throw new HerdError('script_exception', `unable to parse "expires" cookie option ${JSON.stringify(o.expires)}`);
    }
    this.store(u, {
      name: String(name),
      value: String(value),
      domain: o.domain === undefined ? '' : String(o.domain).replace(/^\./, '').toLowerCase(),
      path: o.path === undefined ? '' : String(o.path),
      expires,
      maxAge: o.max_age === undefined ? null : Number(o.max_age),
      secure: o.secure === true,
      httpOnly: o.http_only === true,
    });
  }

  /** Deletes every cookie that would be sent to `url`. */
  clear(url: unknown): void {
    const u = urlOrThrow(url);
    for (const c of this.matching(u)) this.remove(c);
  }

  /** Deletes the cookies named `name` that would be sent to `url`. */
  delete(url: unknown, name: unknown): void {
    const u = urlOrThrow(url);
    const n = String(name);
    for (const c of this.matching(u)) if (c.name === n) this.remove(c);
  }

  /** Empties the jar (start of an iteration). */
  reset(): void {
    this.byDomain?.clear();
  }

  /** Whether the jar holds no cookie; lets the request path skip cookie work entirely. */
  get empty(): boolean {
    return this.byDomain === null || this.byDomain.size === 0;
  }

  /** Stores the cookies of a response's Set-Cookie headers. */
  storeSetCookies(u: UrlParts, headers: readonly string[]): void {
    for (const h of headers) {
      const parsed = parseSetCookie(h);
      if (parsed !== null) this.store(u, parsed);
    }
  }

  /** The cookies to send to `u`, in RFC 6265 order (longer paths first, then older first). */
  matching(u: UrlParts): StoredCookie[] {
    const out: StoredCookie[] = [];
    const byDomain = this.byDomain;
    if (byDomain === null || byDomain.size === 0) return out;
    const host = u.hostname.toLowerCase();
    const path = requestPathOf(u);
    const now = Date.now();
    const visit = (domain: string, exact: boolean): void => {
      const list = byDomain.get(domain);
      if (list === undefined) return;
      for (let i = list.length - 1; i >= 0; i--) {
        const c = list[i] as StoredCookie;
        if (c.expires <= now) {
          list.splice(i, 1);
          continue;
        }
        if (c.hostOnly && !exact) continue;
        if (c.secure && !u.tls) continue;
        if (!pathMatches(path, c.path)) continue;
        out.push(c);
      }
      if (list.length === 0) byDomain.delete(domain);
    };
    visit(host, true);
    if (isIP(host) === 0) {
      let dot = host.indexOf('.');
      while (dot >= 0) {
        visit(host.slice(dot + 1), false);
        dot = host.indexOf('.', dot + 1);
      }
    }
    out.sort((a, b) => b.path.length - a.path.length || a.seq - b.seq);
    return out;
  }

  private store(u: UrlParts, p: ParsedSetCookie): void {
    const host = u.hostname.toLowerCase();
    let domain = host;
    let hostOnly = true;
    if (p.domain !== '' && p.domain !== host) {
      // A Domain attribute must cover the request host, and an IP address has no parents.
      if (isIP(host) !== 0 || !host.endsWith(`.${p.domain}`) || !p.domain.includes('.')) return;
      domain = p.domain;
      hostOnly = false;
    } else if (p.domain !== '') {
      hostOnly = isIP(host) !== 0;
    }
    const path = p.path !== '' ? p.path : defaultPath(u.path);
    let expires = Infinity;
    if (p.maxAge !== null) expires = p.maxAge <= 0 ? -Infinity : Date.now() + p.maxAge * 1000;
    else if (p.expires !== null) expires = p.expires;
    const byDomain = (this.byDomain ??= new Map<string, StoredCookie[]>());
    let list = byDomain.get(domain);
    if (list !== undefined) {
      const i = list.findIndex((c) => c.name === p.name && c.path === path && c.hostOnly === hostOnly);
      if (i >= 0) {
        const old = list[i] as StoredCookie;
        if (expires <= Date.now()) {
          list.splice(i, 1);
        } else {
          old.value = p.value;
          old.secure = p.secure;
          old.httpOnly = p.httpOnly;
          old.expires = expires;
        }
        return;
      }
    }
    if (expires <= Date.now()) return;
    if (list === undefined) {
      list = [];
      byDomain.set(domain, list);
    }
    list.push({ name: p.name, value: p.value, domain, hostOnly, path, secure: p.secure, httpOnly: p.httpOnly, expires, seq: nextSeq++ });
  }

  private remove(c: StoredCookie): void {
    const list = this.byDomain?.get(c.domain);
    if (list === undefined) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byDomain?.delete(c.domain);
  }
}
