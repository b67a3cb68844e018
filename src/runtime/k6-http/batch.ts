import { HerdError } from '../../errors/index.js';
import { performRequest } from './request.js';
import type { HttpResponse } from './response.js';
import { HttpUrl } from './tagged-url.js';
import { parseUrl } from './url-parts.js';
import type { VuHttp } from './vu-http.js';

/** One batch entry in normalized form. */
interface BatchItem {
  readonly method: unknown;
  readonly url: unknown;
  readonly body: unknown;
  readonly params: unknown;
  /** Host (and port) used for the batchPerHost limit. */
  readonly host: string;
}

function hostOf(url: unknown): string {
  const u = parseUrl(url instanceof HttpUrl ? url.url : String(url));
  return u instanceof Error ? '' : u.hostHeader;
}

function normalize(entry: unknown, where: string): BatchItem {
  if (typeof entry === 'string' || entry instanceof HttpUrl || entry instanceof URL) {
    return { method: 'GET', url: entry, body: null, params: undefined, host: hostOf(entry) };
  }
  if (Array.isArray(entry)) {
    if (entry.length < 2) throw new HerdError('script_exception', `invalid batch request ${where}: an array needs at least a method and a URL`);
    return { method: entry[0], url: entry[1], body: entry[2] ?? null, params: entry[3], host: hostOf(entry[1]) };
  }
  if (typeof entry === 'object' && entry !== null) {
    const o = entry as { method?: unknown; url?: unknown; body?: unknown; params?: unknown };
    if (o.url === undefined || o.url === null) throw new HerdError('script_exception', `invalid batch request ${where}: it has no url`);
    return { method: o.method ?? 'GET', url: o.url, body: o.body ?? null, params: o.params, host: hostOf(o.url) };
  }
  throw new HerdError('script_exception', `invalid batch request ${where}: expected a URL string, an array or an object, got ${typeof entry}`);
}

/**
 * Runs the requests in parallel, at most options.batch at once and options.batchPerHost per
 * host (0 = no per-host limit), starting them in the order given; results keep that order
 * (array form) or those keys (object form). The first thrown error (options.throw) rejects.
 */
export function batch(h: VuHttp, requests: unknown): Promise<HttpResponse[] | Record<string, HttpResponse>> {
  if (typeof requests !== 'object' || requests === null) {
    throw new HerdError('script_exception', 'http.batch() takes an array or an object of requests');
  }
  const isArray = Array.isArray(requests);
  const keys = isArray ? null : Object.keys(requests);
  const entries: unknown[] = isArray ? (requests as unknown[]) : (keys as string[]).map((k) => (requests as Record<string, unknown>)[k]);
  const items = entries.map((e, i) => normalize(e, isArray ? `#${i}` : `"${(keys as string[])[i] as string}"`));
  const n = items.length;
  const results: HttpResponse[] = new Array<HttpResponse>(n);
  const finish = (): HttpResponse[] | Record<string, HttpResponse> => {
    if (keys === null) return results;
    const out: Record<string, HttpResponse> = {};
    keys.forEach((k, i) => {
      out[k] = results[i] as HttpResponse;
    });
    return out;
  };
  if (n === 0) return Promise.resolve(finish());
  const opts = h.vu.test.options;
  const limit = Math.max(1, opts.batch);
  const perHost = opts.batchPerHost;
  return new Promise((resolve, reject) => {
    const started = new Array<boolean>(n).fill(false);
    const hostActive = new Map<string, number>();
    let active = 0;
    let done = 0;
    let failed = false;
    const pump = (): void => {
      for (let i = 0; i < n && active < limit && !failed; i++) {
        if (started[i] === true) continue;
        const item = items[i] as BatchItem;
        const busy = hostActive.get(item.host) ?? 0;
        if (perHost > 0 && busy >= perHost) continue;
        started[i] = true;
        active++;
        hostActive.set(item.host, busy + 1);
        performRequest(h, item.method, item.url, item.body, item.params).then(
          (r) => {
            results[i] = r;
            active--;
            hostActive.set(item.host, (hostActive.get(item.host) ?? 1) - 1);
            done++;
            if (done === n) resolve(finish());
            else pump();
          },
          (e: unknown) => {
            failed = true;
            reject(e);
          },
        );
      }
    };
    pump();
  });
}
