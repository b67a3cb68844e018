import { parseHeaderValue } from './header-params.js';

/** One `multipart/form-data` part that carried a field name. */
export interface MultipartPart {
  /** The `name` parameter of its `Content-Disposition`. */
  name: string;
  /** True when the part had a `filename` (or `filename*`) parameter, i.e. is a file. */
  isFile: boolean;
  /** The raw part content (a view into the request body, not a copy). */
  content: Buffer;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const DASH = 0x2d;
const CR = 0x0d;
const LF = 0x0a;

/** The `boundary` parameter of a `multipart/form-data` Content-Type, if it is one. */
export function multipartBoundary(contentType: string): string | undefined {
  const parsed = parseHeaderValue(contentType);
  if (parsed.type !== 'multipart/form-data') return undefined;
  const boundary = parsed.params.get('boundary');
  return boundary === undefined || boundary.length === 0 ? undefined : boundary;
}

/**
 * Parses a `multipart/form-data` body (RFC 7578 / RFC 2046 framing). It is lenient: a
 * truncated or malformed body yields the parts that were complete, never an error,
 * because the echo endpoints must answer whatever they are sent.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const parts: MultipartPart[] = [];
  const delimiter = Buffer.from('--' + boundary);
  // Inside the body a delimiter is always preceded by CRLF; only the first may start the body.
  const innerDelimiter = Buffer.concat([CRLF, delimiter]);

  let pos = body.indexOf(delimiter);
  while (pos > 0 && !(body[pos - 2] === CR && body[pos - 1] === LF)) {
    pos = body.indexOf(delimiter, pos + 1);
  }
  if (pos === -1) return parts;

  for (;;) {
    const afterDelimiter = pos + delimiter.length;
    // `--boundary--` closes the body.
    if (body[afterDelimiter] === DASH && body[afterDelimiter + 1] === DASH) break;
    const lineEnd = body.indexOf(CRLF, afterDelimiter);
    if (lineEnd === -1) break;
    const headersStart = lineEnd + 2;
    let contentStart: number;
    let headerText: string;
    if (body[headersStart] === CR && body[headersStart + 1] === LF) {
      // A part with no headers at all.
      contentStart = headersStart + 2;
      headerText = '';
    } else {
      const headersEnd = body.indexOf(HEADER_END, headersStart);
      if (headersEnd === -1) break;
      contentStart = headersEnd + 4;
      headerText = body.toString('utf8', headersStart, headersEnd);
    }
    const next = body.indexOf(innerDelimiter, contentStart);
    if (next === -1) break;
    const part = describePart(headerText, body.subarray(contentStart, next));
    if (part !== undefined) parts.push(part);
    pos = next + 2;
  }
  return parts;
}

/** Reads the part's `Content-Disposition`; parts without a field name are dropped. */
function describePart(headerText: string, content: Buffer): MultipartPart | undefined {
  for (const line of headerText.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const { params } = parseHeaderValue(line.slice(colon + 1));
    const name = params.get('name');
    if (name === undefined) return undefined;
    return { name, isFile: params.has('filename') || params.has('filename*'), content };
  }
  return undefined;
}
