import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError } from './errors.js';
import { parseRequestPart } from './validation.js';

/** The name of the multipart file part that carries a script archive. */
export const ARCHIVE_PART = 'archive';

/** What an archive upload carried: its form fields (parsed) and the archive's bytes. */
export interface ArchiveUpload<F> {
  readonly fields: F;
  readonly archive: Uint8Array;
}

// Multipart framing (boundaries, part headers) and the small text fields add to the archive's
// size; a Content-Length past the limit plus this much cannot hold an acceptable archive.
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
const MAX_FIELD_BYTES = 16 * 1024;
const MAX_FIELDS = 16;

/** The options @fastify/multipart is registered with, derived from the archive size limit. */
export function multipartLimits(maxArchiveBytes: number): { fileSize: number; files: number; fields: number; fieldSize: number; parts: number } {
  return { fileSize: maxArchiveBytes, files: 1, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: MAX_FIELDS + 1 };
}

const TOO_LARGE_HINT = 'keep large data files out of the archive (load them from a URL or shrink them), or ask the operator to raise the limit';

/** The 413 of an archive found too large while it streamed in. */
export function archiveTooLarge(maxArchiveBytes: number): ApiError {
  return new ApiError('archive_too_large', `the archive is larger than the limit of ${formatBytes(maxArchiveBytes)}`, { hint: TOO_LARGE_HINT });
}

/**
 * Rejects an upload by its Content-Length before reading a byte of it, so a client sending
 * gigabytes is stopped at once instead of after the server has streamed it all.
 */
export function checkDeclaredLength(request: FastifyRequest, maxArchiveBytes: number): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxArchiveBytes + MULTIPART_OVERHEAD_BYTES) {
    throw new ApiError('archive_too_large', `the upload is ${String(declared)} bytes, more than an archive of at most ${formatBytes(maxArchiveBytes)} needs`, {
      hint: TOO_LARGE_HINT,
    });
  }
}

/**
 * Reads a multipart/form-data upload: text fields (validated with `fieldsSchema`, unknown
 * names rejected) and exactly one file part named `part` (`archive` unless a protocol, like
 * k6's v6 API with `script`, names it otherwise), buffered up to the size limit.
 * The size is enforced while streaming (chunked uploads declare no length).
 */
export async function readArchiveUpload<S extends z.ZodType>(
  request: FastifyRequest, fieldsSchema: S, maxArchiveBytes: number, part: string = ARCHIVE_PART,
): Promise<ArchiveUpload<z.output<S>>> {
  if (!request.isMultipart()) {
    throw new ApiError('unsupported_media_type', `this endpoint takes multipart/form-data with a file part "${part}", got ${request.headers['content-type'] ?? 'no content type'}`, {
      hint: `e.g. curl -F ${part}=@test.tar …`,
    });
  }
  checkDeclaredLength(request, maxArchiveBytes);
  const fields: Record<string, string> = {};
  let archive: Uint8Array | undefined;
  for await (const p of request.parts()) {
    if (p.type === 'file') {
      if (p.fieldname !== part || archive !== undefined) {
        // Drain it so the parser can go on to the end of the request and the error is answered.
        p.file.resume();
        throw new ApiError('invalid_request', archive !== undefined
          ? `body.${part} must be sent once, got a second file`
          : `body.${p.fieldname} is not a known file part; the archive goes in a part named "${part}"`);
      }
      try {
        archive = await p.toBuffer();
      } catch (e) {
        if ((e as { code?: unknown }).code === 'FST_REQ_FILE_TOO_LARGE') throw archiveTooLarge(maxArchiveBytes);
        throw e;
      }
    } else {
      fields[p.fieldname] = typeof p.value === 'string' ? p.value : String(p.value);
    }
  }
  const parsed = parseRequestPart(fieldsSchema, fields, 'body');
  if (archive === undefined) {
    throw new ApiError('invalid_request', `body.${part} is required: a file part with the script archive, got nothing`, {
      fields: [{ path: `body.${part}`, message: `body.${part} is required: a file part with the script archive, got nothing` }],
    });
  }
  // Buffer → plain Uint8Array view of the same bytes: callers (and the store) see one type.
  return { fields: parsed, archive: new Uint8Array(archive.buffer, archive.byteOffset, archive.byteLength) };
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${String(n / (1024 * 1024))} MiB (${String(n)} bytes)`;
  if (n >= 1024 && n % 1024 === 0) return `${String(n / 1024)} KiB (${String(n)} bytes)`;
  return `${String(n)} bytes`;
}
