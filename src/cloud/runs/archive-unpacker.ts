import { checkScriptSyntax, unpackArchive } from '../../script/index.js';

/**
 * How the run lifecycle reads an archive: only its options matter to the control plane. The real
 * one is src/script's `unpackArchive`; tests may plug in another with the same shape. It throws
 * HerdError `invalid_archive` for an archive that is not one and `archive_too_large` for one
 * over the limits.
 */
export type UnpackArchive = (bytes: Uint8Array) => Promise<{ readonly metadata: { readonly options: Record<string, unknown> } }>;


/**
 * The real unpacker: reads the archive and checks that its script compiles (without a sandbox or
 * running anything), so a
 * script that does not parse ends Created → Aborted by script error before it is queued, as
 * ARCHITECTURE.md §5 says, instead of failing later on a generator.
 */
export const unpackAndCompile: UnpackArchive = async (bytes) => {
  const archive = await unpackArchive(bytes);
  checkScriptSyntax(archive.artifact);
  return archive;
};
