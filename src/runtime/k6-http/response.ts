import { HerdError } from '../../errors/index.js';
import type { Timings } from './client/index.js';
import { selectJson } from './json-selector.js';

/** One cookie of `Response.cookies`, with k6's field names. */
export interface ResponseCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  http_only: boolean;
  secure: boolean;
  max_age: number;
  /** Epoch ms; 0 when the cookie has no Expires attribute. */
  expires: number;
}

/** One cookie the request carried, as `Response.request.cookies` lists it. */
export interface RequestCookie {
  name: string;
  value: string;
  replace: boolean;
}

/** `Response.request`: what was sent for the final hop. */
export interface RequestInfo {
  method: string;
  url: string;
  /** Header names in canonical form, each with its values. */
  headers: Record<string, string[]>;
  body: string;
  cookies: Record<string, RequestCookie[]>;
}

/** The body forms k6 gives scripts. */
export type ResponseBody = string | ArrayBuffer | null;

const NO_OCSP = Object.freeze({ produced_at: 0, this_update: 0, next_update: 0, revoked_at: 0, revocation_reason: '', status: '' });
const NO_TIMINGS: Timings = Object.freeze({ blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting: 0, receiving: 0, duration: 0 });
const NO_REQUEST: RequestInfo = Object.freeze({ method: '', url: '', headers: {}, body: '', cookies: {} });

/**
 * k6's Response object. Fields are plain properties (scripts read them constantly);
 * `json()` parses once and caches the document.
 */
export class HttpResponse {
  status = 0;
  status_text = '';
  proto = '';
  url = '';
  body: ResponseBody = null;
  headers: Record<string, string> = {};
  cookies: Record<string, ResponseCookie[]> = {};
  timings: Timings = NO_TIMINGS;
  error = '';
  error_code = 0;
  remote_ip = '';
  remote_port = 0;
  tls_version = '';
  tls_cipher_suite = '';
  /** herd reports no stapled OCSP response. */
  ocsp: typeof NO_OCSP = NO_OCSP;
  request: RequestInfo = NO_REQUEST;

  #parsed = false;
  #doc: unknown = undefined;

  /** The body parsed as JSON, or the part `selector` (gjson syntax) picks, undefined when absent. */
  json(selector?: unknown): unknown {
    if (this.body === null) {
      throw new HerdError('script_exception', "the body is null so we can't transform it to JSON - this likely was because of a request error getting the response");
    }
    if (!this.#parsed) {
      const text = typeof this.body === 'string' ? this.body : Buffer.from(this.body).toString('utf8');
      try {
        this.#doc = JSON.parse(text);
      } catch (e) {
        if (selector !== undefined && selector !== null && selector !== '') return undefined;
        throw new HerdError('script_exception', `cannot parse json due to an error: ${(e as Error).message}`);
      }
      this.#parsed = true;
    }
    if (selector === undefined || selector === null || selector === '') return this.#doc;
    const r = selectJson(this.#doc, String(selector));
    return r.found ? r.value : undefined;
  }

  /** Not implemented yet: herd has no k6/html. */
  html(): never {
    throw new HerdError('script_unsupported', 'Response.html() is not supported by herd yet', {
      hint: 'parse the body with a regular expression or res.json() for now',
    });
  }

  /** Not implemented yet: needs k6/html. */
  clickLink(): never {
    return this.html();
  }

  /** Not implemented yet: needs k6/html. */
  submitForm(): never {
    return this.html();
  }
}
