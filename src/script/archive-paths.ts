// Where things live inside a run archive, and which entry names are safe to accept.

/** The entry holding the archive's metadata (format version, options, env, file digests). */
export const METADATA_ENTRY = 'metadata.json';

/** The entry holding the ScriptArtifact (bundle, transformed code, source maps). */
export const ARTIFACT_ENTRY = 'script/artifact.json';

/** The folder open()ed files are stored under, by absolute path. */
export const FILES_PREFIX = 'files/';

/**
 * The entry name of the file at absolute path `p` (`/home/me/data.json` → `files/home/me/data.json`,
 * `C:\me\data.json` → `files/C/me/data.json`, `\\host\share\x` → `files/UNC/host/share/x`), or
 * undefined when `p` is not an absolute path. Packing and the agent's open() both go through
 * here, so a Windows user's paths are found again on a Linux agent. `.` and `..` segments are
 * resolved lexically, as path.resolve does, so the name never climbs out of `files/`.
 */
export function fileEntryName(p: string): string | undefined {
  if (p.includes('\0')) return undefined;
  let rest: string;
  const drive = /^([A-Za-z]):[\\/]/.exec(p);
  if (drive) rest = `${drive[1] as string}/${p.slice(3).replaceAll('\\', '/')}`;
  else if (p.startsWith('\\\\')) rest = `UNC/${p.slice(2).replaceAll('\\', '/')}`;
  else if (p.startsWith('/')) rest = p.slice(1);
  else return undefined;
  const out: string[] = [];
  for (const seg of rest.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  // A POSIX name may contain a backslash, but a Windows agent would read it as a separator.
  if (out.length === 0 || out.some((s) => s.includes('\\'))) return undefined;
  return FILES_PREFIX + out.join('/');
}

/**
 * Why the tar entry name `name` is unsafe to accept, or undefined when it is safe: a relative
 * path of plain segments that cannot point outside the folder it would be extracted to on any OS.
 */
export function unsafeEntryName(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  if (name.includes('\\')) return 'contains a backslash';
  const segs = name.split('/');
  if (segs.includes('..')) return 'contains a ".." segment';
  if (segs.some((s) => s === '' || s === '.')) return 'has an empty or "." segment';
  return undefined;
}
