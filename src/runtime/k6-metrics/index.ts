import type { MetricType } from '../../metrics/metric.js';
import { moduleObject, type RuntimeModule, type VuState } from '../vu-state.js';
import { CustomMetric } from './custom-metric.js';

export { CustomMetric } from './custom-metric.js';

/** A custom metric constructor a script sees: `new Counter(name, [isTime])`. */
export type CustomMetricConstructor = new (name: string, isTime?: boolean) => CustomMetric;

/** What `import { Counter, Gauge, Rate, Trend } from 'k6/metrics'` gives a script. */
export interface MetricsApi {
  readonly Counter: CustomMetricConstructor;
  readonly Gauge: CustomMetricConstructor;
  readonly Rate: CustomMetricConstructor;
  readonly Trend: CustomMetricConstructor;
}

/** The four constructors of one VU; subclasses so that instances print as Counter, Trend... */
function metricClasses(vu: VuState): MetricsApi {
  const make = (type: MetricType) =>
    class extends CustomMetric {
      constructor(name: unknown, isTime?: unknown) {
        super(vu, type, name, isTime);
      }
    };
  const Counter = make('counter');
  const Gauge = make('gauge');
  const Rate = make('rate');
  const Trend = make('trend');
  for (const [cls, name] of [[Counter, 'Counter'], [Gauge, 'Gauge'], [Rate, 'Rate'], [Trend, 'Trend']] as const) {
    Object.defineProperty(cls, 'name', { value: name });
  }
  return { Counter, Gauge, Rate, Trend };
}

/** Creates the `k6/metrics` module: custom metrics land in the test's registry and sink. */
export function createMetricsModule(): RuntimeModule {
  return {
    specifier: 'k6/metrics',
    instantiate(vu: VuState): Record<string, unknown> {
      const api = metricClasses(vu);
      return moduleObject(api);
    },
  };
}
