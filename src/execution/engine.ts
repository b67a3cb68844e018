import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runtimeOptions, type Options } from '../config/index.js';
import { ExitCode, HerdError, type ExitCodeValue } from '../errors/index.js';
import { parseScenarios, deriveScenarios } from '../executor/index.js';
import type { ExecutionSegment, ExecutorConfig } from '../executor/types.js';
import { closeHttpConnections, resetCookieJar } from '../runtime/k6-http/index.js';
import { clearVuTimers, hasPendingTimers, whenVuTimersIdle } from '../runtime/k6-timers/index.js';
import { closeVuSockets, hasOpenSockets, whenVuSocketsClosed } from '../runtime/k6-websockets/index.js';
import { unwatchAbort, watchAbort } from '../runtime/abort-watch.js';
import type { Logger, RuntimeModule, VuState } from '../runtime/vu-state.js';
import { TagSet, type Metric } from '../metrics/index.js';
import type { CompiledScript } from '../script/index.js';
import { describeScriptError, initError, isInterruption, isTestAbort } from './errors.js';
import { createBuiltinModules } from './modules.js';
import { ScenarioRun, type ScenarioHost } from './scenario-run.js';
import type { EngineTestContext } from './test-context.js';
import { baseTags, VU } from './vu.js';
import { VuGlobals, type GlobalsHost } from './vu-globals.js';
import { maxConcurrentVUs } from './vu-requirements.js';
import type { AbortLike } from '../runtime/vu-signal.js';

/** What an Engine needs from the thread that hosts it. */
export interface EngineHost {
  /** __ENV as the script sees it. */
  readonly env: Readonly<Record<string, string>>;
  /** The script's path: open() without a caller folder resolves against its folder. */
  readonly entry: string;
  readonly logger: Logger;
  /**
   * Where open() reads files: the disk by default; an agent reads the files packed in the
   * run's archive. Undefined means "not there".
   */
  readFile?(resolvedPath: string): Uint8Array | undefined;
  /** Told about every file open() read (the CLI packs them into the run's archive). */
  onFileRead?(resolvedPath: string, bytes: Uint8Array): void;
  /** Called once, the first time the test is ended early (abort, interrupt, setup failure). */
  onEnd?(code: ExitCodeValue, message: string): void;
}

/** Counters a thread reports about its VUs and iterations. */
export interface EngineCounts {
  active: number;
  initialized: number;
  completed: number;
  interrupted: number;
}

/**
 * The VU runtime of one thread: it instantiates the script once per VU, runs scenarios on its
 * execution segment, runs setup()/teardown() when asked, and ends early when told to. The
 * single-threaded run, the coordinator of a multi-threaded run and each worker thread all
 * drive this same class; only what they do around it differs.
 */
export class Engine implements ScenarioHost {
  options: Options = {};
  scenarios: ScenarioRun[] = [];
  maxVUs = 0;
  /** JSON of setup()'s result, handed to every VU (parsed once per VU). */
  setupJSON: string | undefined;
  abortReason: { code: ExitCodeValue; message: string } | undefined;
  private readonly modules: ReadonlyMap<string, RuntimeModule>;
  private readonly idle: VU[] = [];
  private readonly all: VU[] = [];
  private readonly stop = new AbortController();
  private readonly warned = new Set<string>();
  private readonly fileCache = new Map<string, string | ArrayBuffer>();
  private vuIds: { next(): void; readonly unscaled: number } | undefined;
  /** __ENV outside scenarios: one object every VU shares (a copy per VU would cost kilobytes each). */
  private readonly globalEnv: Record<string, string>;
  private lastYield = 0;

  constructor(
    private readonly host: EngineHost,
    readonly test: EngineTestContext,
    readonly compiled: CompiledScript,
  ) {
    this.modules = createBuiltinModules({
      randomSeed: (seed) => compiled.seedRandom(seed),
      open: (file, mode, baseDir) => this.open(file, mode, baseDir),
    });
    test.scriptArrayBuffer = (bytes) => compiled.arrayBuffer(bytes);
    test.ScriptPromise = compiled.Promise;
    test.scriptCopy = (value) => compiled.toRealm(value);
    this.console = scriptConsole(host.logger);
    // __ENV objects belong to the script's realm: a host object would reach scripts through the
    // sandbox's Proxy, which costs a trap on every `__ENV.NAME` read (four times a plain read).
    this.globalEnv = compiled.toRealm({ ...host.env }) as Record<string, string>;
    const timers = this.modules.get('k6/timers');
    if (timers === undefined) throw new Error('k6/timers is not among the built-in modules');
    this.globalsHost = { console: this.console, open: (file, mode, baseDir) => this.open(file, mode, baseDir), timers };
  }

