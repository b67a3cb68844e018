import { createSecureContext, type SecureContext } from 'node:tls';
import type { Connection } from './connection.js';
import type { DnsCache } from './dns-cache.js';
import type { H2Session } from './h2-session.js';

/** Where TLS connections get their context (versions, ciphers, client certificate) from. */
export interface TlsPolicy {
  /** The context for a connection whose SNI / certificate name is `servername`. */
  contextFor(servername: string): SecureContext;
}

let defaultContext: SecureContext | null = null;

/** Node's defaults, one context shared by every connection instead of one built per connection. */
export const DEFAULT_TLS: TlsPolicy = {
  contextFor: () => (defaultContext ??= createSecureContext()),
};

/**
 * One VU's connections: idle keep-alive connections per origin, and every open one so that
 * they can all be closed when the VU stops or starts a fresh iteration (noVUConnectionReuse).
 * A VU runs one request at a time except inside http.batch, so the lists stay tiny.
 * Every container is made on first use: an empty Map or Set costs ~200 bytes, every VU has a
 * pool, and most VUs never speak HTTP/2.
 */
export class ConnectionPool {
  private idle: Map<string, Connection[]> | null = null;
  /** Open connections: an array, since a VU has one or two (a Set costs ~100 bytes more per VU). */
  private open: Connection[] | null = null;
  /** The HTTP/2 session to reuse per origin (k6 keeps one transport per VU). */
  private h2: Map<string, H2Session> | null = null;
  /** Every open HTTP/2 session, shared or not. */
  private h2Open: Set<H2Session> | null = null;

  constructor(
    /** The test's DNS cache, shared by every VU. */
    readonly dns: DnsCache,
    /** TLS settings of the test (tlsVersion, tlsCipherSuites, tlsAuth). */
    public tls: TlsPolicy = DEFAULT_TLS,
  ) {}

  /** The live HTTP/2 session to `key`, if the origin negotiated h2 before. */
  h2For(key: string): H2Session | undefined {
    if (this.h2 === null || this.h2.size === 0) return undefined;
    const s = this.h2.get(key);
    if (s === undefined) return undefined;
    if (!s.usable) {
      this.h2.delete(key);
      return undefined;
    }
    return s;
  }

  /** Records a new HTTP/2 session; returns whether it became the one reused for its origin. */
  h2Opened(s: H2Session, share: boolean): boolean {
    (this.h2Open ??= new Set()).add(s);
    if (!share) return false;
    const h2 = (this.h2 ??= new Map());
    const cur = h2.get(s.key);
    if (cur !== undefined && cur.usable) return false;
    h2.set(s.key, s);
    return true;
  }

  /** Forgets an HTTP/2 session that closed or may take no more streams. */
  h2Closed(s: H2Session, closed: boolean): void {
    if (closed) this.h2Open?.delete(s);
    if (this.h2 !== null && this.h2.get(s.key) === s) this.h2.delete(s.key);
  }

  /** The idle list of the last key looked up (a VU mostly talks to one origin). */
  private lastKey = '';
  private lastList: Connection[] | undefined = undefined;

  private idleList(key: string): Connection[] | undefined {
    if (key === this.lastKey) return this.lastList;
    const list = this.idle?.get(key);
    if (list !== undefined) {
      this.lastKey = key;
      this.lastList = list;
    }
    return list;
  }

  /** An idle live connection to `key`, taken out of the pool, if there is one. */
  takeIdle(key: string): Connection | undefined {
    const list = this.idleList(key);
    if (list === undefined) return undefined;
    while (list.length > 0) {
      const c = list.pop() as Connection;
      c.idle = false;
      if (!c.dead) return c;
    }
    return undefined;
  }

  /** Records a new connection. */
  opened(c: Connection): void {
    (this.open ??= []).push(c);
  }

  /** Puts a connection whose exchange is over back for reuse. */
  release(c: Connection): void {
    let list = this.idleList(c.key);
    if (list === undefined) {
      list = [];
      (this.idle ??= new Map()).set(c.key, list);
    }
    c.idle = true;
    list.push(c);
  }

  /** Forgets a connection that closed. */
  closed(c: Connection): void {
    const open = this.open;
    if (open !== null) {
      const i = open.lastIndexOf(c);
      if (i >= 0) {
        const last = open.pop() as Connection;
        if (i < open.length) open[i] = last;
      }
    }
    if (!c.idle) return;
    c.idle = false;
    const list = this.idleList(c.key);
    if (list === undefined) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
  }

  /** Number of open connections (for tests and diagnostics). */
  get size(): number {
    return (this.open?.length ?? 0) + (this.h2Open?.size ?? 0);
  }

  /** Closes every connection now; in-flight requests on them fail. Safe to call twice. */
  destroyAll(): void {
    if (this.open !== null) for (const c of this.open.slice()) c.destroy();
    if (this.h2Open !== null) for (const s of [...this.h2Open]) s.destroy();
    if (this.open !== null) this.open.length = 0;
    this.idle?.clear();
    this.lastKey = '';
    this.lastList = undefined;
    this.h2Open?.clear();
    this.h2?.clear();
  }

  /** Closes the idle connections only (between iterations, for noVUConnectionReuse). */
  closeIdle(): void {
    if (this.idle !== null) for (const list of this.idle.values()) {
      for (const c of list.splice(0)) {
        c.idle = false;
        c.destroy();
      }
    }
    if (this.h2Open !== null && this.h2Open.size > 0) {
      for (const s of [...this.h2Open]) if (s.idleNow) s.destroy();
    }
  }
}
