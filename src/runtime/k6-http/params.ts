import { parseDuration } from '../../config/options.js';
import { HerdError } from '../../errors/index.js';
import { canonicalHeaderName } from './canonical-header.js';
import { CookieJar } from './cookie-jar.js';
import { toResponseCallback, type ExpectedStatuses } from './expected-statuses.js';

/** How the body of a response is handed to the script. */
export type ResponseType = 'text' | 'binary' | 'none';

/** A per-request cookie from `params.cookies`. */
export interface ParamCookie {
  readonly name: string;
  readonly value: string;
  readonly replace: boolean;
}

/** A request's params after checking, with k6's defaults left as null/undefined. */
export interface RequestParams {
  /** Headers with canonical names, in the script's order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly tags: ReadonlyArray<readonly [string, string]>;
  readonly timeoutMs: number;
  /** Redirect limit, or null for options.maxRedirects. */
  readonly redirects: number | null;
  /** Null for the default (text, or none with discardResponseBodies). */
  readonly responseType: ResponseType | null;
  readonly auth: string | null;
  readonly cookies: readonly ParamCookie[];
  /** undefined: the VU's jar; null: no jar at all. */
  readonly jar: CookieJar | null | undefined;
  /** undefined: the VU's response callback. */
  readonly responseCallback: ExpectedStatuses | null | undefined;
  readonly compression: string | null;
}

const DEFAULT_TIMEOUT_MS = 60_000;

const EMPTY: RequestParams = {
  headers: [],
  tags: [],
  timeoutMs: DEFAULT_TIMEOUT_MS,
  redirects: null,
  responseType: null,
  auth: null,
  cookies: [],
  jar: undefined,
  responseCallback: undefined,
  compression: null,
};

function bad(message: string): HerdError {
  return new HerdError('script_exception', message);
}

function parseTimeout(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw bad(`params.timeout must be a non-negative number of milliseconds or a duration string, got ${v}`);
    return v;
  }
  if (typeof v === 'string') {
    const ms = parseDuration(v);
    if (ms === null) throw bad(`params.timeout must be a duration like "30s" or a number of milliseconds, got ${JSON.stringify(v)}`);
    return ms;
  }
  throw bad(`params.timeout must be a duration string or a number of milliseconds, got ${typeof v}`);
}

function stringPairs(v: unknown, what: string, canonical: boolean): Array<readonly [string, string]> {
  if (v === null || v === undefined) return [];
  if (typeof v !== 'object') throw bad(`params.${what} must be an object, got ${typeof v}`);
  const out: Array<readonly [string, string]> = [];
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const val = o[k];
    if (val === undefined || val === null) continue;
    out.push([canonical ? canonicalHeaderName(k) : k, typeof val === 'string' ? val : String(val)]);
  }
  return out;
}

function parseCookies(v: unknown): ParamCookie[] {
  if (v === null || v === undefined) return [];
  if (typeof v !== 'object') throw bad(`params.cookies must be an object, got ${typeof v}`);
  const out: ParamCookie[] = [];
  const o = v as Record<string, unknown>;
  for (const name of Object.keys(o)) {
    const c = o[name];
    if (typeof c === 'object' && c !== null) {
      const { value, replace } = c as { value?: unknown; replace?: unknown };
      out.push({ name, value: value === undefined || value === null ? '' : String(value), replace: replace === true });
    } else {
      out.push({ name, value: c === undefined || c === null ? '' : String(c), replace: false });
    }
  }
  return out;
}

/** Checks a script's params object; unknown keys are ignored, as k6 does. */
export function parseParams(v: unknown): RequestParams {
  if (v === undefined || v === null) return EMPTY;
  if (typeof v !== 'object') throw bad(`params must be an object, got ${typeof v}`);
  const p = v as Record<string, unknown>;
  let responseType: ResponseType | null = null;
  if (p.responseType !== undefined && p.responseType !== null) {
    const rt = p.responseType;
    if (rt !== 'text' && rt !== 'binary' && rt !== 'none') throw bad(`invalid responseType ${JSON.stringify(rt)}, it must be "text", "binary" or "none"`);
    responseType = rt;
  }
  let redirects: number | null = null;
  if (p.redirects !== undefined && p.redirects !== null) {
    const r = Number(p.redirects);
    if (!Number.isInteger(r) || r < 0) throw bad(`params.redirects must be a non-negative integer, got ${String(p.redirects)}`);
    redirects = r;
  }
  let jar: CookieJar | null | undefined;
  if ('jar' in p && p.jar !== undefined) {
    if (p.jar !== null && !(p.jar instanceof CookieJar)) throw bad('params.jar must be a CookieJar (http.cookieJar() or new http.CookieJar()) or null');
    jar = p.jar;
  }
  let auth: string | null = null;
  if (p.auth !== undefined && p.auth !== null) {
    auth = String(p.auth).toLowerCase();
    if (auth !== 'basic') {
      throw new HerdError('script_unsupported', `params.auth "${String(p.auth)}" is not supported by herd, only "basic" is`, {
        hint: 'put the credentials in the URL (http://user:pass@host/) for basic auth',
      });
    }
  }
  return {
    headers: stringPairs(p.headers, 'headers', true),
    tags: stringPairs(p.tags, 'tags', false),
    timeoutMs: p.timeout === undefined || p.timeout === null ? DEFAULT_TIMEOUT_MS : parseTimeout(p.timeout),
    redirects,
    responseType,
    auth,
    cookies: parseCookies(p.cookies),
    jar,
    responseCallback: 'responseCallback' in p && p.responseCallback !== undefined ? toResponseCallback(p.responseCallback, 'params.responseCallback') : undefined,
    compression: p.compression === undefined || p.compression === null || p.compression === '' ? null : String(p.compression),
  };
}