  /** What every VU's globals share (see VuGlobals). */
  private readonly globalsHost: GlobalsHost;

  /** The `console` every VU of this thread shares. */
  private readonly console: Record<string, (...args: unknown[]) => void>;

  get testSignal(): AbortSignal {
    return this.stop.signal;
  }

  /** Parses the scenarios for this segment; throws HerdError (exit 104) when they are invalid. */
  configure(options: Options, segment: ExecutionSegment, exports: Record<string, unknown>): void {
    this.options = options;
    this.test.options = runtimeOptions(options);
    this.test.exportedOptions = Object.freeze(JSON.parse(JSON.stringify(options)) as Record<string, unknown>);
    const configs = parseScenarios(deriveScenarios(options));
    checkExecFunctions(configs, exports);
    const base = baseTags(this.test);
    const systemTags = this.test.options.systemTags;
    this.scenarios = configs
      .filter((c) => c.plan(segment).hasWork)
      .map((c) => {
        let tags = base.merge(TagSet.from(c.tags));
        if (systemTags.has('scenario')) tags = tags.with('scenario', c.name);
        const env = Object.keys(c.env).length === 0 ? this.globalEnv : (this.compiled.toRealm({ ...this.globalEnv, ...c.env }) as Record<string, string>);
        return new ScenarioRun(c, segment, tags, env);
      });
    this.maxVUs = maxConcurrentVUs(this.scenarios.map((s) => ({ startTime: s.config.startTime, steps: s.config.plan(s.segment).steps })));
    this.vuIds = segment.newIndex();
  }

  /** Creates the instance that reads options and runs setup/teardown/handleSummary (VU 0). */
  async initFirst(): Promise<VU> {
    return this.newVU(0, 0);
  }

  /** Initializes this thread's VU pool (k6 initializes every VU before the test starts). */
  async initPool(): Promise<void> {
    for (let i = 0; i < this.maxVUs && !this.stop.signal.aborted; i++) this.idle.push(await this.newPooledVU());
  }

  /** Runs every scenario to its end. */
  async runScenarios(): Promise<void> {
    await Promise.all(this.scenarios.map((s) => s.run(this)));
  }

  /** Counters for progress displays and the coordinator. */
  counts(): EngineCounts {
    const t = this.test;
    return { active: t.active, initialized: t.initialized, completed: t.completed, interrupted: t.interrupted };
  }

