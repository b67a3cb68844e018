// `herd archive`: a script on disk → a k6-format archive. The script is packed as for a cloud
// run (bundled, its init code run once here to read `options` and record every open()ed file);
// the modules the bundle holds are read back from disk (local) or from the module cache
// (remote, just fetched) so the k6 archive carries their sources, as k6's does.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packRun, type PackRequest } from '../../execution/index.js';
import { unpackArchive } from '../../script/index.js';
import { RemoteModuleCache } from '../../script/remote-modules.js';
import { writeK6Archive } from './k6-archive.js';

/** A packed k6 archive and what the CLI reports about it. */
export interface PackedK6Archive {
  readonly tar: Uint8Array;
  readonly vus: number;
  /** Local modules, remote modules and open()ed files in the archive (the main script excluded). */
  readonly files: number;
}

/** Packs the script of `req` into a k6 archive; `pwd` is the working directory it records. */
export async function packK6Archive(req: PackRequest & { readonly pwd: string }): Promise<PackedK6Archive> {
  const packed = await packRun(req);
  const herd = await unpackArchive(packed.archive);
  const files = new Map<string, Uint8Array>(herd.files);
  const remote = new Map<string, string>();
  const cache = new RemoteModuleCache(req.cacheDir);
  const entry = path.resolve(req.entry);
  for (const s of herd.artifact.bundleMap.sources) {
    if (s === null) continue;
    if (s.startsWith('remote:')) {
      const url = s.slice('remote:'.length);
      remote.set(url, (await cache.get(url)).text);
      continue;
    }
    const abs = path.resolve(herd.artifact.workDir, s);
    if (abs !== entry && !files.has(abs)) files.set(abs, await readFile(abs));
  }
  const tar = writeK6Archive({
    entry,
    script: await readFile(entry),
    pwd: req.pwd,
    options: JSON.parse(JSON.stringify(packed.options)) as Record<string, unknown>,
    env: { ...req.userEnv },
    files,
    remote,
    mtime: new Date(),
  });
  return { tar, vus: packed.vus, files: files.size + remote.size };
}
