import { consolidate, type Options, type OptionsLayer, runtimeOptions, unknownOptionKeys } from '../config/index.js';
import { ExitCode, HerdError, isHerdError, type ExitCodeValue } from '../errors/index.js';
import { parseExecutionSegment } from '../executor/index.js';
import { defineBuiltinMetrics, GroupTree, MetricRegistry, TagSet, type SampleSink } from '../metrics/index.js';
import type { SummaryData } from '../output/index.js';
import type { Logger } from '../runtime/vu-state.js';
import { archiveFileReader, compileScript, prepareScript, type Archive, type CompiledScript } from '../script/index.js';
import { Coordinator } from './coordinator.js';
import { Engine, type EngineCounts } from './engine.js';
import { describeScriptError } from './errors.js';
import { MetricsPipeline } from './metrics-pipeline.js';
import { builtinModuleSpecifiers } from './modules.js';
import { EngineTestContext } from './test-context.js';
import { baseTags, type VU } from './vu.js';

/** Everything `herd run` decides before the engine starts. */
export interface RunRequest {
  /** Absolute path of the script. */
  readonly entry: string;
  /** __ENV as the script sees it (process env unless disabled, then -e values). */
  readonly env: Readonly<Record<string, string>>;
  /** Option layers above the script's own options, lowest first (config file, environment, flags). */
  readonly layers: readonly OptionsLayer[];
  /** Where remote modules are cached. */
  readonly cacheDir: string;
  readonly logger: Logger;
  /** Extra sinks that get every sample (json/csv outputs). */
  readonly outputs: readonly SampleSink[];
  /** Aborting it stops the test gracefully (Ctrl+C): teardown and summary still run, exit 105. */
  readonly interrupt: AbortSignal;
  /** Allows http:// remote imports (tests). */
  readonly allowInsecureRemote?: boolean;
  /** Worker threads to spread VUs over (1 = run everything in this thread). */
  readonly workers?: number;
  /**
   * A run's archive (herd's format; k6 archives are converted first): its script, options and
   * the files its init code read are used instead of `entry` on disk, as `k6 run archive.tar`.
   */
  readonly archive?: Archive;
  /** Called once the test starts running (for the progress display). */
  onStart?(progress: () => EngineProgress): void;
}

/** A snapshot of the run for progress displays. */
export interface EngineProgress {
  elapsedMs: number;
  vus: number;
  vusMax: number;
  iterationsCompleted: number;
  iterationsInterrupted: number;
  scenarios: Array<{ name: string; executor: string; progress: number; label: string }>;
}

/** What a finished run hands back to the CLI. */
export interface RunOutcome {
  readonly exitCode: ExitCodeValue;
  /** k6's handleSummary data; absent when the run ended before it started. */
  readonly summary?: SummaryData;
  /** The script's handleSummary, bound to the script, when it exports one. */
  readonly handleSummary?: (data: SummaryData) => Promise<unknown>;
  /** Why the run ended early, if it did. */
  readonly reason?: string;
  /** How many threads ran VUs. */
  readonly workers?: number;
}

const THRESHOLD_TICK_MS = 2000;

/**
 * Runs one test: prepare the script, read and consolidate options, then either run every VU
 * in this thread or spread them over worker threads (each owning an execution segment), with
 * setup(), teardown(), thresholds and the summary here. Errors of the user's making come back
 * as exit codes with logged messages; only engine bugs throw.
 */
