import type { Connection } from './connection.js';
import type { DnsCache } from './dns-cache.js';

/**
 * One VU's connections: idle keep-alive connections per origin, and every open one so that
 * they can all be closed when the VU stops or starts a fresh iteration (noVUConnectionReuse).
 * A VU runs one request at a time except inside http.batch, so the lists stay tiny.
 */
export class ConnectionPool {
  private readonly idle = new Map<string, Connection[]>();
  private readonly open = new Set<Connection>();

  constructor(
    /** The test's DNS cache, shared by every VU. */
    readonly dns: DnsCache,
  ) {}

  /** An idle live connection to `key`, taken out of the pool, if there is one. */
  takeIdle(key: string): Connection | undefined {
    const list = this.idle.get(key);
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
    this.open.add(c);
  }

  /** Puts a connection whose exchange is over back for reuse. */
  release(c: Connection): void {
    let list = this.idle.get(c.key);
    if (list === undefined) {
      list = [];
      this.idle.set(c.key, list);
    }
    c.idle = true;
    list.push(c);
  }

  /** Forgets a connection that closed. */
  closed(c: Connection): void {
    this.open.delete(c);
    if (!c.idle) return;
    c.idle = false;
    const list = this.idle.get(c.key);
    if (list === undefined) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
  }

  /** Number of open connections (for tests and diagnostics). */
  get size(): number {
    return this.open.size;
  }

  /** Closes every connection now; in-flight requests on them fail. Safe to call twice. */
  destroyAll(): void {
    for (const c of [...this.open]) c.destroy();
    this.open.clear();
    this.idle.clear();
  }

  /** Closes the idle connections only (between iterations, for noVUConnectionReuse). */
  closeIdle(): void {
    for (const list of this.idle.values()) {
      for (const c of list.splice(0)) {
        c.idle = false;
        c.destroy();
      }
    }
  }
}
