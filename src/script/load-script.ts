import { stat } from 'node:fs/promises';
import type { SourceMapPayload } from 'node:module';
import vm from 'node:vm';
import { HerdError } from '../errors/index.js';
import { bundle } from './bundle.js';
import { PRELUDE_SOURCE } from './prelude.js';
import { BundlePositions, StackMapper } from './source-position.js';
import { RESERVED_PREFIX, transformBundle } from './transform.js';
import { hardenHostRealm } from './harden-host.js';

/** Options of loadScript. */
export interface LoadOptions {
  /** Absolute path of the entry script (.js, .mjs, .ts). */
  entry: string;
  /** Where fetched remote modules are cached (a directory); created if missing. */
  cacheDir: string;
  /** Allow http:// (not only https://) remote imports — tests use a local server. Default false. */
  allowInsecureRemote?: boolean;
  /** Names of k6 built-in modules that may be imported; any other bare specifier is an error naming it. */
  builtinModules: readonly string[];
}

/** The module exports of one instance: options, default, setup, teardown, handleSummary, exec functions. */
export type ModuleExports = Record<string, unknown>;

/** What one instance (one VU) gets from its caller. */
export interface InstanceHost {
  /** Returns the module object for a k6 built-in specifier, for this VU (called during instantiation). */
  require(specifier: string): Record<string, unknown>;
  /**
   * Values of the script's global scope (__ENV, __VU, __ITER, open, console, ...). Read on every
   * access, so getters (or later mutation of this object) give the current value.
   * `open(path, mode)` calls in the script arrive as `open(path, mode, baseDir)`: baseDir is the
   * absolute directory of the file that contains the call (or the URL of its folder for a remote
   * module), so relative paths can be resolved against the calling file as k6 does.
   */
  globals: object;
}

/** A bundled, transformed script compiled once, instantiated once per VU. */
export interface CompiledScript {
  /** The transformed bundle source (for debugging and for archives). */
  readonly code: string;
  /** Creates one module instance (one per VU); rejects with what the init code threw. */
  instantiate(host: InstanceHost): Promise<ModuleExports>;
  /** The error's stack text with frames in the bundle rewritten to the user's file:line:column. */
  mapStack(err: unknown): string;
  /** A copy of JSON-like host data made of the sandbox's own objects (e.g. handleSummary's data). */
  toRealm(value: unknown): unknown;
  /** JSON.parse in the sandbox realm (e.g. setup() data handed to each VU). */
  parseJSON(json: string): unknown;
  /**
   * k6's randomSeed(): makes the sandbox's Math.random a seeded generator. One context serves
   * every VU of this script, so the seed applies to all of them.
   */
  seedRandom(seed: number): void;
  /** Copies bytes into a new ArrayBuffer of the sandbox realm (binary bodies, open(..., 'b')). */
  arrayBuffer(bytes: Uint8Array): ArrayBuffer;
  /** The sandbox realm's Promise, read before any script code ran. */
  readonly Promise: PromiseConstructor;
}

/**
 * Points esbuild's module-interop helpers (__toESM, __toCommonJS) at the sandbox's shared
 * versions. esbuild's own copy every export of every imported module into a new object of
 * getters, per VU: kilobytes per VU for nothing, since herd's modules already have the right
 * shape. Line counts are kept so source maps still match.
 */
export function useSharedInterop(code: string): string {
  const replace = (src: string, re: RegExp, name: string): string =>
    src.replace(re, (whole) => `var ${name} = ${RESERVED_PREFIX}rt.${name.slice(2)};${'\n'.repeat(whole.split('\n').length - 1)}`);
  let out = replace(code, /^var __toESM = \(mod, isNodeMode, target\) => \([\s\S]*?\n\)\);$/m, '__toESM');
  out = replace(out, /^var __toCommonJS = \(mod\) => .*;$/m, '__toCommonJS');
  return out;
}

/** The file name the bundle is compiled under; stack frames carrying it are mapped back. */
export const BUNDLE_FILENAME = 'herd:script';

