import type { TestContext, VuState } from '../vu-state.js';
import { ConnectionPool, DeadlineWatch, DnsCache, type Exchange, type ExchangeListener, type ExchangeObserver } from './client/index.js';
import { CookieJar } from './cookie-jar.js';
import { DEFAULT_EXPECTED, type ExpectedStatuses } from './expected-statuses.js';
import { HostRules } from './host-rules.js';
import { HeadCache } from './request-head.js';
import { TlsConfig } from './tls-config.js';
import type { TagSet } from '../../metrics/tags.js';
import type { AbortLike } from '../vu-signal.js';

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
  readonly proto: string;
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

/**
 * k6/http's per-test state (the module root): DNS cache, compiled host rules, tag switches and
 * TLS settings. It is made from the options the test has when it is made; the engine replaces
 * the options once the first init run has read the script's (see `testHttpOf`).
 */
export class TestHttp {
  readonly dns: DnsCache;
  readonly rules: HostRules;
  readonly sys: SystemTagFlags;
  readonly tls: TlsConfig;
  /** The request head most recently built by any VU (see HeadCache). */
  readonly heads = new HeadCache();
  /** The options objects this state was made from. */
  readonly options: TestContext['options'];
  readonly exported: TestContext['exportedOptions'];

  constructor(test: TestContext, dns: DnsCache = new DnsCache()) {
    this.options = test.options;
    this.exported = test.exportedOptions;
    // Validated before anything else is built: invalid TLS options fail the test at init.
    this.tls = new TlsConfig(test.exportedOptions);
    this.dns = dns;
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
  /** The test's k6/http state; replaced when the engine consolidates the options (see `refresh`). */
  test: TestHttp;
  readonly jar = new CookieJar();
  /** Set by http.setResponseCallback; null disables http_req_failed and expected_response. */
  responseCallback: ExpectedStatuses | null = DEFAULT_EXPECTED;
  /** Exchanges on the wire now (more than one only inside http.batch, so an array beats a Set). */
  private readonly inflight: Exchange[] = [];
  /** Times out the in-flight exchanges, with one timer for the VU. */
  private readonly deadlines = new DeadlineWatch(this.inflight);
  /** The last request head built, reused while requests repeat (see HeadCache). */
  readonly heads: HeadCache;
  /** System-tag sets of recent requests, see request.ts. */
  readonly tagCache = new Map<unknown, TagCacheEntry>();
  /** The signal this object listens to; the engine may give the VU a new one. */
  private watched: AbortLike | null = null;

  constructor(
    readonly vu: VuState,
    test: TestHttp,
  ) {
    this.test = test;
    this.pool = new ConnectionPool(test.dns, test.tls);
    this.heads = new HeadCache(test.heads);
  }

  /**
   * Picks up the test's current k6/http state when the options changed since this VU made
   * its own (the first VU is initialized before the script's options are consolidated and
   * then runs setup and teardown). One identity check per request.
   */
  refresh(): void {
    const t = testHttpOf(this.vu.test);
    this.test = t;
    this.pool.tls = t.tls;
  }

  /**
   * Starts `ex` (made with this object as its observer); `listener` hears when it is over,
   * also when the VU's signal cancels it meanwhile. One abort listener per VU (re-registered
   * only when the engine swaps the signal) instead of one per request.
   */
  track(ex: Exchange, listener: ExchangeListener): void {
    const signal = this.vu.signal;
    if (signal.aborted) {
      ex.abort(signal.reason);
      listener.exchangeDone(ex);
      return;
    }
    if (this.watched !== signal) {
      this.watched?.removeEventListener('abort', this);
      this.watched = signal;
      signal.addEventListener('abort', this);
    }
    this.inflight.push(ex);
    ex.start(listener);
  }

  /** An exchange went out (it is in `inflight` already): its timeout starts. */
  exchangeStarted(ex: Exchange): void {
    this.deadlines.started(ex);
  }

  /** An exchange is over: stop tracking it. */
  exchangeSettled(ex: Exchange): void {
    const list = this.inflight;
    const i = list.indexOf(ex);
    if (i < 0) return;
    const last = list.pop() as Exchange;
    if (i < list.length) list[i] = last;
    if (list.length === 0) this.deadlines.idle();
  }

  /** The abort listener: cancels every in-flight exchange with the signal's reason. */
  handleEvent(): void {
    const reason: unknown = this.watched?.reason;
    for (const ex of [...this.inflight]) ex.abort(reason);
  }
}

/**
 * The test's k6/http state, kept in `test.shared` and rebuilt (keeping the DNS cache) when the
 * test's options objects were replaced. Invalid TLS options throw HerdError('invalid_option').
 */
export function testHttpOf(test: TestContext): TestHttp {
  const t = test.shared.get(TEST_KEY) as TestHttp | undefined;
  if (t !== undefined && t.options === test.options && t.exported === test.exportedOptions) return t;
  const fresh = new TestHttp(test, t?.dns);
  test.shared.set(TEST_KEY, fresh);
  return fresh;
}

/** The VU's k6/http state, made on first use and kept in `vu.local`. */
export function vuHttpOf(vu: VuState): VuHttp {
  let h = vu.local.get(VU_KEY) as VuHttp | undefined;
  if (h === undefined) {
    h = new VuHttp(vu, testHttpOf(vu.test));
    vu.local.set(VU_KEY, h);
  }
  return h;
}

/** The VU's k6/http state if the VU ever used k6/http. */
export function existingVuHttp(vu: VuState): VuHttp | undefined {
  return vu.local.get(VU_KEY) as VuHttp | undefined;
}
