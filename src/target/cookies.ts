import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendEmpty, sendError, sendJson } from './respond.js';

/** `GET /cookies`: the cookies of the `Cookie` header as `{"cookies":{name: value}}`. */
export function handleCookies(req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { cookies: parseCookieHeader(req.headers.cookie) });
}

/** `GET /cookies/set?k=v…`: one `Set-Cookie: k=v; Path=/` per query pair, then 302. */
export function handleCookiesSet(res: ServerResponse, query: string): void {
  const cookies: string[] = [];
  for (const [name, value] of new URLSearchParams(query)) {
    if (!COOKIE_NAME.test(name) || !COOKIE_VALUE.test(value)) {
      sendError(res, 400, 'invalid cookie');
      return;
    }
    cookies.push(`${name}=${value}; Path=/`);
  }
  redirectToCookies(res, cookies);
}

/** `GET /cookies/delete?k…`: one expired `Set-Cookie` per key, then 302. */
export function handleCookiesDelete(res: ServerResponse, query: string): void {
  const cookies: string[] = [];
  for (const name of new URLSearchParams(query).keys()) {
    if (!COOKIE_NAME.test(name)) {
      sendError(res, 400, 'invalid cookie');
      return;
    }
    cookies.push(`${name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/`);
  }
  redirectToCookies(res, cookies);
}

// A cookie name is an RFC 9110 token. Values may be anything printable except `;`, which
// would end the cookie; both checks also keep Node from throwing on invalid header bytes.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_VALUE = /^[\x20-\x3a\x3c-\x7e]*$/;

function redirectToCookies(res: ServerResponse, cookies: string[]): void {
  const headers: Record<string, string | string[]> = { Location: '/cookies' };
  if (cookies.length > 0) headers['Set-Cookie'] = cookies;
  sendEmpty(res, 302, headers);
}

/** Splits `a=1; b=2` into `{a: "1", b: "2"}`; the first occurrence of a name wins. */
function parseCookieHeader(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (header === undefined) return out;
  for (const piece of header.split(';')) {
    const eq = piece.indexOf('=');
    const name = (eq === -1 ? piece : piece.slice(0, eq)).trim();
    if (name.length === 0 || name in out) continue;
    out[name] = eq === -1 ? '' : piece.slice(eq + 1).trim();
  }
  return out;
}
