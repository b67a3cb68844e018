import type { RuntimeOptions } from '../../config/options.js';
import { RequestError, K6ErrorCode } from './client/index.js';

/** Where to connect for a host after the `hosts` option, or a blocked-hostname error. */
export interface ConnectAddress {
  readonly host: string;
  readonly port: number;
}

interface Override {
  readonly host: string;
  readonly port: number | null;
}

function parseOverride(value: string): Override {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (v6 !== null) return { host: v6[1] as string, port: v6[2] === undefined ? null : Number(v6[2]) };
  const colon = value.lastIndexOf(':');
  // One colon: host:port. Several without brackets: a bare IPv6 address.
  if (colon > 0 && value.indexOf(':') === colon && /^\d+$/.test(value.slice(colon + 1))) {
    return { host: value.slice(0, colon), port: Number(value.slice(colon + 1)) };
  }
  return { host: value, port: null };
}

/**
 * The test's `hosts` overrides and `blockHostnames` patterns, compiled once per test.
 * Hosts keys are "name" or "name:port" (the latter wins); blocked patterns are exact names or
 * "*.suffix" globs, matched case-insensitively as k6 does.
 */
export class HostRules {
  private readonly overrides = new Map<string, Override>();
  private readonly exact = new Set<string>();
  private readonly suffixes: Array<[string, string]> = [];
  private readonly hasRules: boolean;

  constructor(options: RuntimeOptions) {
    for (const [k, v] of Object.entries(options.hosts)) this.overrides.set(k.toLowerCase(), parseOverride(v));
    for (const p of options.blockHostnames) {
      const lower = p.toLowerCase();
      if (lower.startsWith('*')) this.suffixes.push([lower.slice(1), p]);
      else this.exact.add(lower);
    }
    this.hasRules = this.overrides.size > 0 || this.exact.size > 0 || this.suffixes.length > 0;
  }

  /** The address to connect to for `hostname:port` (null: the URL's own), or error 1111 when the name is blocked. */
  resolve(hostname: string, port: number): ConnectAddress | RequestError | null {
    if (!this.hasRules) return null;
    const lower = hostname.toLowerCase();
    if (this.exact.has(lower)) {
      return new RequestError(K6ErrorCode.blockedHostname, `hostname (${hostname}) is in a blocked pattern (${hostname})`);
    }
    for (const [suffix, pattern] of this.suffixes) {
      if (lower.endsWith(suffix)) {
        return new RequestError(K6ErrorCode.blockedHostname, `hostname (${hostname}) is in a blocked pattern (${pattern})`);
      }
    }
    const o = this.overrides.get(`${lower}:${port}`) ?? this.overrides.get(lower);
    if (o === undefined) return null;
    return { host: o.host, port: o.port ?? port };
  }
}
