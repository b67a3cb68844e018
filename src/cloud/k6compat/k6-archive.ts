// k6's archive format (K6-CLOUD-API.md §1.4, checklist §7 items 7-8), read and written by herd.
//
//   metadata.json         {type, options, filename, pwd, env, compatibilityMode, k6version, goos}
//   data                  the main script's bytes
//   file/, file/<dirs>/   directory entries
//   file/<abs path>       imported modules and open()ed files, by their (anonymised) absolute path
//   https/<host>/<path>   remote modules
// The entry at the main script's own path is a hard link to `data`.
//
// Converting to herd's archive does NOT run any of the script: k6 already ran its init code to
// consolidate `options` and to record the files it open()s. herd lays the files out in a temp
// directory, bundles the main script there (esbuild only reads files; every file it would read
// must lie inside that directory, and remote modules come only from the archive) and packs the
// bundle with the archive's files, options (tokens stripped) and env.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { consolidate, HERD_VERSION, unknownOptionKeys, type Options } from '../../config/index.js';
import { HerdError } from '../../errors/index.js';
import { builtinModuleSpecifiers } from '../../execution/modules.js';
import { resolveArchiveLimits, type ArchiveLimits } from '../../script/archive-limits.js';
import { unsafeEntryName } from '../../script/archive-paths.js';
import { invalid } from '../../script/archive-tar.js';
import { packArchive, prepareScript, stripSecrets, type ScriptArtifact } from '../../script/index.js';
import { readK6Tar, writeK6Tar, type K6TarWriteEntry } from './k6-tar.js';

/** The parts of a k6 archive's metadata.json herd reads. */
export interface K6ArchiveMetadata {
  readonly type: string;
  /** `file:///home/nobody/proj/script.js` (or `https://host/path` for a remote script). */
  readonly filename: string;
  readonly pwd: string;
  /** The consolidated k6 options as k6 wrote them (every key, null when unset). */
  readonly options: Record<string, unknown>;
  readonly env: Record<string, string>;
  readonly k6version: string;
}

/** A read, validated k6 archive. */
export interface K6Archive {
  readonly metadata: K6ArchiveMetadata;
  /** The main script's entry name, e.g. `file/home/nobody/proj/script.js`. */
  readonly main: string;
  /** The main script (`data`). */
  readonly data: Uint8Array;
  /** Every regular file by entry name (`file/...`, `https/...`), the main script included. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
const METADATA = 'metadata.json';
const DATA = 'data';
/** The k6 archive format version herd writes (the layout of k6 v0.49.0's lib/archive.go). */
export const K6_ARCHIVE_VERSION = '0.49.0';

/**
 * Whether `bytes` look like a k6 archive: an uncompressed ustar tar whose first entry is
 * `metadata.json` (k6 always writes it first, then `data`). herd archives are gzip-compressed,
 * so the two never look alike. `readK6Archive` does the real validation.
 */
export function looksLikeK6Archive(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 1024) return false;
  const h = bytes.subarray(0, 512);
  const magic = String.fromCharCode(...h.subarray(257, 262));
  if (magic !== 'ustar') return false;
  const nameEnd = h.indexOf(0);
  const name = String.fromCharCode(...h.subarray(0, nameEnd === -1 || nameEnd > 100 ? 100 : nameEnd));
  return name === METADATA;
}

/**
 * Reads a k6 archive (the tar of `k6 archive` / `k6 cloud`) with the strictness of herd's own
 * reader: limits on entries and bytes, relative entry names without `..`, no symbolic links,
 * and one hard link only: the main script's path → `data`. Throws HerdError `invalid_archive`
 * or `archive_too_large`.
 */
