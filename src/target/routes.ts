import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { atLeast } from './at-least.js';
import { BASIC_CHALLENGE, handleBasicAuth } from './basic-auth.js';
import { readBody } from './body.js';
import { handleCookies, handleCookiesDelete, handleCookiesSet } from './cookies.js';
import { getEcho, requestEcho } from './echo.js';
import { HTML_PAGE, JSON_DOCUMENT, ONE_K_BODY, ROOT_BODY } from './fixtures.js';
import { echoHeaders } from './headers.js';
import {
  JSON_TYPE,
  sendBody,
  sendEmpty,
  sendError,
  sendJson,
  sendMethodNotAllowed,
  sendNotFound,
} from './respond.js';

/** Longest wait `/delay/<s>` honours, whatever it is asked for. */
export const MAX_DELAY_SECONDS = 10;
/** Largest body `/bytes/<n>` produces. */
export const MAX_BYTES = 1048576;
/** Highest hop count `/redirect/<n>` accepts. */
export const MAX_REDIRECTS = 100;

const TEXT_TYPE = 'text/plain; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const INTEGER = /^\d+$/;

/** The `request` listener of the target: dispatches by path, never throws. */
export function handleRequest(req: IncomingMessage, res: ServerResponse): void {
  try {
    dispatch(req, res);
  } catch {
    fail(res);
  }
}

/** Splits the raw target into path and query; an absolute-form target is reduced first. */
function splitTarget(target: string): [path: string, query: string] {
  let pathAndQuery = target;
  if (!target.startsWith('/')) {
    try {
      const url = new URL(target);
      pathAndQuery = url.pathname + url.search;
    } catch {
      pathAndQuery = '/';
    }
  }
  const q = pathAndQuery.indexOf('?');
  return q === -1 ? [pathAndQuery, ''] : [pathAndQuery.slice(0, q), pathAndQuery.slice(q + 1)];
}

function dispatch(req: IncomingMessage, res: ServerResponse): void {
  const method = req.method ?? 'GET';
  const [path, query] = splitTarget(req.url ?? '/');

  switch (path) {
    case '/':
      if (only(method, 'GET', res)) sendBody(res, 200, TEXT_TYPE, ROOT_BODY);
      return;
    case '/1k':
      if (only(method, 'GET', res)) sendBody(res, 200, TEXT_TYPE, ONE_K_BODY);
      return;
    case '/get':
      if (method === 'GET' || method === 'HEAD') sendJson(res, 200, getEcho(req));
      else sendMethodNotAllowed(res, 'GET, HEAD');
      return;
    case '/post':
    case '/put':
    case '/patch':
    case '/delete':
      // The path names its only method: `/put` accepts PUT, and so on.
      if (only(method, path.slice(1).toUpperCase(), res)) echo(req, res, false, 0);
      return;
    case '/anything':
      echo(req, res, true, 0);
      return;
    case '/json':
      if (only(method, 'GET', res)) sendBody(res, 200, JSON_TYPE, JSON_DOCUMENT);
      return;
    case '/html':
      if (only(method, 'GET', res)) sendBody(res, 200, HTML_TYPE, HTML_PAGE);
      return;
    case '/headers':
      if (only(method, 'GET', res)) sendJson(res, 200, { headers: echoHeaders(req.rawHeaders) });
      return;
    case '/user-agent':
      if (only(method, 'GET', res)) {
        sendJson(res, 200, { 'user-agent': req.headers['user-agent'] ?? null });
      }
      return;
    case '/uuid':
      if (only(method, 'GET', res)) sendJson(res, 200, { uuid: randomUUID() });
      return;
    case '/cookies':
      if (only(method, 'GET', res)) handleCookies(req, res);
      return;
    case '/cookies/set':
      if (only(method, 'GET', res)) handleCookiesSet(res, query);
      return;
    case '/cookies/delete':
      if (only(method, 'GET', res)) handleCookiesDelete(res, query);
      return;
    case '/ws/echo':
      // Upgrade requests never reach this listener (see ws-echo.ts); a plain GET lacks one.
      if (only(method, 'GET', res)) sendError(res, 400, 'websocket upgrade required');
      return;
  }

  if (path.startsWith('/anything/')) {
    echo(req, res, true, 0);
    return;
  }
  const slash = path.indexOf('/', 1);
  if (slash === -1) {
    sendNotFound(res);
    return;
  }
  const prefix = path.slice(0, slash);
  const rest = path.slice(slash + 1);
  switch (prefix) {
    case '/status':
      if (!rest.includes('/')) return status(res, rest);
      break;
    case '/delay':
      if (!rest.includes('/')) return delay(req, res, rest);
      break;
    case '/bytes':
      if (!rest.includes('/')) {
        if (only(method, 'GET', res)) bytes(res, rest);
        return;
      }
      break;
    case '/redirect':
      if (!rest.includes('/')) {
        if (only(method, 'GET', res)) redirect(res, rest);
        return;
      }
      break;
    case '/basic-auth':
      // Wrong segment counts are answered 404 by the handler, after the method check.
      if (only(method, 'GET', res)) handleBasicAuth(req, res, rest);
      return;
  }
  sendNotFound(res);
}

