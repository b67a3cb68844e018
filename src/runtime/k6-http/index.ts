/**
 * `k6/http` for herd: k6's HTTP API with k6's semantics (params, Response, redirects, cookie
 * jars, batch, metrics and tags) on a purpose-built HTTP/1.1 client (./client), which hands
 * TLS connections whose ALPN picked h2 to node:http2 sessions; TLS options in ./tls-config.ts.
 */
import type { VuState } from '../vu-state.js';
import { existingVuHttp } from './vu-http.js';

export { createHttpModule } from './http-module.js';
export { HttpResponse, type ResponseBody, type ResponseCookie, type RequestCookie, type RequestInfo } from './response.js';
export { CookieJar, type CookieOptions } from './cookie-jar.js';
export { HttpUrl } from './tagged-url.js';
export { ExpectedStatuses } from './expected-statuses.js';
export { FileData } from './request-body.js';

/**
 * Called by the engine when a VU starts an iteration: empties the VU's cookie jar unless
 * options.noCookiesReset, and closes its idle connections when options.noVUConnectionReuse.
 */
export function resetCookieJar(vu: VuState): void {
  const h = existingVuHttp(vu);
  if (h === undefined) return;
  const o = vu.test.options;
  if (!o.noCookiesReset) h.jar.reset();
  if (o.noVUConnectionReuse) h.pool.closeIdle();
}

/** Called by the engine when a VU is done for good: closes every connection it holds. Safe to call twice. */
export function closeHttpConnections(vu: VuState): void {
  existingVuHttp(vu)?.pool.destroyAll();
}