  /** Ends the test early with `code`; the first reason wins. */
  endTest(code: ExitCodeValue, message: string): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = { code, message };
    const reason = new HerdError(code === ExitCode.scriptAborted ? 'test_aborted' : 'external_abort', message);
    this.stop.abort(reason);
    for (const vu of this.all) if (vu.runningUnder !== null) vu.abort(reason);
    this.host.onEnd?.(code, message);
  }

  /** Cancels timers and closes sockets and connections of every VU. */
  closeAll(): void {
    for (const vu of this.all) {
      clearVuTimers(vu.state);
      closeVuSockets(vu.state);
      closeHttpConnections(vu.state);
    }
  }

  /** setup() data as a fresh object of the script's realm. */
  parseSetupData(): unknown {
    return this.setupJSON === undefined ? undefined : this.compiled.parseJSON(this.setupJSON);
  }

  // ---- VUs --------------------------------------------------------------------------

  private async newPooledVU(): Promise<VU> {
    const index = this.all.length;
    this.vuIds?.next();
    const vu = await this.newVU(index, this.vuIds?.unscaled ?? index);
    this.test.initialized++;
    return vu;
  }

  /** Creates a VU and runs its init code; init errors end the run (exit 107). */
  private async newVU(idInInstance: number, idInTest: number): Promise<VU> {
    const vu = new VU(this.test, idInInstance, idInTest, this.globalEnv);
    const instances = new Map<string, Record<string, unknown>>();
    const modules = this.modules;
    const state = vu.state;
    const instance = (spec: string): Record<string, unknown> => {
      let inst = instances.get(spec);
      if (inst === undefined) {
        const mod = modules.get(spec);
        if (mod === undefined) throw new HerdError('script_import', `unknown module "${spec}"`);
        inst = mod.instantiate(state);
        instances.set(spec, inst);
      }
      return inst;
    };
    try {
      vu.exports = await this.compiled.instantiate({ require: instance, globals: new VuGlobals(vu, this.globalsHost) });
    } catch (e) {
      this.stop.abort();
      throw initError(e, (x) => this.compiled.mapStack(x));
    }
    state.phase = 'iteration';
    this.all.push(vu);
    return vu;
  }

  private readFile(file: string, resolved: string): Uint8Array {
    if (this.host.readFile !== undefined) {
      const packed = this.host.readFile(resolved);
      if (packed === undefined) {
        throw new HerdError('script_exception', `open("${file}"): ${resolved} is not in the run's archive`, {
          hint: 'files are packed when the init code reads them with open() on your machine; read every file at the top level of the script',
        });
      }
      return packed;
    }
    try {
      return readFileSync(resolved);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new HerdError('script_exception', `open("${file}"): ${code === 'ENOENT' ? 'no such file' : String(code)} at ${resolved}`, {
        hint: 'paths given to open() are relative to the script that calls it',
      });
    }
  }

  /** k6's open(): text or binary ('b'), relative to the calling script's folder, read once. */
  private open(file: string, mode: string | undefined, baseDir: string | undefined): string | ArrayBuffer {
    const resolved = path.resolve(baseDir ?? path.dirname(this.host.entry), file);
    const key = `${mode === 'b' ? 'b' : 't'}:${resolved}`;
    let value = this.fileCache.get(key);
    if (value === undefined) {
      const bytes = this.readFile(file, resolved);
      this.host.onFileRead?.(resolved, bytes);
      value = mode === 'b' ? new Uint8Array(bytes).buffer : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      this.fileCache.set(key, value);
    }
    // Each call gets its own ArrayBuffer of the script's realm (`instanceof ArrayBuffer` holds there).
    return typeof value === 'string' ? value : this.compiled.arrayBuffer(new Uint8Array(value));
  }


  // ---- lifecycle --------------------------------------------------------------------

  /** Runs setup() or teardown() inside its k6 group; false when it failed (the run ends). */
  async runLifecycle(vu: VU, fn: 'setup' | 'teardown', args: unknown[]): Promise<boolean> {
    const state = vu.state;
    const test = this.test;
    const logger = this.host.logger;
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
        logger.log('error', `${fn}() execution timed out after ${timeoutMs / 1000} seconds`, { hint: `increase the ${fn}Timeout option` });
        this.endTest(fn === 'setup' ? ExitCode.setupTimeout : ExitCode.teardownTimeout, `${fn}() execution timed out after ${timeoutMs / 1000}s`);
      } else if (isTestAbort(e)) {
        logger.log('error', e.message);
        this.endTest(ExitCode.scriptAborted, e.message);
      } else {
        const described = describeScriptError(e, (x) => this.compiled.mapStack(x));
        logger.log('error', described, { source: 'stacktrace' });
        this.endTest(ExitCode.scriptException, `${fn}() failed: ${described}`);
      }
      return false;
    } finally {
      test.sink.add(test.metrics.iteration_duration, state.tags, performance.now() - started);
      state.signal = new AbortController().signal;
      state.groupPath = '';
      state.tags = baseTags(test);
    }
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
    return this.newPooledVU();
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
    this.host.logger.log('warn', message);
  }

  /**
   * Runs one iteration of `scenario` on `vu`; resolves true when it completed, false when it
   * was interrupted. Not an async function: the VU's IterationRun holds the callbacks once, so
   * an iteration costs one promise instead of an async frame, a race promise and its closures
   * (all of which outlive a sleeping iteration and so end up in V8's old generation).
   */
  runIteration(vu: VU, scenario: ScenarioRun, hardStop: AbortSignal, iterationInScenario: number, lateByMs?: number, startedAt?: number): Promise<boolean> {
    const state = vu.state;
    if (lateByMs !== undefined) this.recordStartDelay(scenario, lateByMs);
    const inTest = iterationInScenario >= 0 ? iterationInScenario : scenario.nextIterationInTest++;
    vu.beginIteration(scenario.context, inTest);
    this.watchHardStop(hardStop);
    vu.runningUnder = hardStop;
    if (hardStop.aborted || this.stop.signal.aborted) vu.abort(hardStop.aborted ? hardStop.reason : this.stop.signal.reason);
    resetCookieJar(state);
    if (!vu.hasSetupData) {
      vu.setupData = this.parseSetupData();
      vu.hasSetupData = true;
    }
    const fn = vu.exports[scenario.config.exec] as (data: unknown) => unknown;
    const run = (vu.iterationRun ??= new IterationRun(this, vu));
    vu.iterationEndedAt = -1;
    return run.start(fn, scenario, startedAt ?? performance.now());
  }

  /**
   * The end of an iteration whose script function returned or settled: waits for the timers
   * and sockets it started (as k6 does), then records it. `error` is set when it threw,
   * rejected or was aborted.
   */
  finishIteration(vu: VU, scenario: ScenarioRun, signal: AbortLike, started: number, failed: boolean, error: unknown): boolean | Promise<boolean> {
    const state = vu.state;
    if (!failed && hasPendingAsync(state)) {
      // As in k6, an iteration ends once the timers and sockets it started are done.
      return raceSignal(whenVuAsyncIdle(state), signal).then(
        () => this.recordIteration(vu, scenario, signal, started, false, undefined),
        (e: unknown) => this.recordIteration(vu, scenario, signal, started, true, e),
      );
    }
    return this.recordIteration(vu, scenario, signal, started, failed, error);
  }

  private recordIteration(vu: VU, scenario: ScenarioRun, signal: AbortLike, started: number, failed: boolean, error: unknown): boolean | Promise<boolean> {
    const state = vu.state;
    const test = this.test;
    let interrupted = false;
    if (failed) {
      const e = error;
      if (isTestAbort(e)) {
        this.host.logger.log('error', e.message, { source: 'abort' });
        this.endTest(ExitCode.scriptAborted, e.message);
      } else if (isInterruption(e, signal)) {
        interrupted = true;
      } else {
        this.host.logger.log('error', describeScriptError(e, (x) => this.compiled.mapStack(x)), {
          executor: scenario.config.type,
          scenario: scenario.config.name,
          source: 'stacktrace',
        });
      }
    }
    vu.runningUnder = null;
    const tags = state.tags;
    state.groupPath = '';
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
      return new Promise<boolean>((resolve) => setImmediate(resolve, true));
    }
    vu.iterationEndedAt = ended;
    return true;
  }

  /** Hard-stop signals already watched (one listener per scenario stop, not one per VU or iteration). */
  private readonly hardStops = new WeakSet<AbortSignal>();

  /**
   * When `hardStop` fires, interrupts every VU whose iteration runs under it. Each VU notes the
   * signal it runs under (VU.runningUnder) instead of joining a shared Set per iteration: a Set
   * that gains and loses an entry on every iteration keeps reallocating its table.
   */
  private watchHardStop(hardStop: AbortSignal): void {
    if (this.hardStops.has(hardStop)) return;
    this.hardStops.add(hardStop);
    hardStop.addEventListener('abort', () => {
      for (const vu of this.all) if (vu.runningUnder === hardStop) vu.abort(hardStop.reason);
    }, { once: true });
  }

  private startDelay: Metric | undefined;

  /**
   * `iteration_start_delay` (herd's own metric): how late an arrival-rate iteration started
   * against its schedule. k6 and its peers report latency only from the moment a request is
   * sent, which hides a generator that falls behind (coordinated omission); this shows it.
   */
  private recordStartDelay(scenario: ScenarioRun, lateByMs: number): void {
    this.startDelay ??= this.test.registry.define('iteration_start_delay', 'trend', 'time');
    let tags = baseTags(this.test);
    if (this.test.options.systemTags.has('scenario')) tags = tags.with('scenario', scenario.config.name);
    this.test.sink.add(this.startDelay, tags, lateByMs);
  }

  /** Scenario progress for displays. */
  scenarioProgress(): Array<{ name: string; executor: string; progress: number; label: string }> {
    return this.scenarios.map((s) => ({
      name: s.config.name,
      executor: s.config.type,
      progress: s.progress,
      label: s.config.description(s.segment),
    }));
  }
}

