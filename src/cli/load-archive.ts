import { readFileSync } from 'node:fs';
import { convertK6Archive, looksLikeK6Archive } from '../cloud/k6compat/k6-archive.js';
import { unpackArchive, type Archive } from '../script/index.js';

/** A script file given on the command line that is really an archive. */
export interface ArchiveFile {
  /** herd's archive format (k6 archives converted). */
  readonly bytes: Uint8Array;
  readonly archive: Archive;
  /** The test name a k6 archive carries, if any. */
  readonly testName: string | undefined;
}

/**
 * Reads `file` as a run archive when it is one: herd's (gzip) or k6's (`k6 archive` tar).
 * Undefined for an ordinary script. Scripts start with text, archives with gzip's magic bytes
 * or a tar header holding metadata.json, so the content decides, not the file name.
 */
export async function readArchiveFile(file: string): Promise<ArchiveFile | undefined> {
  const bytes = new Uint8Array(readFileSync(file));
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return { bytes, archive: await unpackArchive(bytes), testName: undefined };
  if (!looksLikeK6Archive(bytes)) return undefined;
  const converted = await convertK6Archive(bytes);
  return { bytes: converted.archive, archive: await unpackArchive(converted.archive), testName: converted.testName };
}
