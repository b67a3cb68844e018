import type { IncomingMessage } from 'node:http';
import { echoHeaders, type HeaderEcho } from './headers.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { parseHeaderValue } from './header-params.js';
import { addField, emptyFields, parseUrlEncoded, type FieldMap } from './params.js';

/** JSON value as produced by `JSON.parse`. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The `/get` answer. */
export interface GetEcho {
  args: FieldMap;
  headers: HeaderEcho;
  origin: string;
  url: string;
}

/** The request echo document of `/post`, `/anything`, `/delay`, …; `method` is optional. */
export interface RequestEcho {
  args: FieldMap;
  data: string;
  files: FieldMap;
  form: FieldMap;
  headers: HeaderEcho;
  json: JsonValue;
  method?: string;
  origin: string;
  url: string;
}

/** The client's IP as the server sees it; IPv4 peers on a dual-stack socket lose `::ffff:`. */
export function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** `http://` + Host header + the raw request target, as the contract defines `url`. */
export function requestUrl(req: IncomingMessage): string {
  const target = req.url ?? '/';
  // An absolute-form target (proxy style) already is a full URL; prefixing it again
  // would produce nonsense, so it is echoed as sent.
  if (!target.startsWith('/')) return target;
  return 'http://' + (req.headers.host ?? '') + target;
}

/** The query string of the raw target, without `?` ("" when there is none). */
export function rawQuery(req: IncomingMessage): string {
  const target = req.url ?? '';
  const q = target.indexOf('?');
  return q === -1 ? '' : target.slice(q + 1);
}

/** Builds the `/get` document. */
export function getEcho(req: IncomingMessage): GetEcho {
  return {
    args: parseUrlEncoded(rawQuery(req)),
    headers: echoHeaders(req.rawHeaders),
    origin: clientAddress(req),
    url: requestUrl(req),
  };
}

/** Builds the request echo document; `withMethod` adds `method` after `json`. */
export function requestEcho(req: IncomingMessage, body: Buffer, withMethod: boolean): RequestEcho {
  const data = body.toString('utf8');
  let form = emptyFields();
  const files = emptyFields();
  const contentType = req.headers['content-type'];
  if (contentType !== undefined && body.length > 0) {
    const boundary = multipartBoundary(contentType);
    if (boundary !== undefined) {
      for (const part of parseMultipart(body, boundary)) {
        addField(part.isFile ? files : form, part.name, part.content.toString('utf8'));
      }
    } else if (parseHeaderValue(contentType).type === 'application/x-www-form-urlencoded') {
      form = parseUrlEncoded(data);
    }
  }
  const args = parseUrlEncoded(rawQuery(req));
  const headers = echoHeaders(req.rawHeaders);
  const json = parseJson(data);
  const origin = clientAddress(req);
  const url = requestUrl(req);
  // Two literals rather than a conditional insert: the key order is part of the contract.
  if (withMethod) {
    return { args, data, files, form, headers, json, method: req.method ?? '', origin, url };
  }
  return { args, data, files, form, headers, json, origin, url };
}

/** The body parsed as JSON whatever its Content-Type, or null when empty or invalid. */
function parseJson(data: string): JsonValue {
  if (data.length === 0) return null;
  try {
    return JSON.parse(data) as JsonValue;
  } catch {
    return null;
  }
}
