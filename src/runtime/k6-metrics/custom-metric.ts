import { HerdError } from '../../errors/index.js';
import type { Metric, MetricType } from '../../metrics/metric.js';
import type { TagSet } from '../../metrics/tags.js';
import type { VuState } from '../vu-state.js';

// k6 cuts values longer than this in its invalid-value message, keeping both ends.
const MAX_VALUE_IN_MESSAGE = 100;

function limitValue(text: string): string {
  const chars = [...text];
  if (chars.length < MAX_VALUE_IN_MESSAGE) return text;
  const half = MAX_VALUE_IN_MESSAGE / 2;
  const omitted = chars.length - MAX_VALUE_IN_MESSAGE;
  return `${chars.slice(0, half).join('')}... omitting ${omitted} characters ...${chars.slice(chars.length - half).join('')}`;
}

function show(v: unknown): string {
  try {
    return String(v);
  } catch {
    // Symbols and objects with a throwing toString cannot be printed as k6 would.
    return Object.prototype.toString.call(v);
  }
}

/**
 * The value k6 records for `v`: ToNumber (true is 1, "5.3" is 5.3), except that a truthy
 * value converting to 0 (the string "0", an empty array) counts as 1, as k6 does.
 * NaN means "not a valid value": null, undefined, symbols, non-numeric strings, objects.
 */
function toSampleValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || typeof v === 'symbol') return NaN;
  let n: number;
  try {
    n = Number(v);
  } catch {
    return NaN;
  }
  return n === 0 && Boolean(v) ? 1 : n;
}

/**
 * A custom metric object as scripts see it (k6's Counter, Gauge, Rate and Trend instances):
 * a read-only `name` and `add(value, [tags])`. The VU it belongs to is fixed at construction,
 * which is always in that VU's init context.
 */
export class CustomMetric {
  declare readonly name: string;
  readonly #vu: VuState;
  readonly #metric: Metric;

  /** Defines (or reuses) the custom metric in the test's registry; init context only. */
  constructor(vu: VuState, type: MetricType, name: unknown, isTime: unknown) {
    if (vu.phase !== 'init') {
      throw new HerdError('init_context_only', 'metrics must be declared in the init context', {
        hint: 'create custom metrics at the top level of the script, outside of the exported functions',
      });
    }
    this.#vu = vu;
    this.#metric = vu.test.registry.define(String(name), type, isTime ? 'time' : 'default');
    // k6 makes `name` a read-only, enumerable own property.
    Object.defineProperty(this, 'name', { value: this.#metric.name, enumerable: true, writable: false, configurable: false });
  }

  /**
   * Adds a sample with the VU's current tags plus `tags` (their values as strings). Returns
   * true when added; an invalid value is logged as a warning and gives false, or throws when
   * the `throw` option is set, as in k6.
   */
  add(value?: unknown, tags?: unknown): boolean {
    const vu = this.#vu;
    if (vu.phase === 'init') {
      throw new HerdError('init_context_only', 'Adding to metrics in the init context is not supported', {
        hint: 'call add() inside the default function, setup() or teardown()',
      });
    }
    const metric = this.#metric;
    if (arguments.length === 0) {
      return this.#invalid(`no value was provided for metric '${metric.name}', a number or a boolean value is expected`);
    }
    let n = toSampleValue(value);
    if (Number.isNaN(n)) {
      return this.#invalid(`'${limitValue(show(value))}' is an invalid value for metric '${metric.name}', a number or a boolean value is expected`);
    }
    // The sink contract wants 1 or 0 for rates: any non-zero value is a pass, as in k6.
    if (metric.type === 'rate') n = n !== 0 ? 1 : 0;
    let sampleTags: TagSet = vu.tags;
    if (typeof tags === 'object' && tags !== null) {
      const extra = tags as Record<string, unknown>;
      for (const k of Object.keys(extra)) sampleTags = sampleTags.with(k, show(extra[k]));
    }
    vu.test.sink.add(metric, sampleTags, n);
    return true;
  }

  #invalid(message: string): boolean {
    const test = this.#vu.test;
    if (test.options.throw) throw new HerdError('script_exception', message);
    test.logger.log('warn', message);
    return false;
  }
}
