/**
 * Test doubles for k6/http tests: a TestContext and VuState with a real metric registry and
 * a sink that records every sample, so tests can assert metrics and tags exactly.
 */
import { runtimeOptions, type Options, type RuntimeOptions } from '../../config/options.js';
import { GroupTree } from '../../metrics/group-tree.js';
import { MetricRegistry, defineBuiltinMetrics, type Metric } from '../../metrics/metric.js';
import type { SampleSink } from '../../metrics/sink.js';
import { TagSet } from '../../metrics/tags.js';
import type { LogLevel, Logger, TestContext, VuState } from '../vu-state.js';
import { createHttpModule } from './index.js';

/** One recorded sample. */
export interface RecordedSample {
  readonly metric: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly value: number;
  /** Epoch ms the sample was stamped with (undefined: none given). */
  readonly time: number | undefined;
}

/** A sink that keeps every sample. */
export class RecordingSink implements SampleSink {
  readonly samples: RecordedSample[] = [];

  add(metric: Metric, tags: TagSet, value: number, time?: number): void {
    this.samples.push({ metric: metric.name, tags: tags.toObject(), value, time });
  }

  /** Samples of one metric. */
  of(metric: string): RecordedSample[] {
    return this.samples.filter((s) => s.metric === metric);
  }

  /** Sum of one metric's values. */
  sum(metric: string): number {
    return this.of(metric).reduce((a, s) => a + s.value, 0);
  }

  /** Forgets everything recorded so far. */
  clear(): void {
    this.samples.length = 0;
  }
}

/** A logger that keeps every line. */
export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: LogLevel; message: string; fields?: Readonly<Record<string, string>> }> = [];

  log(level: LogLevel, message: string, fields?: Readonly<Record<string, string>>): void {
    this.lines.push(fields === undefined ? { level, message } : { level, message, fields });
  }
}

/** A test context with `options` applied over k6's defaults. */
export function fakeTest(options: Options = {}): TestContext & { sink: RecordingSink; logger: RecordingLogger } {
  const registry = new MetricRegistry();
  const ro: RuntimeOptions = runtimeOptions(options);
  return {
    options: ro,
    registry,
    metrics: defineBuiltinMetrics(registry),
    sink: new RecordingSink(),
    groups: new GroupTree(),
    logger: new RecordingLogger(),
    startTime: () => Date.now(),
    abortTest(reason: string): never {
      throw new Error(`test aborted: ${reason}`);
    },
    exportedOptions: Object.freeze(JSON.parse(JSON.stringify(options)) as Record<string, unknown>),
    scriptArrayBuffer: (bytes: Uint8Array) => new Uint8Array(bytes).buffer,
    ScriptPromise: Promise,
    scriptCopy: (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown,
    shared: new Map(),
    vusInitialized: () => 1,
    vusActive: () => 1,
    iterationsCompleted: () => 0,
    iterationsInterrupted: () => 0,
  };
}

/** A VU of `test`, in its first iteration, tagged with scenario "default". */
export function fakeVu(test: TestContext, id = 1): VuState {
  return {
    test,
    idInInstance: id,
    idInTest: id,
    iteration: 0,
    phase: 'iteration',
    scenario: null,
    groupPath: '',
    tags: TagSet.EMPTY.with('scenario', 'default').with('group', ''),
    metadata: {},
    signal: new AbortController().signal,
    local: new Map(),
  };
}

/** The k6/http functions the tests call, typed loosely as scripts see them. */
export interface HttpApi {
  get(url: unknown, params?: unknown): Promise<Res>;
  head(url: unknown, params?: unknown): Promise<Res>;
  post(url: unknown, body?: unknown, params?: unknown): Promise<Res>;
  put(url: unknown, body?: unknown, params?: unknown): Promise<Res>;
  del(url: unknown, body?: unknown, params?: unknown): Promise<Res>;
  request(method: string, url: unknown, body?: unknown, params?: unknown): Promise<Res>;
  batch(reqs: unknown): Promise<unknown>;
  cookieJar(): Jar;
  url(strings: TemplateStringsArray, ...values: unknown[]): unknown;
  expectedStatuses(...args: unknown[]): unknown;
  setResponseCallback(cb: unknown): void;
  file(data: unknown, filename?: string, contentType?: string): unknown;
  CookieJar: new () => Jar;
}

/** The Response fields tests read. */
export interface Res {
  status: number;
  status_text: string;
  proto: string;
  url: string;
  body: string | ArrayBuffer | null;
  headers: Record<string, string>;
  cookies: Record<string, Array<Record<string, unknown>>>;
  timings: Record<'blocked' | 'connecting' | 'tls_handshaking' | 'sending' | 'waiting' | 'receiving' | 'duration', number>;
  error: string;
  error_code: number;
  remote_ip: string;
  remote_port: number;
  tls_version: string;
  tls_cipher_suite: string;
  request: { method: string; url: string; headers: Record<string, string[]>; body: string; cookies: Record<string, unknown[]> };
  json(selector?: string): unknown;
}

/** The cookie jar API tests use. */
export interface Jar {
  cookiesForURL(url: string): Record<string, string[]>;
  set(url: string, name: string, value: string, opts?: Record<string, unknown>): void;
  clear(url: string): void;
  delete(url: string, name: string): void;
}

/** Makes a test, a VU and its k6/http instance in one go. */
export function setup(options: Options = {}): { test: ReturnType<typeof fakeTest>; vu: VuState; http: HttpApi } {
  const test = fakeTest(options);
  const vu = fakeVu(test);
  const http = createHttpModule().instantiate(vu).default as unknown as HttpApi;
  return { test, vu, http };
}
