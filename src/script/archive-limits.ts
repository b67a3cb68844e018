import { z } from 'zod';
import { HerdError } from '../errors/index.js';
import { formatIssues } from '../config/index.js';

const MiB = 1024 * 1024;

/**
 * Limits on what unpacking an archive may cost. Every one is enforced while the archive is
 * read, so an archive built to exhaust memory (a "zip bomb") is stopped at the limit.
 */
export const archiveLimitsSchema = z.strictObject({
  /** Most bytes the gzip stream may inflate to (the tar: entries, headers and padding). */
  maxBytes: z.number().int().positive().default(50 * MiB),
  /** Most bytes the compressed archive may have, checked before inflating anything. */
  maxCompressedBytes: z.number().int().positive().default(50 * MiB),
  /** Most entries (files, metadata and the script) the tar may hold. */
  maxEntries: z.number().int().positive().default(1000),
});

/** Limits given to unpackArchive; a missing one takes its default (50 MiB, 50 MiB, 1,000 entries). */
export type ArchiveLimits = z.input<typeof archiveLimitsSchema>;

/** Limits with every default applied. */
export type ResolvedArchiveLimits = z.output<typeof archiveLimitsSchema>;

/** The limits unpackArchive applies when given none. */
export const DEFAULT_ARCHIVE_LIMITS: ResolvedArchiveLimits = archiveLimitsSchema.parse({});

/** Applies defaults to `limits`; a limit that is not a positive integer is a caller's mistake. */
export function resolveArchiveLimits(limits: ArchiveLimits = {}): ResolvedArchiveLimits {
  const r = archiveLimitsSchema.safeParse(limits);
  if (!r.success) {
    throw new HerdError('internal', `invalid archive limits: ${formatIssues(r.error, 'limits', limits).join('; ')}`);
  }
  return r.data;
}

/** A byte count for messages: "50 MiB", "1.5 KiB", "12 bytes". */
export function formatBytes(n: number): string {
  if (n >= MiB) return `${trim(n / MiB)} MiB`;
  if (n >= 1024) return `${trim(n / 1024)} KiB`;
  return `${n} bytes`;
}

function trim(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}
