import { HerdError } from '../errors/index.js';
import { formatDuration } from '../config/options.js';

/**
 * k6's shortcut options (vus, duration, iterations, stages) turned into the one scenario they
 * stand for (k6's DeriveScenariosFromShortcuts). The result goes through parseScenarios like
 * any user scenario, so its problems are reported as `scenarios.default.<key>`.
 *
 * | given                         | scenario "default"                                        |
 * | ----------------------------- | --------------------------------------------------------- |
 * | iterations (+vus, +duration)  | shared-iterations; duration becomes maxDuration            |
 * | duration (+vus)               | constant-vus                                               |
 * | stages (+vus)                 | ramping-vus with startVUs = vus                            |
 * | vus alone                     | shared-iterations with iterations = vus                    |
 * | scenarios                     | the scenarios as given                                     |
 * | nothing                       | per-vu-iterations, 1 VU, 1 iteration                       |
 *
 * iterations, duration or (non-empty) stages together with scenarios, or iterations/duration
 * together with stages, are errors; vus together with scenarios is ignored, as in k6.
 */

/** The name k6 gives the scenario derived from shortcuts. */
export const DEFAULT_SCENARIO_NAME = 'default';

/** The options that shortcuts are derived from (durations already in ms). */
export interface ShortcutOptions {
  readonly vus?: number | undefined;
  readonly duration?: number | undefined;
  readonly iterations?: number | undefined;
  readonly stages?: readonly { readonly duration: number; readonly target: number }[] | undefined;
  readonly scenarios?: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
}

function conflict(message: string): HerdError {
  return new HerdError('invalid_option', message, {
    hint: 'use either the shortcut options (vus, duration, iterations, stages) or scenarios',
  });
}

/**
 * Returns the scenarios to run: `scenarios` as given, or the one shortcut scenario. Throws
 * HerdError('invalid_option') with k6's message for conflicting options; `warn` receives k6's
 * warnings about explicitly empty stages or scenarios.
 */
export function deriveScenarios(
  o: ShortcutOptions,
  warn: (message: string) => void = () => {},
): Record<string, Record<string, unknown>> {
  const hasStages = o.stages !== undefined && o.stages.length > 0;
  const only = (scenario: Record<string, unknown>): Record<string, Record<string, unknown>> => ({ [DEFAULT_SCENARIO_NAME]: scenario });
  // Keys the user did not give stay absent, so the executor's defaults apply.
  const vus = o.vus === undefined ? {} : { vus: o.vus };

  if (o.iterations !== undefined) {
    if (hasStages) throw conflict('using `iterations` and `stages` options simultaneously is not allowed');
    if (o.scenarios !== undefined) throw conflict('using `iterations` and `scenarios` options simultaneously is not allowed');
    return only({
      executor: 'shared-iterations',
      ...vus,
      iterations: o.iterations,
      ...(o.duration === undefined ? {} : { maxDuration: formatDuration(o.duration) }),
    });
  }
  if (o.duration !== undefined) {
    if (hasStages) throw conflict('using `duration` and `stages` options simultaneously is not allowed');
    if (o.scenarios !== undefined) throw conflict('using `duration` and `scenarios` options simultaneously is not allowed');
    if (o.duration <= 0) {
      throw conflict('`duration` option should be more than 0, for infinite duration use the externally-controlled executor');
    }
    return only({ executor: 'constant-vus', ...vus, duration: formatDuration(o.duration) });
  }
  if (hasStages) {
    if (o.scenarios !== undefined) throw conflict('using `stages` and `scenarios` options simultaneously is not allowed');
    return only({
      executor: 'ramping-vus',
      ...(o.vus === undefined ? {} : { startVUs: o.vus }),
      stages: (o.stages ?? []).map((s) => ({ duration: formatDuration(s.duration), target: s.target })),
    });
  }
  if (o.vus !== undefined && o.scenarios === undefined) {
    return only({ executor: 'shared-iterations', vus: o.vus, iterations: o.vus });
  }
  if (o.scenarios !== undefined && Object.keys(o.scenarios).length > 0) {
    return Object.fromEntries(Object.entries(o.scenarios).map(([name, s]) => [name, { ...s }]));
  }
  if (o.stages !== undefined) warn('`stages` was explicitly set to an empty value, running the script with 1 iteration in 1 VU');
  if (o.scenarios !== undefined) warn('`scenarios` was explicitly set to an empty value, running the script with 1 iteration in 1 VU');
  return only({ executor: 'per-vu-iterations' });
}
