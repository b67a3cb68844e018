import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync, gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import { RequestError, K6ErrorCode } from './client/index.js';

function decodeOne(buf: Buffer, coding: string): Buffer {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(buf);
    case 'deflate':
      // Some servers send raw deflate under this name; accept both, as browsers do.
      try {
        return inflateSync(buf);
      } catch {
        return inflateRawSync(buf);
      }
    case 'br':
      return brotliDecompressSync(buf);
    case 'identity':
    case '':
      return buf;
    default:
      throw new Error(`unsupported compression type ${coding}`);
  }
}

/**
 * Undoes the Content-Encoding of a response body, as k6 does for gzip, deflate and br
 * (codings listed in order of application, so they are undone last first). A failure is
 * k6's error 1701.
 */
export function decodeContent(buf: Buffer, contentEncoding: string): Buffer | RequestError {
  if (contentEncoding === '' || contentEncoding === 'identity' || buf.length === 0) return buf;
  const codings = contentEncoding.split(',');
  let out = buf;
  try {
    for (let i = codings.length - 1; i >= 0; i--) out = decodeOne(out, (codings[i] as string).trim());
  } catch (e) {
    return new RequestError(K6ErrorCode.decompression, `error decompressing the response body (${contentEncoding}): ${(e as Error).message}`);
  }
  return out;
}

/** Compresses a request body for `params.compression` ("gzip", "deflate", "br", or a comma-separated list applied in order). */
export function compressBody(buf: Buffer, compression: string): Buffer {
  let out = buf;
  for (const raw of compression.split(',')) {
    const c = raw.trim();
    if (c === 'gzip') out = gzipSync(out);
    else if (c === 'deflate') out = deflateSync(out);
    else if (c === 'br') out = brotliCompressSync(out);
    else if (c !== '') throw new Error(`unknown compression algorithm ${c}, supported algorithms are gzip, deflate, br`);
  }
  return out;
}
