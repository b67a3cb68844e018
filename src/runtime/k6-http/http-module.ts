import { moduleObject, type RuntimeModule, type VuState } from '../vu-state.js';
import { batch } from './batch.js';
import { CookieJar } from './cookie-jar.js';
import { expectedStatuses, toResponseCallback } from './expected-statuses.js';
import { assertNotInit, performRequest } from './request.js';
import { httpFile } from './request-body.js';
import type { HttpResponse } from './response.js';
import { urlTemplate } from './tagged-url.js';
import { vuHttpOf } from './vu-http.js';

/** k6's TLS version constants, valued as k6 reports `Response.tls_version`. */
const TLS = { SSL_3_0: 'ssl3.0', TLS_1_0: 'tls1.0', TLS_1_1: 'tls1.1', TLS_1_2: 'tls1.2', TLS_1_3: 'tls1.3' } as const;

/** k6's OCSP constants (herd reports no stapled OCSP responses, but scripts may compare with them). */
const OCSP = {
  OCSP_STATUS_GOOD: 'good',
  OCSP_STATUS_REVOKED: 'revoked',
  OCSP_STATUS_UNKNOWN: 'unknown',
  OCSP_STATUS_SERVER_FAILED: 'server_failed',
  OCSP_REASON_UNSPECIFIED: 'unspecified',
  OCSP_REASON_KEY_COMPROMISE: 'key_compromise',
  OCSP_REASON_CA_COMPROMISE: 'ca_compromise',
  OCSP_REASON_AFFILIATION_CHANGED: 'affiliation_changed',
  OCSP_REASON_SUPERSEDED: 'superseded',
  OCSP_REASON_CESSATION_OF_OPERATION: 'cessation_of_operation',
  OCSP_REASON_CERTIFICATE_HOLD: 'certificate_hold',
  OCSP_REASON_REMOVE_FROM_CRL: 'remove_from_crl',
  OCSP_REASON_PRIVILEGE_WITHDRAWN: 'privilege_withdrawn',
  OCSP_REASON_AA_COMPROMISE: 'aa_compromise',
} as const;

/** Builds the object a VU's script gets from `import http from 'k6/http'`. */
function instantiate(vu: VuState): Record<string, unknown> {
  const h = vuHttpOf(vu);
  const request = (method: unknown, url: unknown, body?: unknown, params?: unknown): Promise<HttpResponse> => {
    assertNotInit(h);
    return performRequest(h, method, url, body, params);
  };
  const http = {
    get: (url: unknown, params?: unknown) => request('GET', url, null, params),
    head: (url: unknown, params?: unknown) => request('HEAD', url, null, params),
    post: (url: unknown, body?: unknown, params?: unknown) => request('POST', url, body, params),
    put: (url: unknown, body?: unknown, params?: unknown) => request('PUT', url, body, params),
    patch: (url: unknown, body?: unknown, params?: unknown) => request('PATCH', url, body, params),
    del: (url: unknown, body?: unknown, params?: unknown) => request('DELETE', url, body, params),
    options: (url: unknown, body?: unknown, params?: unknown) => request('OPTIONS', url, body, params),
    request,
    asyncRequest: request,
    batch: (requests: unknown) => {
      assertNotInit(h);
      return batch(h, requests);
    },
    cookieJar: () => h.jar,
    CookieJar,
    url: urlTemplate,
    expectedStatuses,
    setResponseCallback: (cb: unknown) => {
      h.responseCallback = toResponseCallback(cb, 'the argument of setResponseCallback');
    },
    file: httpFile,
    ...TLS,
    ...OCSP,
  };
  return moduleObject(http);
}

/** The `k6/http` module. */
export function createHttpModule(): RuntimeModule {
  return { specifier: 'k6/http', instantiate };
}