interface Runtime {
  expose(v: unknown): unknown;
  adoptPromises(hostPromiseProto: object): void;
  toRealm(json: string): unknown;
  makeRequire(load: (specifier: string) => unknown): unknown;
  makeScope(defined: readonly string[], undefinedNames: readonly string[]): (host: object) => object;
  toESM(mod: unknown, isNodeMode?: boolean): unknown;
  toCommonJS(mod: unknown): unknown;
  seedRandom(seed: number): void;
}

type Factory = (g: object, require: unknown, module: { exports: object }, exports: object) => Promise<void>;

/**
 * Loads a k6 script: bundles it (esbuild), applies the synchronous-style → async transform,
 * and compiles the result ONCE in a fresh vm context into a factory. `instantiate` calls the
 * factory, so each VU runs the init code itself and has its own module-level state.
 *
 * Per-VU globals: one context serves every VU, so __VU, __ITER, __ENV ... cannot live on the
 * context's global object. The transform rewrites every free identifier that is not a standard
 * built-in into a property read of a per-instance scope object (`__herd_g.__ITER`), whose
 * accessors read `host.globals` at access time. Scripts cannot name that object: the
 * `__herd_` prefix is reserved.
 *
 * Sandbox: the context's global holds only JavaScript's built-ins (no process, require, Buffer,
 * file system). Host functions and plain objects given through `globals` and `require` are
 * wrapped (sandbox-made functions and Proxies) so `.constructor.constructor` leads to the
 * sandbox's Function. Residual risk: class instances returned by runtime modules (responses,
 * metrics) and errors thrown by them are Node-realm objects; a script can reach Node's Function
 * through them. Generator processes therefore also run under Node's permission model.
 */
export async function loadScript(opts: LoadOptions): Promise<CompiledScript> {
  return compileScript(await prepareScript(opts));
}

/**
 * A script bundled and transformed, not yet compiled: plain data that can cross a worker
 * boundary or go into an archive, so every thread compiles it without bundling again.
 */
export interface ScriptArtifact {
  /** esbuild's bundle and its source map (bundle → user files). */
  readonly bundleCode: string;
  readonly bundleMap: SourceMapPayload;
  /** The folder esbuild resolved relative source names against. */
  readonly workDir: string;
  /** The transformed bundle and its source map (transformed → bundle). */
  readonly code: string;
  readonly map: SourceMapPayload;
  /** Free identifiers the script reads from its per-VU global scope. */
  readonly freeGlobals: readonly string[];
  /** The k6 built-in modules it may import. */
  readonly builtinModules: readonly string[];
}

/** Bundles and transforms the script at `opts.entry` (load-time errors are thrown here). */
export async function prepareScript(opts: LoadOptions): Promise<ScriptArtifact> {
  try {
    const st = await stat(opts.entry);
    if (!st.isFile()) throw new Error('not a file');
  } catch {
    throw new HerdError('script_not_found', `the script ${opts.entry} does not exist or is not a file`, {
      hint: 'Check the path of the script; relative paths are resolved against the working directory.',
    });
  }
  const b = await bundle({
    entry: opts.entry,
    cacheDir: opts.cacheDir,
    allowInsecureRemote: opts.allowInsecureRemote ?? false,
    builtinModules: opts.builtinModules,
  });
  const positions = new BundlePositions(b.code, b.map, b.workDir);
  const builtinGlobals = new Set(vm.runInContext('Object.getOwnPropertyNames(globalThis)', vm.createContext()) as string[]);
  // V8 puts an inspector-only console on every context; k6's console comes from the host.
  builtinGlobals.delete('console');
  let transformed;
  try {
    transformed = transformBundle(b.code, { locate: (o) => positions.atOffset(o), builtinGlobals });
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new HerdError('script_syntax', `the bundled script cannot be parsed: ${e.message}`, { cause: e });
    }
    throw e;
  }
  return {
    bundleCode: b.code,
    bundleMap: b.map,
    workDir: b.workDir,
    code: transformed.code,
    map: transformed.map,
    freeGlobals: [...transformed.freeGlobals],
    builtinModules: opts.builtinModules,
  };
}