export async function runTest(req: RunRequest): Promise<RunOutcome> {
  const registry = new MetricRegistry();
  const metrics = defineBuiltinMetrics(registry);
  const pipeline = new MetricsPipeline(registry, req.outputs);
  const test = new EngineTestContext(runtimeOptions({}), registry, metrics, pipeline.sink, new GroupTree(), req.logger);
  let engine: Engine | undefined;
  let coordinator: Coordinator | undefined;
  const onInterrupt = (): void => engine?.endTest(ExitCode.externalAbort, 'the test was stopped (interrupt)');
  req.interrupt.addEventListener('abort', onInterrupt, { once: true });
  try {
    const archive = req.archive;
    const artifact =
      archive?.artifact ??
      (await prepareScript({
        entry: req.entry,
        cacheDir: req.cacheDir,
        builtinModules: builtinModuleSpecifiers,
        allowInsecureRemote: req.allowInsecureRemote ?? false,
      }));
    const compiled = compileScript(artifact);
    const entry = archive?.metadata.entry ?? req.entry;
    const env = archive === undefined ? req.env : { ...archive.metadata.env, ...req.env };
    engine = new Engine(
      {
        env,
        entry,
        logger: req.logger,
        ...(archive === undefined ? {} : { readFile: archiveFileReader(archive) }),
        onEnd: (code, message) => coordinator?.stopAll(code, message),
      },
      test,
      compiled,
    );
    if (req.interrupt.aborted) onInterrupt();

    // The first instance runs the init code once to read `options`, as k6's first init does;
    // it then serves setup(), teardown() and handleSummary() (k6 runs those outside the VUs).
    const first = await engine.initFirst();
    const options = consolidateOptions(first, req, engine);
    const segment = parseExecutionSegment(options.executionSegment, options.executionSegmentSequence);
    engine.configure(options, segment, first.exports);
    pipeline.configure(options, registry);
    first.state.tags = baseTags(test);
    const workers = Math.max(1, Math.min(req.workers ?? 1, engine.maxVUs));

    if (workers > 1) {
      coordinator = new Coordinator(req, engine, pipeline, artifact, segment, workers, collectSharedArrays(test));
      const ok = await coordinator.initWorkers();
      if (!ok) return await finish(engine, pipeline, first, options, 0, workers);
      // Workers already hold every VU; this thread only keeps the setup/teardown instance.
      engine.maxVUs = 0;
    } else {
      await engine.initPool();
    }

    test.started = Date.now();
    const t0 = performance.now();
    const counts = (): EngineCounts => coordinator?.counts() ?? engine!.counts();
    let vusSampled = false;
    const sampleVus = (): void => {
      vusSampled = true;
      const c = counts();
      test.sink.add(test.metrics.vus, TagSet.EMPTY, c.active);
      test.sink.add(test.metrics.vus_max, TagSet.EMPTY, c.initialized);
    };
    pipeline.startTicking(sampleVus, () => checkThresholds(engine!, pipeline, req.logger, performance.now() - t0), THRESHOLD_TICK_MS);
    req.onStart?.(() => {
      const c = counts();
      return {
        elapsedMs: performance.now() - t0,
        vus: c.active,
        vusMax: c.initialized,
        iterationsCompleted: c.completed,
        iterationsInterrupted: c.interrupted,
        scenarios: coordinator?.scenarioProgress() ?? engine!.scenarioProgress(),
      };
    });

    let setupOk = true;
    if (typeof first.exports['setup'] === 'function' && options.noSetup !== true && !engine.testSignal.aborted) {
      setupOk = await engine.runLifecycle(first, 'setup', []);
    }
    if (setupOk) {
      if (coordinator !== undefined) await coordinator.run(engine.setupJSON, test.started);
      else await engine.runScenarios();
      if (typeof first.exports['teardown'] === 'function' && options.noTeardown !== true) {
        await engine.runLifecycle(first, 'teardown', [engine.parseSetupData()]);
      }
    }
    if (!vusSampled) sampleVus();
    return await finish(engine, pipeline, first, options, performance.now() - t0, workers);
  } catch (e) {
    if (isHerdError(e)) {
      req.logger.log('error', e.hint === undefined ? e.message : `${e.message}\nhint: ${e.hint}`);
      return { exitCode: e.exitCode, reason: e.message };
    }
    throw e;
  } finally {
    req.interrupt.removeEventListener('abort', onInterrupt);
    pipeline.stopTicking();
    engine?.closeAll();
    await coordinator?.close();
  }
}

