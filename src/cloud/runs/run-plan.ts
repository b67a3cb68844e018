import { parseLayer, type Options } from '../../config/index.js';
import { HerdError } from '../../errors/index.js';
import { maxConcurrentVUs } from '../../execution/index.js';
import { deriveScenarios, fullSegment, parseScenarios, type ExecutionSegment, type ExecutorConfig } from '../../executor/index.js';
import { Thresholds } from '../../metrics/index.js';
import { distributionSchema, type Distribution } from '../../protocol/distribution.js';

/** What a run will do, computed from its options alone, before any generator sees it. */
export interface RunPlan {
  /** The options, parsed (durations in ms). */
  readonly options: Options;
  /** The scenarios' executor configs. */
  readonly configs: readonly ExecutorConfig[];
  /** Most VUs the whole run needs at once (k6's MaxPlannedVUs). */
  readonly maxVUs: number;
  /** Longest the scenarios may run, graceful stops and start times included. */
  readonly durationMs: number;
  /** `durationMs` in whole seconds, rounded up (what the limits and usage see). */
  readonly durationSeconds: number;
  /** The run's thresholds, parsed. */
  readonly thresholds: Thresholds;
  /** Where the run goes: options.cloud.distribution, else all of it in the default zone. */
  readonly distribution: Distribution;
}

/**
 * Plans a run from its raw k6 options (as the archive holds them), with the same code
 * `herd run` uses: shortcuts become scenarios, each executor plans the full segment. Throws
 * HerdError (invalid_option, invalid_threshold) listing every problem of the options.
 */
export function planRun(rawOptions: Record<string, unknown>, defaultZone: string): RunPlan {
  const options = parseLayer({ source: 'script options', values: rawOptions });
  const configs = parseScenarios(deriveScenarios(options));
  const durationMs = configs.reduce((max, c) => Math.max(max, c.startTime + c.plan(fullSegment).maxDurationMs), 0);
  const thresholds = Thresholds.parse(options.thresholds ?? {});
  return {
    options,
    configs,
    maxVUs: vusForSegment(configs, fullSegment),
    durationMs,
    durationSeconds: Math.ceil(durationMs / 1000),
    thresholds,
    distribution: distributionOf(options, defaultZone),
  };
}

/** The most VUs one segment of the run needs at once. */
export function vusForSegment(configs: readonly ExecutorConfig[], segment: ExecutionSegment): number {
  return maxConcurrentVUs(configs.map((c) => ({ startTime: c.startTime, steps: c.plan(segment).steps })));
}

function distributionOf(options: Options, defaultZone: string): Distribution {
  // k6 reads options.cloud, and options.ext.loadimpact from scripts written for older k6.
  const cloud = options.cloud?.['distribution'];
  const legacy = (options.ext?.['loadimpact'] as Record<string, unknown> | undefined)?.['distribution'];
  const raw = cloud ?? legacy;
  if (raw === undefined) return { [defaultZone]: { loadZone: defaultZone, percent: 100 } };
  const where = cloud !== undefined ? 'options.cloud.distribution' : 'options.ext.loadimpact.distribution';
  const r = distributionSchema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${[where, ...i.path.map(String)].join('.')} ${i.message}`);
    throw new HerdError('invalid_option', problems.join('\n'), {
      hint: 'write it as { label: { loadZone: "local", percent: 100 } }, with percents adding up to 100',
    });
  }
  return r.data;
}
