import { consolidate, HERD_VERSION, runtimeOptions, unknownOptionKeys, type Options, type OptionsLayer } from '../config/index.js';
import { parseExecutionSegment } from '../executor/index.js';
import { defineBuiltinMetrics, GroupTree, MetricRegistry, type SampleSink } from '../metrics/index.js';
import type { Logger } from '../runtime/vu-state.js';
import { compileScript, packArchive, prepareScript } from '../script/index.js';
import { Engine } from './engine.js';
import { builtinModuleSpecifiers } from './modules.js';
import { EngineTestContext } from './test-context.js';

/** What packing a cloud run needs: the same inputs as a local run. */
export interface PackRequest {
  readonly entry: string;
  /** __ENV during the local init run (process env plus -e values). */
  readonly env: Readonly<Record<string, string>>;
  /** Only the -e values: they travel in the archive, the process env never does. */
  readonly userEnv: Readonly<Record<string, string>>;
  readonly layers: readonly OptionsLayer[];
  readonly cacheDir: string;
  readonly logger: Logger;
  readonly allowInsecureRemote?: boolean;
}

/** A packed run: the archive bytes and what the CLI shows before uploading. */
export interface PackedRun {
  readonly archive: Uint8Array;
  readonly options: Options;
  /** Most VUs the run needs at once, and its planned length. */
  readonly vus: number;
  readonly files: number;
}

const NO_SAMPLES: SampleSink = { add() {} };

/**
 * Packs a script for a cloud run, as `k6 cloud` does: bundle and transform it, run its init
 * code once here to read `options` and to record every file open() reads, consolidate the
 * options with the config file, environment and flags, check the scenarios, and write the
 * archive. Errors in the script or options surface here, before anything is uploaded.
 */
export async function packRun(req: PackRequest): Promise<PackedRun> {
  const artifact = await prepareScript({
    entry: req.entry,
    cacheDir: req.cacheDir,
    builtinModules: builtinModuleSpecifiers,
    allowInsecureRemote: req.allowInsecureRemote ?? false,
  });
  const registry = new MetricRegistry();
  const test = new EngineTestContext(runtimeOptions({}), registry, defineBuiltinMetrics(registry), NO_SAMPLES, new GroupTree(), req.logger);
  const files = new Map<string, Uint8Array>();
  const engine = new Engine(
    { env: req.env, entry: req.entry, logger: req.logger, onFileRead: (file, bytes) => files.set(file, bytes) },
    test,
    compileScript(artifact),
  );
  try {
    const first = await engine.initFirst();
    const exported = first.exports['options'];
    const values =
      typeof exported === 'object' && exported !== null && !Array.isArray(exported)
        ? (JSON.parse(JSON.stringify(exported)) as Record<string, unknown>)
        : {};
    for (const k of unknownOptionKeys(values)) req.logger.log('warn', `the option "${k}" is not known to herd and is ignored`);
    const options = consolidate([{ source: 'script options', values }, ...req.layers]);
    engine.configure(options, parseExecutionSegment(options.executionSegment, options.executionSegmentSequence), first.exports);
    const archive = await packArchive({
      entry: req.entry,
      artifact,
      options: JSON.parse(JSON.stringify(options)) as Record<string, unknown>,
      env: { ...req.userEnv },
      files,
      herdVersion: HERD_VERSION,
    });
    return { archive, options, vus: engine.maxVUs, files: files.size };
  } finally {
    engine.closeAll();
  }
}
