import { readFileSync } from 'node:fs';
import path from 'node:path';
import { consolidate, runtimeOptions, type Options, type OptionsLayer, unknownOptionKeys } from '../config/index.js';
import { ExitCode, HerdError, isHerdError, type ExitCodeValue } from '../errors/index.js';
import { deriveScenarios, fullSegment, parseScenarios } from '../executor/index.js';
import type { ExecutorConfig } from '../executor/types.js';
import { defineBuiltinMetrics, GroupTree, MetricRegistry, TagSet, type SampleSink } from '../metrics/index.js';
import type { Logger, RuntimeModule, VuState } from '../runtime/vu-state.js';
import { clearVuTimers, hasPendingTimers, whenVuTimersIdle } from '../runtime/k6-timers/index.js';
import { closeHttpConnections, resetCookieJar } from '../runtime/k6-http/index.js';
import { closeVuSockets, whenVuSocketsClosed } from '../runtime/k6-websockets/index.js';
import { loadScript, type CompiledScript } from '../script/index.js';
import { describeScriptError, initError, isInterruption, isTestAbort } from './errors.js';
import { MetricsPipeline } from './metrics-pipeline.js';
import { maxConcurrentVUs } from './vu-requirements.js';
import { builtinModuleSpecifiers, createBuiltinModules, type ModuleHooks } from './modules.js';
import { ScenarioRun, type ScenarioHost } from './scenario-run.js';
import { EngineTestContext } from './test-context.js';
import { baseTags, VU } from './vu.js';
import type { SummaryData } from '../output/index.js';

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
  /** The script's handleSummary, bound to a VU, when the script exports one. */
  readonly handleSummary?: (data: SummaryData) => Promise<unknown>;
  /** Why the run ended early, if it did. */
  readonly reason?: string;
}

const THRESHOLD_TICK_MS = 2000;

/**
 * Runs one test in this process: load the script, read and consolidate options, init VUs,
 * setup(), scenarios, teardown(), final thresholds. Errors of the user's making come back as
 * exit codes with logged messages; only engine bugs throw.
 */
export async function runTest(req: RunRequest): Promise<RunOutcome> {
  const registry = new MetricRegistry();
  const metrics = defineBuiltinMetrics(registry);
  const pipeline = new MetricsPipeline(registry, req.outputs);
  const groups = new GroupTree();
  const test = new EngineTestContext(runtimeOptions({}), registry, metrics, pipeline.sink, groups, req.logger);
  const engine = new Engine(req, test, pipeline);
  return engine.run();
}

class Engine implements ScenarioHost {
  private compiled!: CompiledScript;
  private modules!: ReadonlyMap<string, RuntimeModule>;
  private options: Options = {};
  private scenarios: ScenarioRun[] = [];
  private readonly idle: VU[] = [];
  private readonly all: VU[] = [];
  private setupJSON: string | undefined;
  private readonly stop = new AbortController();
  private abortReason: { code: ExitCodeValue; message: string } | undefined;
  private readonly warned = new Set<string>();
  private maxVUs = 0;
  private readonly moduleHooks: ModuleHooks;
  private lastYield = 0;
  private vusSampled = false;

  constructor(
    private readonly req: RunRequest,
    private readonly test: EngineTestContext,
    private readonly pipeline: MetricsPipeline,
  ) {
    this.moduleHooks = {
      randomSeed: (seed) => this.compiled.seedRandom?.(seed),
      open: (file, mode, baseDir) => this.open(file, mode, baseDir),
    };
  }

  get testSignal(): AbortSignal {
    return this.stop.signal;
  }

  async run(): Promise<RunOutcome> {
    const onInterrupt = (): void => this.endTest(ExitCode.externalAbort, 'the test was stopped (interrupt)');
    this.req.interrupt.addEventListener('abort', onInterrupt, { once: true });
    try {
      return await this.runPhases();
    } catch (e) {
      if (isHerdError(e)) {
        this.req.logger.log('error', e.hint === undefined ? e.message : `${e.message}\nhint: ${e.hint}`);
        return { exitCode: e.exitCode, reason: e.message };
      }
      throw e;
    } finally {
      this.req.interrupt.removeEventListener('abort', onInterrupt);
      this.pipeline.stopTicking();
    }
  }

