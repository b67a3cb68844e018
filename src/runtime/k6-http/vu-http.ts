import type { TestContext, VuState } from '../vu-state.js';
import { ConnectionPool, DnsCache, type Exchange, type ExchangeObserver } from './client/index.js';
import { CookieJar } from './cookie-jar.js';
import { DEFAULT_EXPECTED, type ExpectedStatuses } from './expected-statuses.js';
import { HostRules } from './host-rules.js';
import type { TagSet } from '../../metrics/tags.js';

/**
 * Tag sets of a request shape (URL, method, name) that has no error: the set for each status,
 * valid while the VU's tags and the response callback are the ones it was made with.
 */
export interface TagCacheEntry {
  readonly vuTags: TagSet;
  readonly callback: ExpectedStatuses | null;
  readonly method: string;
  readonly name: string;
  readonly tlsVersion: string;
  readonly byStatus: Map<number, TagSet>;
}

const TEST_KEY = 'k6/http';
const VU_KEY = 'k6/http';

/** Which of k6/http's system tags are enabled, looked up once per test instead of per request. */
export interface SystemTagFlags {
  readonly proto: boolean;
  readonly status: boolean;
  readonly method: boolean;
  readonly url: boolean;
  readonly name: boolean;
  readonly error: boolean;
  readonly error_code: boolean;
  readonly tls_version: boolean;
  readonly expected_response: boolean;
}

/** k6/http's per-test state (the module root): DNS cache, compiled host rules, tag switches. */
export class TestHttp {
  readonly dns = new DnsCache();
  readonly rules: HostRules;
  readonly sys: SystemTagFlags;

  constructor(test: TestContext) {
    this.rules = new HostRules(test.options);
    const s = test.options.systemTags;
    this.sys = {
      proto: s.has('proto'),
      status: s.has('status'),
      method: s.has('method'),
      url: s.has('url'),
      name: s.has('name'),
      error: s.has('error'),
      error_code: s.has('error_code'),
      tls_version: s.has('tls_version'),
      expected_response: s.has('expected_response'),
    };
  }
}

/** k6/http's per-VU state: connections, cookie jar, response callback. */
export class VuHttp implements ExchangeObserver {
  readonly pool: ConnectionPool;
  readonly jar = new CookieJar();
  /** Set by http.setResponseCallback; null disables http_req_failed and expected_response. */
  responseCallback: ExpectedStatuses | null = DEFAULT_EXPECTED;
  /** Exchanges on the wire now (more than one only inside http.batch, so an array beats a Set). */
  private readonly inflight: Exchange[] = [];
  /** System-tag sets of recent requests, see request.ts. */
  readonly tagCache = new Map<unknown, TagCacheEntry>();
  /** The signal this object listens to; the engine may give the VU a new one. */
  private watched: AbortSignal | null = null;

  constructor(
    readonly vu: VuState,
    readonly test: TestHttp,
  ) {
    this.pool = new ConnectionPool(test.dns);
  }

  /**
   * Runs `ex` (made with this object as its observer), cancelling it if the VU's signal aborts meanwhile. One abort listener per VU
   * (re-registered only when the engine swaps the signal) instead of one per request.
   */
  track(ex: Exchange): Promise<Exchange> {
    const signal = this.vu.signal;
    if (signal.aborted) {
      ex.abort(signal.reason);
      return Promise.resolve(ex);
    }
    if (this.watched !== signal) {
      this.watched?.removeEventListener('abort', this);
      this.watched = signal;
      signal.addEventListener('abort', this);
    }
    this.inflight.push(ex);
    return ex.run();
  }

  /** An exchange is over: stop tracking it. */
  exchangeSettled(ex: Exchange): void {
    const list = this.inflight;
    const i = list.indexOf(ex);
    if (i < 0) return;
    const last = list.pop() as Exchange;
    if (i < list.length) list[i] = last;
  }

  /** The abort listener: cancels every in-flight exchange with the signal's reason. */
  handleEvent(): void {
    const reason: unknown = this.watched?.reason;
    for (const ex of [...this.inflight]) ex.abort(reason);
  }
}

/** The VU's k6/http state, made on first use and kept in `vu.local`. */
export function vuHttpOf(vu: VuState): VuHttp {
  let h = vu.local.get(VU_KEY) as VuHttp | undefined;
  if (h === undefined) {
    let t = vu.test.shared.get(TEST_KEY) as TestHttp | undefined;
    if (t === undefined) {
      t = new TestHttp(vu.test);
      vu.test.shared.set(TEST_KEY, t);
    }
    h = new VuHttp(vu, t);
    vu.local.set(VU_KEY, h);
  }
  return h;
}

/** The VU's k6/http state if the VU ever used k6/http. */
export function existingVuHttp(vu: VuState): VuHttp | undefined {
  return vu.local.get(VU_KEY) as VuHttp | undefined;
}
