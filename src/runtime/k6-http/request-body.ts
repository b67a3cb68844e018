import { randomBytes } from 'node:crypto';
import { isAnyArrayBuffer } from 'node:util/types';
import { HerdError } from '../../errors/index.js';

/** `http.file(data, filename, contentType)`: a file part of a multipart body. */
export class FileData {
  constructor(
    /** The file's bytes (a string is sent as UTF-8). */
    readonly data: string | ArrayBuffer | ArrayBufferView,
    readonly filename: string,
    readonly content_type: string,
  ) {}
}

/** `http.file`; the content type defaults to application/octet-stream, as in k6. */
export function httpFile(data: unknown, filename?: unknown, contentType?: unknown): FileData {
  if (typeof data !== 'string' && !isBinary(data)) {
    if (data === null || data === undefined) throw new HerdError('script_exception', 'http.file: missing data');
    return new FileData(String(data), filename === undefined ? 'file' : String(filename), contentType === undefined ? 'application/octet-stream' : String(contentType));
  }
  return new FileData(
    data as string | ArrayBuffer | ArrayBufferView,
    filename === undefined || filename === null ? 'file' : String(filename),
    contentType === undefined || contentType === null ? 'application/octet-stream' : String(contentType),
  );
}

/** A request body ready for the wire. */
export interface EncodedBody {
  readonly bytes: Buffer | null;
  /** The Content-Type the body implies (forms), unless the script sets its own; null for raw bodies. */
  readonly contentType: string | null;
}

const NO_BODY: EncodedBody = { bytes: null, contentType: null };

function toBuffer(v: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.from(v);
}

function isBinary(v: unknown): v is ArrayBuffer | ArrayBufferView {
  // Realm-independent checks: a script's ArrayBuffer comes from the script's own global scope.
  return ArrayBuffer.isView(v) || isAnyArrayBuffer(v);
}

/** Go's url.QueryEscape: unreserved bytes stay, space becomes '+', the rest is %XX. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

function formValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/**
 * Encodes a request body as k6 does: strings as UTF-8, binary as is, and objects as an
 * urlencoded form with keys sorted (Go's url.Values) or, when a value is an http.file(),
 * as multipart/form-data.
 */
export function encodeBody(body: unknown): EncodedBody {
  if (body === null || body === undefined) return NO_BODY;
  if (typeof body === 'string') return { bytes: Buffer.from(body, 'utf8'), contentType: null };
  if (isBinary(body)) return { bytes: toBuffer(body), contentType: null };
  if (typeof body === 'object') {
    const obj = body as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.some((k) => obj[k] instanceof FileData)) return encodeMultipart(obj, keys);
    const pairs: string[] = [];
    for (const k of keys.sort()) {
      const v = obj[k];
      if (Array.isArray(v)) for (const item of v) pairs.push(`${queryEscape(k)}=${queryEscape(formValue(item))}`);
      else pairs.push(`${queryEscape(k)}=${queryEscape(formValue(v))}`);
    }
    return { bytes: Buffer.from(pairs.join('&'), 'utf8'), contentType: 'application/x-www-form-urlencoded' };
  }
  return { bytes: Buffer.from(String(body), 'utf8'), contentType: null };
}

function quoteParam(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function encodeMultipart(obj: Record<string, unknown>, keys: readonly string[]): EncodedBody {
  const boundary = randomBytes(30).toString('hex');
  const parts: Buffer[] = [];
  for (const k of keys) {
    const v = obj[k];
    if (v instanceof FileData) {
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${quoteParam(k)}"; filename="${quoteParam(v.filename)}"\r\nContent-Type: ${v.content_type}\r\n\r\n`,
          'utf8',
        ),
        toBuffer(v.data),
        Buffer.from('\r\n', 'latin1'),
      );
    } else {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quoteParam(k)}"\r\n\r\n${formValue(v)}\r\n`, 'utf8'));
    }
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return { bytes: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
