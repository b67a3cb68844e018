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
/** The request cookies of a hop that sent none (shared; `request` hands out a fresh object). */
export const NO_COOKIES: Record<string, RequestCookie[]> = Object.freeze({});
const NO_REQUEST: RequestInfo = Object.freeze({ method: '', url: '', headers: Object.freeze({}), body: '', cookies: NO_COOKIES });

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

  /**
   * What `request` shows. Its header map is shared with the VU's other responses (it is the
   * request head cache's view) until a script reads `request`, which then gets its own copy:
   * most scripts never read it, and copying it for every response was a measurable part of a
   * request's cost.
   */
  #request: RequestInfo = NO_REQUEST;
  #requestShared = true;
  #parsed = false;
  #doc: unknown = undefined;

  /** `Response.request`: what was sent for the final hop. */
  get request(): RequestInfo {
    if (this.#requestShared) {
      const r = this.#request;
      const headers: Record<string, string[]> = {};
      for (const name in r.headers) headers[name] = (r.headers[name] as string[]).slice();
      this.#request = { method: r.method, url: r.url, headers, body: r.body, cookies: r.cookies === NO_COOKIES ? {} : r.cookies };
      this.#requestShared = false;
    }
    return this.#request;
  }

  set request(v: RequestInfo) {
    this.#request = v;
    this.#requestShared = false;
  }

  /** Sets `request` to `r`, whose header map the caller shares: a script reading it gets a copy. */
  shareRequest(r: RequestInfo): void {
    this.#request = r;
    this.#requestShared = true;
  }

  /** `JSON.stringify(res)` shows `request` too, which lives behind an accessor. */
  toJSON(): object {
    return { ...this, request: this.request };
  }

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