/** `new Promise(captureResolve)` leaves its resolve here, so no executor closure is made per iteration. */
let capturedResolve: ((done: boolean | Promise<boolean>) => void) | null = null;

function captureResolve(resolve: (done: boolean | Promise<boolean>) => void): void {
  capturedResolve = resolve;
}

/**
 * One VU's iteration runner, made once per VU: the callbacks the script's promise and the
 * abort hook call are fields, not closures made per iteration. The first of completion and
 * abort wins; after an abort the VU gets a new runner, so a script promise that settles late
 * cannot end the VU's next iteration.
 */
export class IterationRun {
  private resolve: ((done: boolean | Promise<boolean>) => void) | null = null;
  private scenario: ScenarioRun | null = null;
  private signal: AbortLike | null = null;
  private started = 0;
  private readonly onValue = (): void => this.settle(false, undefined);
  private readonly onError = (e: unknown): void => this.settle(true, e);
  private readonly onAbort = (reason: unknown): void => {
    if (this.resolve === null) return;
    if (this.vu.iterationRun === this) this.vu.iterationRun = null;
    this.settle(true, reason);
  };

  constructor(
    private readonly engine: Engine,
    private readonly vu: VU,
  ) {}

  /** `started`: performance.now() time the iteration starts. */
  start(fn: (data: unknown) => unknown, scenario: ScenarioRun, started: number): Promise<boolean> {
    const vu = this.vu;
    const signal = vu.signal;
    let ret: unknown;
    try {
      ret = fn(vu.setupData);
    } catch (e) {
      return Promise.resolve(this.engine.finishIteration(vu, scenario, signal, started, true, e));
    }
    if (ret === null || typeof ret !== 'object' || typeof (ret as Promise<unknown>).then !== 'function') {
      return Promise.resolve(this.engine.finishIteration(vu, scenario, signal, started, false, undefined));
    }
    if (signal.aborted) return Promise.resolve(this.engine.finishIteration(vu, scenario, signal, started, true, signal.reason));
    const p = new Promise<boolean>(captureResolve);
    this.resolve = capturedResolve;
    capturedResolve = null;
    this.scenario = scenario;
    this.signal = signal;
    this.started = started;
    watchAbort(signal, this.onAbort);
    try {
      (ret as Promise<unknown>).then(this.onValue, this.onError);
    } catch (e) {
      // A thenable of the script's own whose `then` throws: the iteration failed with it.
      this.settle(true, e);
    }
    return p;
  }