export function readK6Archive(bytes: Uint8Array, limits?: ArchiveLimits): K6Archive {
  const lim = resolveArchiveLimits(limits);
  if (bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw invalid('it is gzip-compressed; a k6 archive is a plain tar (as `k6 archive` writes it)');
  }
  const entries = readK6Tar(bytes, lim);
  const files = new Map<string, Uint8Array>();
  const dirs = new Set<string>();
  const links: Array<{ name: string; target: string }> = [];
  let metadataBytes: Uint8Array | undefined;
  let data: Uint8Array | undefined;
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) throw invalid(`the entry ${JSON.stringify(e.name)} appears more than once`);
    seen.add(e.name);
    if (e.name === METADATA || e.name === DATA) {
      if (e.kind !== 'file') throw invalid(`${e.name} must be a regular file`);
      if (e.name === METADATA) metadataBytes = e.data;
      else data = e.data;
      continue;
    }
    const name = fsEntryName(e.name);
    if (name === undefined) {
      throw invalid(`the entry ${JSON.stringify(e.name)} is not part of a k6 archive (expected ${METADATA}, ${DATA}, file/... and https/...)`);
    }
    if (e.kind === 'dir') dirs.add(name);
    else if (e.kind === 'link') links.push({ name, target: e.target });
    else {
      if (files.has(name)) throw invalid(`two entries are stored as ${JSON.stringify(name)}`);
      files.set(name, e.data);
    }
  }
  if (metadataBytes === undefined) throw invalid(`it has no ${METADATA}`);
  if (data === undefined) throw invalid(`it has no ${DATA} entry (the main script)`);
  const metadata = parseMetadata(metadataBytes);
  const main = mainEntryName(metadata.filename);
  for (const l of links) {
    if (l.target !== DATA) throw invalid(`the hard link ${JSON.stringify(l.name)} points to ${JSON.stringify(l.target)}; only the main script may be a link, to "data"`);
    if (l.name !== main) throw invalid(`the hard link ${JSON.stringify(l.name)} is not the main script ${JSON.stringify(main)} (metadata.json's filename)`);
  }
  if (files.has(main)) throw invalid(`the main script ${JSON.stringify(main)} is stored both as a file and as "data"`);
  for (const name of files.keys()) {
    if (dirs.has(name)) throw invalid(`${JSON.stringify(name)} is both a file and a directory`);
  }
  files.set(main, data);
  return { metadata, main, data, files };
}

/** The result of converting a k6 archive to herd's format. */
export interface ConvertedK6Archive {
  /** herd's archive (gzip tar), ready for RunService.submit or an agent. */
  readonly archive: Uint8Array;
  /** The options as stored (parsed, tokens stripped). */
  readonly options: Options;
  /** `options.cloud.name` or `options.ext.loadimpact.name`, when set. */
  readonly testName: string | undefined;
  /** Things worth telling the user (options herd ignores). */
  readonly warnings: readonly string[];
}

/** How `convertK6Archive` works. */
export interface ConvertOptions {
  /** Where the temp directory is made; the OS temp directory by default. */
  readonly tmpDir?: string;
  /** Limits of the k6 archive read and the herd archive written. */
  readonly limits?: ArchiveLimits;
  /** Used to pack; tests fix it to compare bytes. */
  readonly createdAt?: Date;
}

// Options every k6 writes into metadata.json that have no meaning for herd: not worth a warning.
const SILENT_K6_KEYS = new Set(['paused', 'dns', 'rps', 'httpDebug', 'blacklistIPs', 'metricSamplesBufferSize', 'localIPs', 'noUsageReport', 'compatibilityMode']);

/** Converts k6 archive bytes to a herd archive (see the top of this file). */
export async function convertK6Archive(bytes: Uint8Array, opts: ConvertOptions = {}): Promise<ConvertedK6Archive> {
  return convertReadK6Archive(readK6Archive(bytes, opts.limits), opts);
}