  private async runPhases(): Promise<RunOutcome> {
    this.compiled = await loadScript({
      entry: this.req.entry,
      cacheDir: this.req.cacheDir,
      builtinModules: builtinModuleSpecifiers,
      allowInsecureRemote: this.req.allowInsecureRemote ?? false,
    });
    this.modules = createBuiltinModules(this.moduleHooks);
    const compiled = this.compiled;
    this.test.scriptArrayBuffer = (bytes) => compiled.arrayBuffer(bytes);

    // The first instance runs the init code once to read `options`, as k6's first init does;
    // it then serves setup(), teardown() and handleSummary() (k6 runs those outside the VUs).
    const first = await this.newVU(0);
    const scriptOptions = first.exports['options'];
    const scriptValues = isPlainObject(scriptOptions) ? JSON.parse(JSON.stringify(scriptOptions)) as Record<string, unknown> : {};
    for (const k of unknownOptionKeys(scriptValues)) this.warnOnce(`the option "${k}" is not known to herd and is ignored`);
    this.options = consolidate([{ source: 'script options', values: scriptValues }, ...this.req.layers]);
    this.test.options = runtimeOptions(this.options);
    this.test.exportedOptions = Object.freeze(JSON.parse(JSON.stringify(this.options)) as Record<string, unknown>);
    first.state.tags = baseTags(this.test);

    const configs = parseScenarios(deriveScenarios(this.options));
    this.checkExecFunctions(configs, first.exports);
    this.pipeline.configure(this.options, this.test.registry);
    this.scenarios = configs.filter((c) => c.plan(fullSegment).hasWork).map((c) => new ScenarioRun(c, fullSegment));
    this.maxVUs = maxConcurrentVUs(this.scenarios.map((s) => ({ startTime: s.config.startTime, steps: s.config.plan(s.segment).steps })));

    for (let id = 1; id <= this.maxVUs; id++) {
      const vu = await this.newVU(id);
      this.idle.push(vu);
      if (this.stop.signal.aborted) break;
    }
    this.test.initialized = this.all.length - 1;

    this.test.started = Date.now();
    const t0 = performance.now();
    this.pipeline.startTicking(() => this.sampleVus(), () => this.checkThresholds(performance.now() - t0), THRESHOLD_TICK_MS);
    this.req.onStart?.(() => this.progress(performance.now() - t0));

    if (typeof first.exports['setup'] === 'function' && this.options.noSetup !== true && !this.stop.signal.aborted) {
      const ok = await this.runLifecycle(first, 'setup', []);
      if (!ok) return this.finish(first, performance.now() - t0);
    }

    await Promise.all(this.scenarios.map((s) => s.run(this)));

    if (typeof first.exports['teardown'] === 'function' && this.options.noTeardown !== true) {
      await this.runLifecycle(first, 'teardown', [this.parseSetupData()]);
    }
    return this.finish(first, performance.now() - t0);
  }