  private settle(failed: boolean, error: unknown): void {
    const resolve = this.resolve;
    if (resolve === null) return;
    const signal = this.signal as AbortLike;
    const scenario = this.scenario as ScenarioRun;
    this.resolve = null;
    this.scenario = null;
    this.signal = null;
    unwatchAbort(signal, this.onAbort);
    let done: boolean | Promise<boolean>;
    try {
      done = this.engine.finishIteration(this.vu, scenario, signal, this.started, failed, error);
    } catch (e) {
      done = Promise.reject(e);
    }
    resolve(done);
  }
}

/** Every scenario's exec function must exist: a config error (exit 104) otherwise, as in k6. */
function checkExecFunctions(configs: readonly ExecutorConfig[], exports: Record<string, unknown>): void {
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

/** Whether the VU has timers armed or k6/websockets sockets open (checked without awaiting). */
function hasPendingAsync(state: VuState): boolean {
  return hasPendingTimers(state) || hasOpenSockets(state);
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

/**
 * Settles with `p`, or rejects with the signal's reason as soon as it aborts. Runs once per
 * iteration, so the abort hook is a Set entry (abort-watch.ts), and `reject` itself is the hook.
 */
function raceSignal<T>(p: Promise<T>, signal: AbortLike): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    watchAbort(signal, reject);
    p.then(
      (v) => {
        unwatchAbort(signal, reject);
        resolve(v);
      },
      (e: unknown) => {
        unwatchAbort(signal, reject);
        reject(e);
      },
    );
  });
}

/** k6's console: log lines with source=console. */
function scriptConsole(logger: Logger): Record<string, (...args: unknown[]) => void> {
  const fmt = (args: unknown[]): string => args.map((a) => (typeof a === 'string' ? a : safeJSON(a))).join(' ');
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => logger.log(level, fmt(args), { source: 'console' });
  return { log: at('info'), info: at('info'), debug: at('debug'), warn: at('warn'), error: at('error') };
}

function safeJSON(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