/** Converts a read k6 archive to a herd archive. */
export async function convertReadK6Archive(k6: K6Archive, opts: ConvertOptions = {}): Promise<ConvertedK6Archive> {
  if (!k6.main.startsWith('file/')) {
    throw new HerdError('invalid_archive', `invalid archive: its main script is the remote module ${k6.metadata.filename}; herd runs k6 archives of local scripts only`, {
      hint: 'Run `k6 archive` on a local script that imports the remote module.',
    });
  }
  const cleaned = stripNulls(stripSecrets(k6.metadata.options)) as Record<string, unknown>;
  const options = consolidate([{ source: "options of the k6 archive (metadata.json)", values: cleaned }]);
  const warnings = unknownOptionKeys(cleaned)
    .filter((k) => !SILENT_K6_KEYS.has(k))
    .map((k) => `the option "${k}" is not known to herd and is ignored`);

  const work = await mkdtemp(path.join(opts.tmpDir ?? tmpdir(), 'herd-k6-'));
  try {
    const root = path.join(work, 'fs');
    const cacheDir = path.join(work, 'modules');
    await mkdir(root, { recursive: true });
    await mkdir(cacheDir, { recursive: true });
    const remote = new Map<string, string>();
    const local = new Map<string, Uint8Array>();
    for (const [name, data] of k6.files) {
      if (name.startsWith('https/')) {
        const url = `https://${name.slice('https/'.length)}`;
        let text: string;
        try {
          text = utf8.decode(data);
        } catch {
          throw invalid(`the remote module ${url} is not valid UTF-8`);
        }
        remote.set(url, text);
        // The bundler's module cache: one file per URL, named by the URL's SHA-256.
        await writeFile(path.join(cacheDir, `${createHash('sha256').update(url).digest('hex')}.js`), text, 'utf8');
        continue;
      }
      const abs = path.join(root, ...name.slice('file/'.length).split('/'));
      try {
        await mkdir(path.dirname(abs), { recursive: true });
        await writeFile(abs, data);
      } catch (e) {
        throw invalid(`the file ${JSON.stringify(name)} cannot be laid out (${e instanceof Error ? e.message : String(e)}); a path is both a file and a folder`);
      }
      local.set(abs, data);
    }
    const entry = path.join(root, ...k6.main.slice('file/'.length).split('/'));
    await checkModulesStayInside(entry, root, remote);
    const artifact = await prepareScript({ entry, cacheDir, builtinModules: builtinModuleSpecifiers, allowInsecureRemote: false });
    // Modules are compiled into the bundle; every other file of the archive is data for open().
    const modules = moduleFiles(artifact);
    const files = new Map<string, Uint8Array>();
    for (const [abs, data] of local) if (!modules.has(abs)) files.set(abs, data);
    const archive = await packArchive({
      entry,
      artifact,
      options: JSON.parse(JSON.stringify(options)) as Record<string, unknown>,
      env: { ...k6.metadata.env },
      files,
      herdVersion: HERD_VERSION,
      ...(opts.createdAt === undefined ? {} : { createdAt: opts.createdAt }),
      ...(opts.limits === undefined ? {} : { limits: opts.limits }),
    });
    return { archive, options, testName: testNameOf(options), warnings };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** What `writeK6Archive` writes. */
export interface K6ArchiveInput {
  /** Absolute path of the main script. */
  readonly entry: string;
  /** The main script's bytes. */
  readonly script: Uint8Array;
  /** The working directory (`pwd`). */
  readonly pwd: string;
  /** Consolidated options (tokens are stripped). */
  readonly options: Record<string, unknown>;
  /** The -e values. */
  readonly env: Readonly<Record<string, string>>;
  /** Absolute path → bytes of every other local file: imported modules and open()ed files. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** https URL → text of every remote module. */
  readonly remote?: ReadonlyMap<string, string>;
  /** `goos` (default: this platform in Go's words). */
  readonly goos?: string;
  /** The tar entries' mtime (default: the epoch, for reproducible bytes). */
  readonly mtime?: Date;
}

/**
 * Writes a k6-format archive (§1.4) that `k6 run archive.tar` and `k6 cloud archive.tar` read:
 * metadata.json, data, then the `file` and `https` trees (sorted directories, then sorted
 * files, the main script's path as a hard link to `data`). Paths are normalised and anonymised
 * as k6 does (`C:\x` → `/C/x`, `/home/<user>` → `/home/nobody`).
 */
export function writeK6Archive(input: K6ArchiveInput): Uint8Array {
  const mainPath = normalizeAndAnonymize(input.entry);
  const metadata = {
    type: 'js',
    options: stripSecrets(input.options),
    filename: `file://${encodePath(mainPath)}`,
    pwd: `file://${encodePath(normalizeAndAnonymize(input.pwd))}`,
    env: { ...input.env },
    compatibilityMode: 'extended',
    k6version: K6_ARCHIVE_VERSION,
    goos: input.goos ?? goosOf(process.platform),
  };
  const entries: K6TarWriteEntry[] = [
    { kind: 'file', name: METADATA, data: encoder.encode(`${JSON.stringify(metadata, null, 2)}\n`) },
    { kind: 'file', name: DATA, data: input.script },
  ];
  const trees: Array<[string, Map<string, Uint8Array>]> = [['file', new Map()], ['https', new Map()]];
  const fileTree = trees[0]?.[1] as Map<string, Uint8Array>;
  const httpsTree = trees[1]?.[1] as Map<string, Uint8Array>;
  fileTree.set(mainPath, input.script);
  for (const [abs, data] of input.files) {
    const p = normalizeAndAnonymize(abs);
    if (p !== mainPath) fileTree.set(p, data);
  }
  for (const [url, text] of input.remote ?? new Map<string, string>()) {
    const u = new URL(url);
    httpsTree.set(path.posix.normalize(`/${u.host}${decodeURIComponent(u.pathname)}${u.search}`), encoder.encode(text));
  }
  for (const [fsName, tree] of trees) {
    if (tree.size === 0) continue;
    const dirs = new Set<string>();
    for (const p of tree.keys()) {
      for (let d = path.posix.dirname(p); ; d = path.posix.dirname(d)) {
        dirs.add(d);
        if (d === '/') break;
      }
    }
    const entryOf = (p: string): string => path.posix.normalize(path.posix.join(fsName, p)).replace(/\/$/, '');
    for (const d of [...dirs].sort()) entries.push({ kind: 'dir', name: entryOf(d) });
    for (const p of [...tree.keys()].sort()) {
      if (fsName === 'file' && p === mainPath) entries.push({ kind: 'link', name: entryOf(p), target: DATA });
      else entries.push({ kind: 'file', name: entryOf(p), data: tree.get(p) as Uint8Array });
    }
  }
  for (const e of entries) {
    const unsafe = e.name === METADATA || e.name === DATA ? undefined : unsafeEntryName(e.name);
    if (unsafe !== undefined) throw invalid(`the path ${JSON.stringify(e.name)} cannot be archived: it ${unsafe}`);
  }
  return writeK6Tar(entries, input.mtime);
}

/** k6's NormalizeAndAnonymizePath: `/` separators, `C:` → `/C`, UNC → `/nobody`, user names → `nobody`. */
export function normalizeAndAnonymize(p: string): string {
  let s = p.replace(/^[/\\]?([a-zA-Z]):(.*)$/, '/$1$2');
  s = s.replace(/^\\\\([^\\]+)/, '/nobody');
  s = s.replaceAll('\\', '/');
  s = path.posix.normalize(s);
  return s.replace(/^(\/[a-zA-Z])?\/(Users|home|Documents and Settings)\/[^/]+/i, '$1/$2/nobody');
}

// ---- reading helpers ----

/** `file/...` or `https/...` for an entry of the `file`/`https` trees (or the pre-0.25 `files/`, `scripts/`), else undefined. */
function fsEntryName(name: string): string | undefined {
  if (name === 'file' || name === 'https' || name.startsWith('file/') || name.startsWith('https/')) return name;
  // Archives of k6 before 0.25: names under files/ or scripts/ starting with "_" are local files, the others https.
  const legacy = /^(files|scripts)\/(.+)$/.exec(name);
  if (legacy?.[2] !== undefined) {
    const rest = legacy[2];
    const mapped = rest.startsWith('_/') ? `file/${rest.slice(2)}` : rest === '_' ? 'file' : `https/${rest}`;
    return unsafeEntryName(mapped) === undefined ? mapped : undefined;
  }
  return name === 'files' || name === 'scripts' ? 'file' : undefined;
}

/** The entry name of the main script, from metadata.json's `filename` (as k6's getURLPathOnFs). */
export function mainEntryName(filename: string): string {
  let entry: string | undefined;
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(filename)) {
    let u: URL;
    try {
      u = new URL(filename);
    } catch {
      throw invalid(`metadata.json's filename ${JSON.stringify(filename)} is not a URL`);
    }
    let p: string;
    try {
      p = decodeURIComponent(u.pathname);
    } catch {
      throw invalid(`metadata.json's filename ${JSON.stringify(filename)} is not a valid URL`);
    }
    if (u.protocol === 'file:') entry = `file${p.replace(/^\/([a-zA-Z]):/, '/$1')}`;
    else if (u.protocol === 'https:') entry = `https/${u.host}${p}${u.search}`;
  } else if (filename.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(filename)) {
    entry = `file${normalizeAndAnonymize(filename)}`;
  } else if (filename !== '') {
    entry = `https/${filename}`;
  }
  if (entry === undefined) throw invalid(`metadata.json's filename ${JSON.stringify(filename)} is neither a file:// nor an https:// URL`);
  const clean = path.posix.normalize(entry);
  const unsafe = unsafeEntryName(clean);
  if (unsafe !== undefined || clean === 'file' || clean === 'https') throw invalid(`metadata.json's filename ${JSON.stringify(filename)} is not a usable path`);
  return clean;
}

function parseMetadata(bytes: Uint8Array): K6ArchiveMetadata {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch (e) {
    throw invalid(`${METADATA} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isRecord(json)) throw invalid(`${METADATA} is not a JSON object`);
  const str = (k: string, required: boolean): string => {
    const v = json[k];
    if (v === undefined || v === null) {
      if (required) throw invalid(`${METADATA} has no "${k}"`);
      return '';
    }
    if (typeof v !== 'string') throw invalid(`${METADATA}: "${k}" must be a string, got ${typeof v}`);
    return v;
  };
  const type = str('type', false) || 'js';
  if (type !== 'js') throw invalid(`${METADATA}: "type" is ${JSON.stringify(type)}; herd runs "js" archives`);
  const options = json['options'] ?? {};
  if (!isRecord(options)) throw invalid(`${METADATA}: "options" must be an object`);
  const rawEnv = json['env'] ?? {};
  if (!isRecord(rawEnv)) throw invalid(`${METADATA}: "env" must be an object of strings`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawEnv)) {
    if (typeof v !== 'string') throw invalid(`${METADATA}: env.${k} must be a string`);
    env[k] = v;
  }
  return { type, filename: str('filename', true), pwd: str('pwd', false), options, env, k6version: str('k6version', false) };
}

/**
 * Bundles the entry once with esbuild, as herd's bundler would, but only to see which files it
 * reads: any file outside `root` is refused before it is read, and remote modules come only from
 * the archive. Without this, an uploaded script could import `../../../../etc/x.json` and have
 * the server's files bundled into a run.
 */
async function checkModulesStayInside(entry: string, root: string, remote: ReadonlyMap<string, string>): Promise<void> {
  const builtins = new Set(builtinModuleSpecifiers);
  const inside = (p: string): boolean => {
    const rel = path.relative(root, p);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  const plugin: esbuild.Plugin = {
    name: 'herd-k6-archive-gate',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const spec = args.path;
        if (builtins.has(spec)) return { path: spec, external: true };
        let url: string | undefined;
        if (/^https?:\/\//i.test(spec)) url = spec;
        else if (args.namespace === 'k6-remote' && (spec.startsWith('.') || spec.startsWith('/'))) url = new URL(spec, args.importer).href;
        if (url !== undefined) {
          if (!remote.has(url)) return { errors: [{ text: `the remote module "${url}" is not in the k6 archive` }] };
          return { path: url, namespace: 'k6-remote' };
        }
        if (spec.startsWith('.') || spec.startsWith('/')) return undefined;
        return { errors: [{ text: `unknown module "${spec}": only files, https:// URLs and the k6 built-in modules can be imported` }] };
      });
      build.onLoad({ filter: /.*/, namespace: 'file' }, (args) => (
        inside(args.path) ? undefined : { errors: [{ text: `a module resolves to ${JSON.stringify(args.path)}, outside the archive` }] }
      ));
      build.onLoad({ filter: /.*/, namespace: 'k6-remote' }, (args) => ({ contents: remote.get(args.path) ?? '', loader: /\.ts(\?|#|$)/.test(new URL(args.path).pathname) ? 'ts' : 'js' }));
    },
  };
  try {
    await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: path.dirname(entry),
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'neutral',
      target: 'es2022',
      mainFields: ['module', 'main'],
      resolveExtensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
      logLevel: 'silent',
      plugins: [plugin],
    });
  } catch (e) {
    const errors = (e as { errors?: esbuild.Message[] }).errors ?? [];
    const shown = errors.slice(0, 5).map((m) => {
      const loc = m.location;
      const where = loc == null ? '' : `${displayPath(path.dirname(entry), root, loc.file)}:${loc.line}:${loc.column + 1}: `;
      return `${where}${m.text}`;
    });
    throw new HerdError('script_import', `the k6 archive's script cannot be bundled:\n${shown.join('\n') || (e instanceof Error ? e.message : String(e))}`, {
      hint: 'Build the archive with `k6 archive` from a script whose imports are files next to it, https:// modules or k6 built-ins.',
    });
  }
}

// A path as the user wrote it in the archive: without the server's temp directory.
function displayPath(workDir: string, root: string, file: string): string {
  if (file.startsWith('k6-remote:')) return file.slice('k6-remote:'.length);
  const abs = path.resolve(workDir, file);
  const rel = path.relative(root, abs);
  return rel.startsWith('..') ? file : `/${rel.split(path.sep).join('/')}`;
}

/** Absolute paths of the local modules the bundle holds (from its source map). */
function moduleFiles(artifact: ScriptArtifact): Set<string> {
  const out = new Set<string>();
  for (const s of artifact.bundleMap.sources) {
    if (s === null || s.startsWith('remote:')) continue;
    out.add(path.resolve(artifact.workDir, s));
  }
  return out;
}

function testNameOf(options: Options): string | undefined {
  const cloud = options.cloud?.['name'];
  if (typeof cloud === 'string' && cloud !== '') return cloud;
  const li = options.ext?.['loadimpact'];
  const legacy = isRecord(li) ? li['name'] : undefined;
  return typeof legacy === 'string' && legacy !== '' ? legacy : undefined;
}

/** A deep copy without null values in objects (k6 writes every unset option as null). */
export function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = stripNulls(x);
    return out;
  }
  return v;
}

function encodePath(p: string): string {
  return p.split('/').map((s) => encodeURIComponent(s).replace(/%3A/gi, ':')).join('/');
}

function goosOf(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'windows' : platform;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
