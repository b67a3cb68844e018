import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Content-Type of every JSON answer. */
export const JSON_TYPE = 'application/json';

/**
 * Writes a complete response in one go. Every body is fully known before it is sent so
 * that `Content-Length` is always exact and Node never falls back to chunked encoding.
 * For HEAD requests Node drops the body itself while keeping the length header.
 */
export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: Buffer | string,
  extra?: OutgoingHttpHeaders,
): void {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const headers: OutgoingHttpHeaders = { 'Content-Type': contentType, 'Content-Length': length };
  if (extra !== undefined) Object.assign(headers, extra);
  res.writeHead(status, headers);
  res.end(body);
}

/** Sends `value` as compact JSON. */
export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  extra?: OutgoingHttpHeaders,
): void {
  sendBody(res, status, JSON_TYPE, JSON.stringify(value), extra);
}

/** Sends `{"error": message}`, the shape of every error answer in the contract. */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  extra?: OutgoingHttpHeaders,
): void {
  sendJson(res, status, { error: message }, extra);
}

/** Sends a response without a body (redirects, `/status/<code>`, 401 challenges). */
export function sendEmpty(res: ServerResponse, status: number, extra?: OutgoingHttpHeaders): void {
  // RFC 9110 forbids Content-Length on 204 answers; every other status states 0 explicitly.
  const headers: OutgoingHttpHeaders = status === 204 ? {} : { 'Content-Length': 0 };
  if (extra !== undefined) Object.assign(headers, extra);
  res.writeHead(status, headers);
  res.end();
}

/** Answers 404 `{"error":"not found"}`. */
export function sendNotFound(res: ServerResponse): void {
  sendError(res, 404, 'not found');
}

/** Answers 405 `{"error":"method not allowed"}` with the `Allow` header the contract requires. */
export function sendMethodNotAllowed(res: ServerResponse, allow: string): void {
  sendError(res, 405, 'method not allowed', { Allow: allow });
}