/** True when `method` is `allowed`; otherwise answers 405 and returns false. */
function only(method: string, allowed: string, res: ServerResponse): boolean {
  if (method === allowed) return true;
  sendMethodNotAllowed(res, allowed);
  return false;
}

/** Reads the body, waits `delayMs`, then answers with the request echo document. */
function echo(req: IncomingMessage, res: ServerResponse, withMethod: boolean, delayMs: number): void {
  readBody(req).then(
    (body) => {
      if (delayMs <= 0) {
        sendJson(res, 200, requestEcho(req, body, withMethod));
        return;
      }
      // Never cut short: scripts check that a 60 ms delay gives no faster response.
      const cancel = atLeast(delayMs, () => {
        try {
          sendJson(res, 200, requestEcho(req, body, withMethod));
        } catch {
          fail(res);
        }
      });
      // A client that gives up (or a server that shuts down) must not leave the timer
      // holding the process open for up to ten seconds.
      res.once('close', cancel);
    },
    () => fail(res),
  );
}

/** `/status/<code>[,<code>…]`: the first code answers; every code must be 200…599. */
function status(res: ServerResponse, list: string): void {
  let first = 0;
  for (const text of list.split(',')) {
    const code = INTEGER.test(text) ? Number(text) : NaN;
    if (!(code >= 200 && code <= 599)) {
      sendError(res, 400, 'invalid status code');
      return;
    }
    if (first === 0) first = code;
  }
  if (REDIRECT_STATUSES.has(first)) sendEmpty(res, first, { Location: '/get' });
  else if (first === 401) sendEmpty(res, first, BASIC_CHALLENGE);
  else sendEmpty(res, first);
}

/** `/delay/<seconds>`: validates the decimal, then echoes after min(seconds, 10) s. */
function delay(req: IncomingMessage, res: ServerResponse, text: string): void {
  if (!DECIMAL.test(text)) {
    sendError(res, 400, 'invalid delay');
    return;
  }
  const seconds = Math.min(Number(text), MAX_DELAY_SECONDS);
  echo(req, res, true, Math.round(seconds * 1000));
}

/** `/bytes/<n>`: n random bytes, 0 ≤ n ≤ 1 MiB. */
function bytes(res: ServerResponse, text: string): void {
  const n = INTEGER.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= MAX_BYTES)) {
    sendError(res, 400, 'invalid byte count');
    return;
  }
  sendBody(res, 200, 'application/octet-stream', randomBytes(n));
}

/** `/redirect/<n>`: a chain of n 302s ending at `/get`. */
function redirect(res: ServerResponse, text: string): void {
  const n = INTEGER.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_REDIRECTS)) {
    sendError(res, 400, 'invalid redirect count');
    return;
  }
  sendEmpty(res, 302, { Location: n === 1 ? '/get' : `/redirect/${n - 1}` });
}

/** Last resort for a handler that threw: 500 if nothing was sent yet, else drop the socket. */
function fail(res: ServerResponse): void {
  if (res.headersSent || res.destroyed) {
    // Without an error argument: the socket just closes instead of raising 'error'.
    res.destroy();
    return;
  }
  sendError(res, 500, 'internal error');
}
