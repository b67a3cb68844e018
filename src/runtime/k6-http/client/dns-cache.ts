import { lookup } from 'node:dns';
import { isIP } from 'node:net';

/** One resolved address. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

interface Entry {
  value: ResolvedAddress;
  expires: number;
}

/**
 * A small per-test DNS cache in front of `dns.lookup` (which goes through the OS resolver and
 * the libuv thread pool, far too slow to call per request). Entries live `ttlMs` (k6's default
 * DNS TTL is 5 minutes); concurrent lookups of one name share one query.
 */
export class DnsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<ResolvedAddress>>();

  constructor(private readonly ttlMs = 5 * 60_000) {}

  /** The cached address of `host` (or `host` itself when it is an IP literal), without waiting. */
  peek(host: string): ResolvedAddress | undefined {
    const family = isIP(host);
    if (family !== 0) return { address: host, family: family as 4 | 6 };
    const e = this.entries.get(host);
    if (e === undefined) return undefined;
    if (e.expires < Date.now()) {
      this.entries.delete(host);
      return undefined;
    }
    return e.value;
  }

  /** Resolves `host`, from the cache when fresh. */
  resolve(host: string): Promise<ResolvedAddress> {
    const hit = this.peek(host);
    if (hit !== undefined) return Promise.resolve(hit);
    let p = this.inflight.get(host);
    if (p === undefined) {
      p = new Promise<ResolvedAddress>((resolve, reject) => {
        lookup(host, (err, address, family) => {
          this.inflight.delete(host);
          if (err !== null) {
            reject(err);
            return;
          }
          const value: ResolvedAddress = { address, family: family === 6 ? 6 : 4 };
          this.entries.set(host, { value, expires: Date.now() + this.ttlMs });
          resolve(value);
        });
      });
      this.inflight.set(host, p);
    }
    return p;
  }
}