  private async finish(first: VU, durationMs: number): Promise<RunOutcome> {
    this.pipeline.stopTicking();
    if (!this.vusSampled) this.sampleVus();
    for (const vu of this.all) {
      clearVuTimers(vu.state);
      closeVuSockets(vu.state);
      closeHttpConnections(vu.state);
    }
    const thresholds = this.pipeline.evaluate(durationMs, true);
    let exitCode: ExitCodeValue = ExitCode.ok;
    if (this.abortReason !== undefined) exitCode = this.abortReason.code;
    else if (thresholds.failed) exitCode = ExitCode.thresholdsHaveFailed;
    if (thresholds.failed && exitCode !== ExitCode.scriptAborted && exitCode !== ExitCode.externalAbort) {
      this.req.logger.log('error', `thresholds on metrics '${thresholds.failedMetrics.join("', '")}' have been crossed`);
    }
    const summary: SummaryData = {
      root_group: this.test.groups.root,
      options: {
        summaryTrendStats: this.options.summaryTrendStats ?? ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'],
        summaryTimeUnit: this.options.summaryTimeUnit ?? '',
        noColor: false,
      },
      state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: durationMs },
      metrics: this.pipeline.summaryMetrics(durationMs),
    };
    if (this.setupJSON !== undefined) summary.setup_data = this.parseSetupData();
    const hs = first.exports['handleSummary'];
    const outcome: RunOutcome = {
      exitCode,
      summary,
      ...(this.abortReason === undefined ? {} : { reason: this.abortReason.message }),
    };
    if (typeof hs !== 'function') return outcome;
    return {
      ...outcome,
      handleSummary: async (data) => {
        first.state.phase = 'summary';
        try {
          return await (hs as (d: unknown) => unknown)(this.compiled.toRealm(data));
        } catch (e) {
          throw new HerdError('script_exception', `handleSummary() failed: ${describeScriptError(e, (x) => this.compiled.mapStack(x))}`);
        }
      },
    };
  }

  /** Creates VU `id` (0 = the setup/teardown instance) and runs its init code. */
  private async newVU(id: number): Promise<VU> {
    const vu = new VU(this.test, id, this.req.env);
    const instances = new Map<string, Record<string, unknown>>();
    const modules = this.modules;
    const state = vu.state;
    type TimerFn = (...a: unknown[]) => unknown;
    const timers = (): Record<string, TimerFn> => {
      let inst = instances.get('k6/timers');
      if (inst === undefined) {
        inst = (modules.get('k6/timers') as RuntimeModule).instantiate(state);
        instances.set('k6/timers', inst);
      }
      return inst as Record<string, TimerFn>;
    };
    try {
      vu.exports = await this.compiled.instantiate({
        require: (spec) => {
          let inst = instances.get(spec);
          if (inst === undefined) {
            const mod = modules.get(spec);
            if (mod === undefined) throw new HerdError('script_import', `unknown module "${spec}"`);
            inst = mod.instantiate(state);
            instances.set(spec, inst);
          }
          return inst;
        },
        globals: {
          get __ENV() {
            return vu.env;
          },
          get __VU() {
            return state.idInTest;
          },
          get __ITER() {
            return state.iteration;
          },
          open: (file: unknown, mode?: unknown, baseDir?: unknown) => {
            if (state.phase !== 'init') {
              throw new HerdError('init_context_only', 'open() can only be called in the init context', {
                hint: 'read files at the top level of the script and keep the content in a variable',
              });
            }
            return this.moduleHooks.open(String(file), mode === undefined ? undefined : String(mode), baseDir === undefined ? undefined : String(baseDir));
          },
          console: this.consoleFor(vu),
          // k6 (v0.50+) also offers the k6/timers functions as globals.
          setTimeout: (...a: unknown[]) => (timers()["setTimeout"] as TimerFn)(...a),
          clearTimeout: (...a: unknown[]) => (timers()["clearTimeout"] as TimerFn)(...a),
          setInterval: (...a: unknown[]) => (timers()["setInterval"] as TimerFn)(...a),
          clearInterval: (...a: unknown[]) => (timers()["clearInterval"] as TimerFn)(...a),
        },
      });
    } catch (e) {
      this.stop.abort();
      throw initError(e, (x) => this.compiled.mapStack(x));
    }
    state.phase = 'iteration';
    this.all.push(vu);
    return vu;
  }

  private readonly fileCache = new Map<string, string | ArrayBuffer>();

  /** k6's open(): text or binary ('b'), relative to the calling script's folder, cached. */
  private open(file: string, mode: string | undefined, baseDir: string | undefined): string | ArrayBuffer {
    const resolved = path.resolve(baseDir ?? path.dirname(this.req.entry), file);
    const key = `${mode === 'b' ? 'b' : 't'}:${resolved}`;
    const hit = this.fileCache.get(key);
    if (hit !== undefined) return typeof hit === 'string' ? hit : this.compiled.arrayBuffer(new Uint8Array(hit));
    let buf: Buffer;
    try {
      buf = readFileSync(resolved);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new HerdError('script_exception', `open("${file}"): ${code === 'ENOENT' ? 'no such file' : String(code)} at ${resolved}`, {
        hint: 'paths given to open() are relative to the script that calls it',
      });
    }
    const value: string | ArrayBuffer = mode === 'b' ? new Uint8Array(buf).buffer : buf.toString('utf8');
    this.fileCache.set(key, value);
    return typeof value === 'string' ? value : this.compiled.arrayBuffer(new Uint8Array(value));
  }

  private consoleFor(vu: VU): Record<string, (...args: unknown[]) => void> {
    const logger = this.req.logger;
    const fmt = (args: unknown[]): string => args.map((a) => (typeof a === 'string' ? a : safeJSON(a))).join(' ');
    const at = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => logger.log(level, fmt(args), { source: 'console' });
    void vu;
    return { log: at('info'), info: at('info'), debug: at('debug'), warn: at('warn'), error: at('error') };
  }

  private checkExecFunctions(configs: readonly ExecutorConfig[], exports: Record<string, unknown>): void {
    const problems = configs
      .filter((c) => typeof exports[c.exec] !== 'function')
      .map((c) =>
        c.exec === 'default'
          ? `scenario "${c.name}" runs the default function, but the script exports none`
          : `scenarios.${c.name}.exec names "${c.exec}", but the script exports no function of that name`,
      );
    if (problems.length > 0) {
      throw new HerdError('invalid_option', problems.join('\n'), { hint: 'export the function the scenario runs, or set its exec option' });
    }
  }

  // ---- lifecycle --------------------------------------------------------------------

  /** Runs setup() or teardown() inside its k6 group; false when it failed (the run ends). */
  private async runLifecycle(vu: VU, fn: 'setup' | 'teardown', args: unknown[]): Promise<boolean> {
    const state = vu.state;
    const test = this.test;
    state.phase = fn;
    state.groupPath = `::${fn}`;
    test.groups.group(state.groupPath);
    state.tags = test.options.systemTags.has('group') ? baseTags(test).with('group', state.groupPath) : baseTags(test);
    const timeoutMs = (fn === 'setup' ? this.options.setupTimeout : this.options.teardownTimeout) ?? 60_000;
    const hard = new AbortController();
    state.signal = hard.signal;
    const started = performance.now();
    try {
      const result = await withTimeout((vu.exports[fn] as (...a: unknown[]) => unknown)(...args), timeoutMs, () => hard.abort());
      if (fn === 'setup') this.setupJSON = result === undefined ? undefined : JSON.stringify(result);
      return true;
    } catch (e) {
      if (e === TIMEOUT) {
        this.endTest(fn === 'setup' ? ExitCode.setupTimeout : ExitCode.teardownTimeout, `${fn}() execution timed out after ${timeoutMs / 1000}s`);
        this.req.logger.log('error', `${fn}() execution timed out after ${timeoutMs / 1000} seconds`, { hint: `increase the ${fn}Timeout option` });
        return false;
      }
      if (isTestAbort(e)) {
        this.endTest(ExitCode.scriptAborted, e.message);
        this.req.logger.log('error', e.message);
        return false;
      }
      this.endTest(ExitCode.scriptException, `${fn}() failed`);
      this.req.logger.log('error', describeScriptError(e, (x) => this.compiled.mapStack(x)), { source: 'stacktrace' });
      return false;
    } finally {
      test.sink.add(test.metrics.iteration_duration, state.tags, performance.now() - started);
      state.signal = new AbortController().signal;
      state.groupPath = '';
      state.tags = baseTags(test);
    }
  }

  private parseSetupData(): unknown {
    return this.setupJSON === undefined ? undefined : this.compiled.parseJSON(this.setupJSON);
  }

  // ---- ScenarioHost -----------------------------------------------------------------

  acquireVU(): VU | null {
    return this.idle.pop() ?? null;
  }

  releaseVU(vu: VU): void {
    this.idle.push(vu);
  }

  async initExtraVU(): Promise<VU | null> {
    if (this.stop.signal.aborted) return null;
    const vu = await this.newVU(this.all.length);
    this.test.initialized = this.all.length - 1;
    return vu;
  }

  addActiveVUs(delta: number): void {
    this.test.active += delta;
  }

  dropIterations(scenario: ScenarioRun, n: number): void {
    let tags = baseTags(this.test);
    if (this.test.options.systemTags.has('scenario')) tags = tags.with('scenario', scenario.config.name);
    this.test.sink.add(this.test.metrics.dropped_iterations, tags, n);
  }

  warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.req.logger.log('warn', message);
  }

  async runIteration(vu: VU, scenario: ScenarioRun, hardStop: AbortSignal, iterationInScenario: number): Promise<boolean> {
    const state = vu.state;
    const test = this.test;
    const name = scenario.config.name;
    const perVu = vu.iterationsByScenario.get(name) ?? 0;
    vu.iterationsByScenario.set(name, perVu + 1);
    const inTest = iterationInScenario >= 0 ? iterationInScenario : scenario.nextIterationInTest++;
    vu.enterScenario(name, scenario.config.tags, scenario.config.env, scenario.infoFor(perVu, inTest));
    state.iteration = perVu;
    state.phase = 'iteration';
    const signal = AbortSignal.any([hardStop, this.stop.signal]);
    state.signal = signal;
    this.pipeline.beginIteration(state);
    resetCookieJar(state);
    if (!vu.hasSetupData) {
      vu.setupData = this.parseSetupData();
      vu.hasSetupData = true;
    }
    const fn = vu.exports[scenario.config.exec] as (data: unknown) => unknown;
    const started = performance.now();
    let interrupted = false;
    try {
      const ret = fn(vu.setupData);
      if (ret !== null && typeof ret === 'object' && typeof (ret as Promise<unknown>).then === 'function') {
        await raceSignal(ret as Promise<unknown>, signal);
      }
      // As in k6, an iteration ends once the timers and sockets it started are done. Handlers
      // can start timers and timers can open sockets, so wait until both are idle together.
      await raceSignal(whenVuAsyncIdle(state), signal);
    } catch (e) {
      if (isTestAbort(e)) {
        this.endTest(ExitCode.scriptAborted, e.message);
        this.req.logger.log('error', e.message, { source: 'abort' });
      } else if (isInterruption(e, signal)) {
        interrupted = true;
      } else {
        this.req.logger.log('error', describeScriptError(e, (x) => this.compiled.mapStack(x)), {
          executor: scenario.config.type,
          scenario: name,
          source: 'stacktrace',
        });
      }
    }
    const tags = state.tags;
    state.groupPath = '';
    vu.idle();
    if (interrupted) {
      clearVuTimers(state, { logInterrupted: true });
      closeVuSockets(state);
      test.interrupted++;
      return false;
    }
    test.completed++;
    const ended = performance.now();
    test.sink.add(test.metrics.iterations, tags, 1);
    test.sink.add(test.metrics.iteration_duration, tags, ended - started);
    // Iterations that never wait on I/O would starve timers (stop signals, thresholds, Ctrl+C):
    // give the event loop a turn every few milliseconds.
    if (ended - this.lastYield > 10) {
      this.lastYield = ended;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return true;
  }

  // ---- test-wide control ------------------------------------------------------------

  /** Ends the test early with `code`; the first reason wins. */
  private endTest(code: ExitCodeValue, message: string): void {
    if (this.abortReason === undefined) this.abortReason = { code, message };
    this.stop.abort(new HerdError(code === ExitCode.scriptAborted ? 'test_aborted' : 'external_abort', message));
  }

  private checkThresholds(elapsedMs: number): void {
    const r = this.pipeline.evaluate(elapsedMs);
    if (r.abort.length > 0 && this.abortReason === undefined) {
      const msg = `thresholds on metrics '${r.abort.join("', '")}' were crossed; at least one has abortOnFail enabled, stopping test prematurely`;
      this.req.logger.log('error', msg);
      this.endTest(ExitCode.thresholdsHaveFailed, msg);
    }
  }

  /** Emits the `vus` and `vus_max` gauges (k6 samples them every second). */
  private sampleVus(): void {
    const test = this.test;
    this.vusSampled = true;
    test.sink.add(test.metrics.vus, TagSet.EMPTY, test.active);
    test.sink.add(test.metrics.vus_max, TagSet.EMPTY, test.initialized);
  }

  private progress(elapsedMs: number): EngineProgress {
    return {
      elapsedMs,
      vus: this.test.active,
      vusMax: this.test.initialized,
      iterationsCompleted: this.test.completed,
      iterationsInterrupted: this.test.interrupted,
      scenarios: this.scenarios.map((s) => ({
        name: s.config.name,
        executor: s.config.type,
        progress: s.progress,
        label: s.config.description(s.segment),
      })),
    };
  }
}

/** Resolves once the VU has neither pending timers nor open k6/websockets sockets. */
async function whenVuAsyncIdle(state: VuState): Promise<void> {
  for (;;) {
    await whenVuTimersIdle(state);
    await whenVuSocketsClosed(state);
    // A socket handler may have set a new timer while we waited for the sockets.
    if (!hasPendingTimers(state)) return;
  }
}

const TIMEOUT = Symbol('timeout');

function withTimeout<T>(value: T | Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(TIMEOUT);
    }, ms);
    Promise.resolve(value).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Settles with `p`, or rejects with the signal's reason as soon as it aborts. */
function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function safeJSON(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
