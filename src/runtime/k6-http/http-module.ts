import { lazyModule } from '../lazy-module.js';
import type { RuntimeModule, VuState } from '../vu-state.js';
import { batch } from './batch.js';
import { CookieJar } from './cookie-jar.js';
import { expectedStatuses, toResponseCallback } from './expected-statuses.js';
import { assertNotInit, performRequest } from './request.js';
import { httpFile } from './request-body.js';
import type { HttpResponse } from './response.js';
import { urlTemplate } from './tagged-url.js';
import { testHttpOf, vuHttpOf, type VuHttp } from './vu-http.js';

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

/** A request function of the VU whose k6/http state is `h`; its promises belong to the script's realm. */
function requester(h: VuHttp) {
  return (method: unknown, url: unknown, body?: unknown, params?: unknown): Promise<HttpResponse> => {
    assertNotInit(h);
    return performRequest(h, method, url, body, params, h.vu.test.ScriptPromise);
  };
}

/** The functions of `import http from 'k6/http'` that act for a VU, each made on its first use. */
const perVU: Record<string, (vu: VuState) => unknown> = {
  request: (vu) => requester(vuHttpOf(vu)),
  asyncRequest: (vu) => requester(vuHttpOf(vu)),
  get: (vu) => {
    const request = requester(vuHttpOf(vu));
    return (url: unknown, params?: unknown) => request('GET', url, null, params);
  },
  head: (vu) => {
    const request = requester(vuHttpOf(vu));
    return (url: unknown, params?: unknown) => request('HEAD', url, null, params);
  },
  batch: (vu) => {
    const h = vuHttpOf(vu);
    return (requests: unknown) => {
      assertNotInit(h);
      return batch(h, requests);
    };
  },
  cookieJar: (vu) => {
    const h = vuHttpOf(vu);
    return () => h.jar;
  },
  setResponseCallback: (vu) => {
    const h = vuHttpOf(vu);
    return (cb: unknown) => {
      h.responseCallback = toResponseCallback(cb, 'the argument of setResponseCallback');
    };
  },
};
for (const [name, method] of [['post', 'POST'], ['put', 'PUT'], ['patch', 'PATCH'], ['del', 'DELETE'], ['options', 'OPTIONS']] as const) {
  perVU[name] = (vu) => {
    const request = requester(vuHttpOf(vu));
    return (url: unknown, body?: unknown, params?: unknown) => request(method, url, body, params);
  };
}

const moduleFor = lazyModule<VuState>(perVU, { CookieJar, url: urlTemplate, expectedStatuses, file: httpFile, ...TLS, ...OCSP });

/**
 * Builds the object a VU's script gets from `import http from 'k6/http'`. The test's k6/http
 * state is made (or checked against the current options) here, so invalid TLS options fail the
 * init code that imports k6/http, as in k6.
 */
function instantiate(vu: VuState): Record<string, unknown> {
  testHttpOf(vu.test);
  return moduleFor(vu);
}

/** The `k6/http` module. */
export function createHttpModule(): RuntimeModule {
  return { specifier: 'k6/http', instantiate };
}
