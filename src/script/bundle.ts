import * as esbuild from 'esbuild';
import { dirname, resolve } from 'node:path';
import type { SourceMapPayload } from 'node:module';
import { HerdError } from '../errors/index.js';
import { RemoteModuleCache } from './remote-modules.js';
import { REMOTE_NAMESPACE } from './source-position.js';

/** What the bundler needs to know. */
export interface BundleOptions {
  entry: string;
  cacheDir: string;
  allowInsecureRemote: boolean;
  builtinModules: readonly string[];
}

/** esbuild's output: CommonJS-shaped code (built-ins stay `require(...)`) and its source map. */
export interface Bundle {
  code: string;
  map: SourceMapPayload;
  /** Directory esbuild's relative source paths are relative to. */
  workDir: string;
}

const PLUGIN = 'herd-modules';
const URL_RE = /^https?:\/\//i;

/**
 * Bundles the entry and everything it imports into one CommonJS-format script: relative and
 * absolute files (JS or TS), remote modules fetched through the cache, and k6 built-ins left as
 * `require("k6/http")` for the per-VU instance to supply. Errors become HerdErrors with the
 * importing file:line:column.
 */
export async function bundle(opts: BundleOptions): Promise<Bundle> {
  const workDir = dirname(opts.entry);
  const cache = new RemoteModuleCache(opts.cacheDir);
  const builtins = new Set(opts.builtinModules);
  const plugin: esbuild.Plugin = {
    name: PLUGIN,
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point') return undefined;
        const spec = args.path;
        if (builtins.has(spec)) return { path: spec, external: true };
        let url: string | undefined;
        if (URL_RE.test(spec)) url = spec;
        else if (args.namespace === REMOTE_NAMESPACE) {
          if (spec.startsWith('.') || spec.startsWith('/')) url = new URL(spec, args.importer).href;
        }
        if (url === undefined) {
          if (spec.startsWith('.') || spec.startsWith('/')) return undefined; // a file: esbuild resolves it
          return { errors: [{ text: `unknown module "${spec}": only files, https:// URLs and the k6 built-in modules can be imported` }] };
        }
        if (url.toLowerCase().startsWith('http://') && !opts.allowInsecureRemote) {
          return { errors: [{ text: `insecure remote module "${url}": only https:// URLs can be imported` }] };
        }
        try {
          const { text } = await cache.get(url);
          return { path: url, namespace: REMOTE_NAMESPACE, pluginData: text };
        } catch (e) {
          return { errors: [{ text: `cannot fetch remote module "${url}": ${e instanceof Error ? e.message : String(e)}` }] };
        }
      });
      build.onLoad({ filter: /.*/, namespace: REMOTE_NAMESPACE }, (args) => ({
        contents: String(args.pluginData ?? ''),
        loader: /\.ts(\?|#|$)/.test(new URL(args.path).pathname) ? 'ts' : 'js',
      }));
    },
  };

  let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] };
  try {
    result = await esbuild.build({
      entryPoints: [opts.entry],
      absWorkingDir: workDir,
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'neutral',
      target: 'es2022',
      outfile: resolve(workDir, '__herd_bundle.js'),
      sourcemap: 'external',
      sourcesContent: false,
      mainFields: ['module', 'main'],
      resolveExtensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
      logLevel: 'silent',
      plugins: [plugin],
    });
  } catch (e) {
    throw buildError(e, workDir);
  }
  let code = '';
  let map: SourceMapPayload | undefined;
  for (const f of result.outputFiles) {
    if (f.path.endsWith('.map')) map = JSON.parse(f.text) as SourceMapPayload;
    else code = f.text;
  }
  if (map === undefined) throw new HerdError('internal', 'esbuild produced no source map');
  return { code, map, workDir };
}

/** Turns esbuild's failure into the HerdError of its first message (all are listed). */
function buildError(e: unknown, workDir: string): HerdError {
  const errors = (e as { errors?: esbuild.Message[] }).errors;
  if (!Array.isArray(errors) || errors.length === 0) {
    return new HerdError('script_syntax', `the script cannot be bundled: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const lines = errors.map((m) => {
    const loc = m.location;
    if (loc == null) return m.text;
    const file = loc.namespace === REMOTE_NAMESPACE || URL_RE.test(loc.file) ? loc.file.replace(`${REMOTE_NAMESPACE}:`, '') : resolve(workDir, loc.file);
    return `${file}:${loc.line}:${loc.column + 1}: ${m.text}`;
  });
  const first = errors[0] as esbuild.Message;
  const isImport = first.pluginName === PLUGIN || /^Could not resolve/.test(first.text);
  return isImport
    ? new HerdError('script_import', lines.join('\n'), {
        hint: 'Import only files (relative paths), https:// URLs and the k6 built-in modules (k6, k6/http, ...).',
        cause: e,
      })
    : new HerdError('script_syntax', lines.join('\n'), { hint: 'Fix the syntax error at the position shown.', cause: e });
}
