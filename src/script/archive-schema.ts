// The schemas of what an archive holds. Strict: an archive with keys herd does not know was
// not made by this format version, and guessing at it could run something the user never packed.
import { z } from 'zod';

/** The archive format this herd writes and reads; bumped on any incompatible change. */
export const ARCHIVE_FORMAT_VERSION = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');
const size = z.number().int().nonnegative();

/** metadata.json: everything about the run except the script and the files. */
export const archiveMetadataSchema = z.strictObject({
  formatVersion: z.literal(ARCHIVE_FORMAT_VERSION),
  /** The herd version that packed the archive. */
  herdVersion: z.string().min(1),
  /** The absolute path of the script on the machine that packed it (for display). */
  entry: z.string().min(1),
  /** When the archive was packed (ISO 8601, UTC). */
  createdAt: z.iso.datetime(),
  /** Consolidated k6 options, tokens removed. */
  options: z.record(z.string(), z.unknown()),
  /** The -e/--env values only. */
  env: z.record(z.string(), z.string()),
  /** Digest of script/artifact.json. */
  artifact: z.strictObject({ size, sha256 }),
  /** Every open()ed file: its absolute path where it was packed, and its digest. */
  files: z.array(z.strictObject({ path: z.string().min(1), size, sha256 })),
});

/** The parsed metadata.json of an archive. */
export type ArchiveMetadata = z.output<typeof archiveMetadataSchema>;

// A source map as esbuild and magic-string write it (v3); optional keys are the ones they omit.
const sourceMapSchema = z.strictObject({
  version: z.literal(3),
  file: z.string().optional(),
  sourceRoot: z.string().optional(),
  sources: z.array(z.string().nullable()),
  sourcesContent: z.array(z.string().nullable()).optional(),
  names: z.array(z.string()),
  mappings: z.string(),
  ignoreList: z.array(z.number().int().nonnegative()).optional(),
  x_google_ignoreList: z.array(z.number().int().nonnegative()).optional(),
});

/** script/artifact.json: a ScriptArtifact (see load-script.ts). */
export const scriptArtifactSchema = z.strictObject({
  bundleCode: z.string(),
  bundleMap: sourceMapSchema,
  workDir: z.string(),
  code: z.string(),
  map: sourceMapSchema,
  freeGlobals: z.array(z.string()),
  builtinModules: z.array(z.string()),
});