function consolidateOptions(first: VU, req: RunRequest, engine: Engine): Options {
  // An archive's options are the ones consolidated when it was made, as in k6.
  if (req.archive !== undefined) return consolidate([{ source: 'archive options', values: req.archive.metadata.options }, ...req.layers]);
  const scriptOptions = first.exports['options'];
  const values =
    typeof scriptOptions === 'object' && scriptOptions !== null && !Array.isArray(scriptOptions)
      ? (JSON.parse(JSON.stringify(scriptOptions)) as Record<string, unknown>)
      : {};
  for (const k of unknownOptionKeys(values)) engine.warnOnce(`the option "${k}" is not known to herd and is ignored`);
  return consolidate([{ source: 'script options', values }, ...req.layers]);
}

/** SharedArray data the first init made, to hand to worker threads so theirs is the same. */
function collectSharedArrays(test: EngineTestContext): Array<{ name: string; json: string }> {
  const out: Array<{ name: string; json: string }> = [];
  for (const [key, value] of test.shared) {
    if (key.startsWith('SharedArray:') && typeof value === 'object' && value !== null && 'json' in value && 'name' in value) {
      out.push({ name: String((value as { name: unknown }).name), json: String((value as { json: unknown }).json) });
    }
  }
  return out;
}

function checkThresholds(engine: Engine, pipeline: MetricsPipeline, logger: Logger, elapsedMs: number): void {
  const r = pipeline.evaluate(elapsedMs);
  if (r.abort.length > 0 && engine.abortReason === undefined) {
    const msg = `thresholds on metrics '${r.abort.join("', '")}' were crossed; at least one has abortOnFail enabled, stopping test prematurely`;
    logger.log('error', msg);
    engine.endTest(ExitCode.thresholdsHaveFailed, msg);
  }
}

async function finish(engine: Engine, pipeline: MetricsPipeline, first: VU, options: Options, durationMs: number, workers: number): Promise<RunOutcome> {
  pipeline.stopTicking();
  engine.closeAll();
  const test = engine.test;
  const thresholds = pipeline.evaluate(durationMs, true);
  let exitCode: ExitCodeValue = ExitCode.ok;
  if (engine.abortReason !== undefined) exitCode = engine.abortReason.code;
  else if (thresholds.failed) exitCode = ExitCode.thresholdsHaveFailed;
  if (thresholds.failed && exitCode !== ExitCode.scriptAborted && exitCode !== ExitCode.externalAbort) {
    test.logger.log('error', `thresholds on metrics '${thresholds.failedMetrics.join("', '")}' have been crossed`);
  }
  const summary: SummaryData = {
    root_group: test.groups.root,
    options: {
      summaryTrendStats: options.summaryTrendStats ?? ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'],
      summaryTimeUnit: options.summaryTimeUnit ?? '',
      noColor: false,
    },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: durationMs },
    metrics: pipeline.summaryMetrics(durationMs),
  };
  if (engine.setupJSON !== undefined) summary.setup_data = engine.parseSetupData();
  const outcome: RunOutcome = {
    exitCode,
    summary,
    workers,
    ...(engine.abortReason === undefined ? {} : { reason: engine.abortReason.message }),
  };
  const hs = first.exports['handleSummary'];
  if (typeof hs !== 'function') return outcome;
  const compiled: CompiledScript = engine.compiled;
  return {
    ...outcome,
    handleSummary: async (data) => {
      first.state.phase = 'summary';
      try {
        return await (hs as (d: unknown) => unknown)(compiled.toRealm(data));
      } catch (e) {
        throw new HerdError('script_exception', `handleSummary() failed: ${describeScriptError(e, (x) => compiled.mapStack(x))}`);
      }
    },
  };
}
