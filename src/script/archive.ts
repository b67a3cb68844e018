// Run archives: what `herd cloud run` uploads and an agent runs without the user's files or network.
//
// Format (version 1): a gzip-compressed ustar tar holding, in this order,
//   metadata.json          format version, herd version, entry, options, env, created time, digests
//   script/artifact.json   the ScriptArtifact (bundle, transformed code, source maps)
//   files/<absolute path>  each file the init code open()ed, sorted by entry name
// Everything but createdAt is a function of the input, so the same input packs to the same bytes.
import { createHash } from 'node:crypto';
import { createGunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { formatIssues } from '../config/index.js';
import { HerdError } from '../errors/index.js';
import { formatBytes, resolveArchiveLimits, type ArchiveLimits } from './archive-limits.js';
import { ARTIFACT_ENTRY, FILES_PREFIX, METADATA_ENTRY, fileEntryName } from './archive-paths.js';
import { ARCHIVE_FORMAT_VERSION, archiveMetadataSchema, scriptArtifactSchema, type ArchiveMetadata } from './archive-schema.js';
import { TarReader, encodeTar, invalid, tooLarge } from './archive-tar.js';
import type { ScriptArtifact } from './load-script.js';

export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive-limits.js';
export { ARCHIVE_FORMAT_VERSION, type ArchiveMetadata } from './archive-schema.js';

const gzipAsync = promisify(gzip);
const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What packArchive packs: one run's script, options, env and open()ed files. */
export interface ArchiveInput {
  /** Absolute path of the script (for display, and the base open() paths were resolved from). */
  entry: string;
  /** The prepared script (prepareScript's result). */
  artifact: ScriptArtifact;
  /** Consolidated k6 options as JSON; tokens are stripped before writing. */
  options: Record<string, unknown>;
  /** The -e/--env values only, never the whole process environment. */
  env: Record<string, string>;
  /** Absolute path → bytes of every file the init code read with open(). */
  files: ReadonlyMap<string, Uint8Array>;
  /** The herd version packing the archive. */
  herdVersion: string;
  /** When the archive is packed; defaults to now (tests fix it to compare bytes). */
  createdAt?: Date;
  /** Limits checked while packing, so the CLI fails before uploading what the server would reject. */
  limits?: ArchiveLimits;
}

/** An unpacked, validated archive. */
export interface Archive {
  /** metadata.json. */
  metadata: ArchiveMetadata;
  /** The script, ready for compileScript. */
  artifact: ScriptArtifact;
  /** Absolute path (as packed) → bytes of every open()ed file. */
  files: Map<string, Uint8Array>;
}

/** Reads an open()ed file from an archive by absolute path; undefined when the archive does not hold it. */
export type ArchiveFileReader = (absolutePath: string) => Uint8Array | undefined;

/** Packs a run archive (gzip-compressed ustar); see the format at the top of this file. */
export async function packArchive(input: ArchiveInput): Promise<Uint8Array> {
  const limits = resolveArchiveLimits(input.limits);
  const files = [...input.files].map(([path, data]) => {
    const name = fileEntryName(path);
    if (name === undefined) {
      throw invalid(`the opened file ${JSON.stringify(path)} cannot be archived: it is not an absolute path with plain segments`);
    }
    return { path, name, data };
  });
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < files.length; i++) {
    const [a, b] = [files[i - 1], files[i]];
    if (a !== undefined && b !== undefined && a.name === b.name) {
      throw invalid(`the opened files ${JSON.stringify(a.path)} and ${JSON.stringify(b.path)} map to the same archive entry ${JSON.stringify(a.name)}`);
    }
  }
  const artifact = encoder.encode(JSON.stringify(input.artifact));
  const metadata: ArchiveMetadata = {
    formatVersion: ARCHIVE_FORMAT_VERSION,
    herdVersion: input.herdVersion,
    entry: input.entry,
    createdAt: (input.createdAt ?? new Date()).toISOString(),
    // A JSON round trip drops undefined values, which would otherwise differ from what unpacks.
    options: JSON.parse(JSON.stringify(stripSecrets(input.options))) as Record<string, unknown>,
    env: Object.fromEntries(Object.entries(input.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    artifact: { size: artifact.byteLength, sha256: sha256(artifact) },
    files: files.map((f) => ({ path: f.path, size: f.data.byteLength, sha256: sha256(f.data) })),
  };
  // Never write what unpackArchive would refuse.
  const checked = archiveMetadataSchema.safeParse(metadata);
  if (!checked.success) throw invalid(formatIssues(checked.error, 'metadata', metadata).join('; '));
  const artifactChecked = scriptArtifactSchema.safeParse(input.artifact);
  if (!artifactChecked.success) throw invalid(formatIssues(artifactChecked.error, 'artifact', input.artifact).join('; '));

  const entries = [
    { name: METADATA_ENTRY, data: encoder.encode(JSON.stringify(metadata, null, 2)) },
    { name: ARTIFACT_ENTRY, data: artifact },
    ...files.map((f) => ({ name: f.name, data: f.data })),
  ];
  if (entries.length > limits.maxEntries) {
    throw tooLarge(`the archive would have ${entries.length} entries, more than the limit of ${limits.maxEntries}`, 'Open fewer files in the init code, or combine small data files into one.');
  }
  const tar = encodeTar(entries);
  if (tar.byteLength > limits.maxBytes) {
    throw tooLarge(`the archive would unpack to ${formatBytes(tar.byteLength)}, more than the limit of ${formatBytes(limits.maxBytes)}`, 'Open smaller data files in the init code, or fetch large data at run time.');
  }
  const gz = new Uint8Array(await gzipAsync(tar));
  if (gz.byteLength > limits.maxCompressedBytes) {
    throw tooLarge(`the archive is ${formatBytes(gz.byteLength)} compressed, more than the limit of ${formatBytes(limits.maxCompressedBytes)}`, 'Open smaller data files in the init code, or fetch large data at run time.');
  }
  return gz;
}

/**
 * Unpacks and validates a run archive entirely in memory. The gzip stream is inflated chunk by
 * chunk (zlib honours backpressure, so it inflates only as fast as the tar reader consumes) and
 * every limit is checked as bytes arrive, so a hostile archive costs at most the limits.
 */
export async function unpackArchive(bytes: Uint8Array, limits?: ArchiveLimits): Promise<Archive> {
  const lim = resolveArchiveLimits(limits);
  if (bytes.byteLength > lim.maxCompressedBytes) {
    throw tooLarge(`the archive is ${formatBytes(bytes.byteLength)}, more than the limit of ${formatBytes(lim.maxCompressedBytes)}`, 'Open smaller data files in the init code, or fetch large data at run time.');
  }
  if (bytes.byteLength < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw invalid('it is not gzip-compressed (it does not start with the gzip magic bytes)');
  }
  const entries = new Map<string, Uint8Array>();
  const reader = new TarReader({
    maxEntries: lim.maxEntries,
    maxBytes: lim.maxBytes,
    onEntry(name, data) {
      if (entries.has(name)) throw invalid(`the entry ${JSON.stringify(name)} appears more than once`);
      if (name !== METADATA_ENTRY && name !== ARTIFACT_ENTRY && !name.startsWith(FILES_PREFIX)) {
        throw invalid(`the entry ${JSON.stringify(name)} is not part of a herd archive (expected ${METADATA_ENTRY}, ${ARTIFACT_ENTRY} and ${FILES_PREFIX}...)`);
      }
      entries.set(name, data);
    },
  });
  await inflate(bytes, lim.maxBytes, (chunk) => reader.push(chunk));
  reader.end();

  const metadata = parseMetadata(entries.get(METADATA_ENTRY));
  const artifactBytes = entries.get(ARTIFACT_ENTRY);
  if (artifactBytes === undefined) throw invalid(`it has no ${ARTIFACT_ENTRY}`);
  checkDigest(ARTIFACT_ENTRY, artifactBytes, metadata.artifact);
  const artifactJson = parseJson(artifactBytes, ARTIFACT_ENTRY);
  const parsedArtifact = scriptArtifactSchema.safeParse(artifactJson);
  if (!parsedArtifact.success) throw invalid(`${ARTIFACT_ENTRY}: ${formatIssues(parsedArtifact.error, 'artifact', artifactJson).join('; ')}`);
  // Node's SourceMapPayload type marks file/sourceRoot/sourcesContent required, but esbuild omits
  // them; the schema accepts exactly what prepareScript produces.
  const artifact = parsedArtifact.data as unknown as ScriptArtifact;

  const listed = new Map<string, ArchiveMetadata['files'][number]>();
  for (const f of metadata.files) {
    const name = fileEntryName(f.path);
    if (name === undefined) throw invalid(`metadata.json lists ${JSON.stringify(f.path)}, which is not an absolute path`);
    if (listed.has(name)) throw invalid(`metadata.json lists two files stored as ${JSON.stringify(name)}`);
    listed.set(name, f);
  }
  const files = new Map<string, Uint8Array>();
  for (const [name, data] of entries) {
    if (!name.startsWith(FILES_PREFIX)) continue;
    const f = listed.get(name);
    if (f === undefined) throw invalid(`the entry ${JSON.stringify(name)} is not listed in metadata.json`);
    checkDigest(f.path, data, f);
    files.set(f.path, data);
  }
  for (const [name, f] of listed) {
    if (!files.has(f.path)) throw invalid(`metadata.json lists ${JSON.stringify(f.path)} but the archive has no entry ${JSON.stringify(name)}`);
  }
  return { metadata, artifact, files };
}

/** A reader for the engine's open(): looks absolute paths up in the archive instead of on disk. */
export function archiveFileReader(archive: Archive): ArchiveFileReader {
  // Keyed by entry name, so a path resolved on the agent (other OS, other separators) finds the
  // file the user's machine packed.
  const byName = new Map<string, Uint8Array>();
  for (const [path, data] of archive.files) {
    const name = fileEntryName(path);
    if (name !== undefined) byName.set(name, data);
  }
  return (absolutePath) => {
    const name = fileEntryName(absolutePath);
    return name === undefined ? undefined : byName.get(name);
  };
}

/** A copy of k6 options without the user's cloud tokens (`ext.loadimpact.token`, `cloud.token`). */
export function stripSecrets(options: Record<string, unknown>): Record<string, unknown> {
  const out = { ...options };
  const cloud = out['cloud'];
  if (isRecord(cloud) && 'token' in cloud) out['cloud'] = without(cloud, 'token');
  const ext = out['ext'];
  if (isRecord(ext)) {
    const li = ext['loadimpact'];
    if (isRecord(li) && 'token' in li) out['ext'] = { ...ext, loadimpact: without(li, 'token') };
  }
  return out;
}

async function inflate(bytes: Uint8Array, maxBytes: number, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  // 64 KiB chunks rather than zlib's 16 KiB: each chunk is one await, and at 16 KiB the awaits
  // cost more than inflating.
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  gunzip.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        throw tooLarge(`the archive inflates to more than ${formatBytes(maxBytes)}, the limit; unpacking stopped there`, 'Open smaller data files in the init code, or fetch large data at run time.');
      }
      onChunk(chunk);
    }
  } catch (e) {
    if (e instanceof HerdError) throw e;
    throw invalid(`its gzip data is corrupt (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    gunzip.destroy();
  }
}

function parseMetadata(bytes: Uint8Array | undefined): ArchiveMetadata {
  if (bytes === undefined) throw invalid(`it has no ${METADATA_ENTRY}`);
  const json = parseJson(bytes, METADATA_ENTRY);
  // The version first: a newer format deserves "upgrade herd", not a list of schema problems.
  const version = isRecord(json) ? json['formatVersion'] : undefined;
  if (typeof version === 'number' && version !== ARCHIVE_FORMAT_VERSION) {
    throw new HerdError('invalid_archive', `invalid archive: its format version is ${version}; this herd reads version ${ARCHIVE_FORMAT_VERSION}`, {
      hint: 'Use the same herd version on the machine that packs the archive and on the agents.',
    });
  }
  const parsed = archiveMetadataSchema.safeParse(json);
  if (!parsed.success) throw invalid(`${METADATA_ENTRY}: ${formatIssues(parsed.error, 'metadata', json).join('; ')}`);
  return parsed.data;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(utf8.decode(bytes)) as unknown;
  } catch (e) {
    throw invalid(`${what} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function checkDigest(what: string, data: Uint8Array, expected: { size: number; sha256: string }): void {
  if (data.byteLength !== expected.size || sha256(data) !== expected.sha256) {
    throw invalid(`${what} does not match its size and sha256 in metadata.json (the archive is corrupt or was altered)`);
  }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function without(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = o;
  return rest;
}
