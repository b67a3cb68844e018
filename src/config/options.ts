import { z } from 'zod';

/**
 * k6's test-wide options as herd understands them, after parsing: durations are in
 * milliseconds, everything else has k6's name and meaning. Scenario configs are validated
 * by their executors (src/executor), so here they are plain objects.
 */

/** A k6 duration: "1m30s", "500ms", "2h", or a number of milliseconds. */
export const durationSchema = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `must be a duration like "30s", "1m30s" or "500ms", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a Go-style duration ("1h2m3.5s", "250ms", "0") into milliseconds; null when malformed. A bare number is seconds, as in k6. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === '') return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  return pos === s.length ? total : null;
}

/** Formats milliseconds as k6 prints durations ("1m30s", "500ms", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${Math.round(ms * 1000) / 1000}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  const sec = Math.round(rest * 1000) / 1000;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${sec}s`;
}

const stageSchema = z.object({ duration: durationSchema, target: z.number().int().nonnegative() }).strict();

/** One threshold as written: a string, or an object with abortOnFail/delayAbortEval. */
export const thresholdDefSchema = z.union([
  z.string(),
  z
    .object({
      threshold: z.string(),
      abortOnFail: z.boolean().optional(),
      delayAbortEval: durationSchema.optional(),
    })
    .strict(),
]);

const tagsSchema = z.record(z.string(), z.string());

/** The options schema. Unknown keys are kept (k6 ignores them) and reported as warnings by the loader. */
export const optionsSchema = z
  .object({
    vus: z.number().int().nonnegative().optional(),
    duration: durationSchema.optional(),
    iterations: z.number().int().nonnegative().optional(),
    stages: z.array(stageSchema).optional(),
    scenarios: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    thresholds: z.record(z.string(), z.array(thresholdDefSchema)).optional(),
    tags: tagsSchema.optional(),
    systemTags: z.array(z.string()).optional(),
    summaryTrendStats: z.array(z.string()).optional(),
    summaryTimeUnit: z.enum(['s', 'ms', 'us']).optional(),
    discardResponseBodies: z.boolean().optional(),
    noConnectionReuse: z.boolean().optional(),
    noVUConnectionReuse: z.boolean().optional(),
    userAgent: z.string().optional(),
    insecureSkipTLSVerify: z.boolean().optional(),
    hosts: z.record(z.string(), z.string()).optional(),
    blockHostnames: z.array(z.string()).optional(),
    maxRedirects: z.number().int().nonnegative().optional(),
    batch: z.number().int().positive().optional(),
    batchPerHost: z.number().int().nonnegative().optional(),
    setupTimeout: durationSchema.optional(),
    teardownTimeout: durationSchema.optional(),
    noCookiesReset: z.boolean().optional(),
    noSetup: z.boolean().optional(),
    noTeardown: z.boolean().optional(),
    throw: z.boolean().optional(),
    minIterationDuration: durationSchema.optional(),
    tlsVersion: z.unknown().optional(),
    tlsAuth: z.unknown().optional(),
    tlsCipherSuites: z.unknown().optional(),
    executionSegment: z.string().optional(),
    executionSegmentSequence: z.string().optional(),
    ext: z.record(z.string(), z.unknown()).optional(),
    cloud: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

/** Options after parsing (durations in ms). */
export type Options = z.infer<typeof optionsSchema>;

/** Options with every default that the runtime needs applied. */
export interface RuntimeOptions {
  readonly discardResponseBodies: boolean;
  readonly noConnectionReuse: boolean;
  readonly noVUConnectionReuse: boolean;
  readonly userAgent: string;
  readonly insecureSkipTLSVerify: boolean;
  readonly hosts: Readonly<Record<string, string>>;
  readonly blockHostnames: readonly string[];
  readonly maxRedirects: number;
  readonly batch: number;
  readonly batchPerHost: number;
  readonly noCookiesReset: boolean;
  readonly throw: boolean;
  readonly systemTags: ReadonlySet<string>;
  readonly tags: Readonly<Record<string, string>>;
}

/** k6's default system tags. */
export const DEFAULT_SYSTEM_TAGS: readonly string[] = [
  'proto', 'subproto', 'status', 'method', 'url', 'name', 'group', 'check', 'error', 'error_code',
  'tls_version', 'scenario', 'service', 'expected_response',
];

/** The version herd reports in its User-Agent. */
export const HERD_VERSION = '0.1.0';

/** Applies k6's defaults to the runtime-relevant options. */
export function runtimeOptions(o: Options): RuntimeOptions {
  return {
    discardResponseBodies: o.discardResponseBodies ?? false,
    noConnectionReuse: o.noConnectionReuse ?? false,
    noVUConnectionReuse: o.noVUConnectionReuse ?? false,
    userAgent: o.userAgent ?? `herd/${HERD_VERSION} (https://github.com/herd; k6 compatible)`,
    insecureSkipTLSVerify: o.insecureSkipTLSVerify ?? false,
    hosts: o.hosts ?? {},
    blockHostnames: o.blockHostnames ?? [],
    maxRedirects: o.maxRedirects ?? 10,
    batch: o.batch ?? 20,
    batchPerHost: o.batchPerHost ?? 6,
    noCookiesReset: o.noCookiesReset ?? false,
    throw: o.throw ?? false,
    systemTags: new Set(o.systemTags ?? DEFAULT_SYSTEM_TAGS),
    tags: o.tags ?? {},
  };
}