/** The script's factory source, compiled (not run); script_syntax errors point at user lines. */
function compileFactory(artifact: ScriptArtifact, stacks: StackMapper): vm.Script {
  // One line of wrapper before the code; lineOffset -1 keeps reported lines equal to the
  // transformed code's own lines, which is what the transform's source map speaks of.
  const source =
    `(function (${RESERVED_PREFIX}rt) { 'use strict'; return async function (${RESERVED_PREFIX}g, require, module, exports) {\n` +
    `${useSharedInterop(artifact.code)}\n}; })`;
  try {
    return new vm.Script(source, { filename: BUNDLE_FILENAME, lineOffset: -1 });
  } catch (e) {
    throw new HerdError('script_syntax', `the script does not compile: ${stacks.mapText(e instanceof Error ? e.message : String(e))}`, { cause: e });
  }
}

/**
 * Checks that a prepared script compiles, without creating a sandbox or running anything:
 * what a control plane does with an uploaded archive before it queues the run.
 */
export function checkScriptSyntax(artifact: ScriptArtifact): void {
  const positions = new BundlePositions(artifact.bundleCode, artifact.bundleMap, artifact.workDir);
  compileFactory(artifact, new StackMapper(positions, artifact.map, BUNDLE_FILENAME));
}

/** Compiles a prepared script once in a fresh sandbox context. */
export function compileScript(artifact: ScriptArtifact): CompiledScript {
  hardenHostRealm();
  const opts = { builtinModules: artifact.builtinModules };
  const positions = new BundlePositions(artifact.bundleCode, artifact.bundleMap, artifact.workDir);
  const transformed = { code: artifact.code, map: artifact.map, freeGlobals: artifact.freeGlobals };
  const context = vm.createContext(Object.create(null) as object, {
    name: 'herd script',
    codeGeneration: { strings: true, wasm: false },
  });

  const stacks = new StackMapper(positions, transformed.map, BUNDLE_FILENAME);

  const rt = vm.runInContext(PRELUDE_SOURCE, context, { filename: 'herd:prelude' }) as Runtime;
  rt.adoptPromises(Promise.prototype);
  const outer = compileFactory(artifact, stacks).runInContext(context) as (rt: Runtime) => Factory;
  const factory = outer(rt);
  const newPlainObject = vm.runInContext('() => ({})', context) as () => object;
  const newArrayBuffer = vm.runInContext('(n) => new ArrayBuffer(n)', context) as (n: number) => ArrayBuffer;
  const realmPromise = vm.runInContext('Promise', context) as PromiseConstructor;
  const freeGlobals = transformed.freeGlobals;
  let newScope: ((host: object) => object) | undefined;

  return {
    code: transformed.code,
    Promise: realmPromise,
    async instantiate(host: InstanceHost): Promise<ModuleExports> {
      // Every VU's host globals have the same names, so the scope's shape is fixed at the first VU.
      newScope ??= rt.makeScope(
        freeGlobals.filter((n) => n in host.globals),
        freeGlobals.filter((n) => !(n in host.globals)),
      );
      const g = newScope(host.globals);
      const exportsObject = newPlainObject();
      const module = newPlainObject() as { exports: object };
      module.exports = exportsObject;
      const require = rt.makeRequire((spec) => {
        if (!opts.builtinModules.includes(spec)) {
          throw new HerdError('script_import', `unknown module "${spec}"`, { hint: 'Import only the k6 built-in modules by name.' });
        }
        return host.require(spec);
      });
      await factory.call(undefined, g, require, module, module.exports);
      return module.exports as ModuleExports;
    },
    mapStack(err: unknown): string {
      if (typeof err === 'object' && err !== null) {
        const stack = (err as { stack?: unknown }).stack;
        if (typeof stack === 'string') return stacks.mapStack(stack);
      }
      return String(err);
    },
    toRealm(value: unknown): unknown {
      if (value === null || typeof value !== 'object') return value;
      return rt.toRealm(JSON.stringify(value));
    },
    arrayBuffer(bytes: Uint8Array): ArrayBuffer {
      const ab = newArrayBuffer(bytes.byteLength);
      new Uint8Array(ab).set(bytes);
      return ab;
    },
    parseJSON(json: string): unknown {
      return rt.toRealm(json);
    },
    seedRandom(seed: number): void {
      rt.seedRandom(seed);
    },
  };
}

/** Defines one free global on the per-VU scope object: live reads of host.globals, or a ReferenceError. */
