/**
 * How the run lifecycle reads an archive: only its options matter to the control plane. The real
 * one is src/script's `unpackArchive`; tests may plug in another with the same shape. It throws
 * HerdError `invalid_archive` for an archive that is not one and `archive_too_large` for one
 * over the limits.
 */
export type UnpackArchive = (bytes: Uint8Array) => Promise<{ readonly metadata: { readonly options: Record<string, unknown> } }>;
