import { HerdError } from '../errors/index.js';

/** k6's four metric types. */
export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';

/** What a metric's values are: plain numbers, milliseconds or bytes (k6's "contains"). */
export type ValueType = 'default' | 'time' | 'data';

/** A named metric. Samples refer to it by object; `id` indexes per-metric slots. */
export class Metric {
  constructor(
    readonly id: number,
    readonly name: string,
    readonly type: MetricType,
    readonly contains: ValueType,
  ) {}
}

const NAME_RE = /^[\p{L}\p{N}\._ !\?\/&#\(\)<>%-]{1,128}$/u;

/**
 * All metrics of a test, built-in and custom. Defining a metric again with the same type
 * returns the existing one (k6 allows that); with another type it is an error.
 */
export class MetricRegistry {
  private readonly byName = new Map<string, Metric>();
  private readonly list: Metric[] = [];

  /** Defines (or returns the existing) metric `name`. */
  define(name: string, type: MetricType, contains: ValueType = 'default'): Metric {
    const existing = this.byName.get(name);
    if (existing !== undefined) {
      if (existing.type !== type || existing.contains !== contains) {
        throw new HerdError(
          'script_exception',
          `metric "${name}" is already defined as a ${existing.type} (${existing.contains}), it cannot be redefined as a ${type} (${contains})`,
          { hint: 'use another name for the new metric' },
        );
      }
      return existing;
    }
    if (!NAME_RE.test(name)) {
      throw new HerdError(
        'script_exception',
        `invalid metric name "${name}": it must be 1 to 128 letters, digits, spaces or ._!?/&#()<>%-`,
      );
    }
    const m = new Metric(this.list.length, name, type, contains);
    this.byName.set(name, m);
    this.list.push(m);
    return m;
  }

  /** The metric named `name`, if defined. */
  get(name: string): Metric | undefined {
    return this.byName.get(name);
  }

  /** Every metric, in definition order. */
  all(): readonly Metric[] {
    return this.list;
  }
}

/** Handles to k6's built-in metrics, defined once per registry. */
export interface BuiltinMetrics {
  readonly vus: Metric;
  readonly vus_max: Metric;
  readonly iterations: Metric;
  readonly iteration_duration: Metric;
  readonly dropped_iterations: Metric;
  readonly data_sent: Metric;
  readonly data_received: Metric;
  readonly checks: Metric;
  readonly group_duration: Metric;
  readonly http_reqs: Metric;
  readonly http_req_failed: Metric;
  readonly http_req_duration: Metric;
  readonly http_req_blocked: Metric;
  readonly http_req_connecting: Metric;
  readonly http_req_tls_handshaking: Metric;
  readonly http_req_sending: Metric;
  readonly http_req_waiting: Metric;
  readonly http_req_receiving: Metric;
  readonly ws_connecting: Metric;
  readonly ws_session_duration: Metric;
  readonly ws_sessions: Metric;
  readonly ws_msgs_sent: Metric;
  readonly ws_msgs_received: Metric;
  readonly ws_ping: Metric;
}

/** Defines k6's built-in metrics in `registry` with k6's types and value kinds. */
export function defineBuiltinMetrics(registry: MetricRegistry): BuiltinMetrics {
  const d = registry.define.bind(registry);
  return {
    vus: d('vus', 'gauge'),
    vus_max: d('vus_max', 'gauge'),
    iterations: d('iterations', 'counter'),
    iteration_duration: d('iteration_duration', 'trend', 'time'),
    dropped_iterations: d('dropped_iterations', 'counter'),
    data_sent: d('data_sent', 'counter', 'data'),
    data_received: d('data_received', 'counter', 'data'),
    checks: d('checks', 'rate'),
    group_duration: d('group_duration', 'trend', 'time'),
    http_reqs: d('http_reqs', 'counter'),
    http_req_failed: d('http_req_failed', 'rate'),
    http_req_duration: d('http_req_duration', 'trend', 'time'),
    http_req_blocked: d('http_req_blocked', 'trend', 'time'),
    http_req_connecting: d('http_req_connecting', 'trend', 'time'),
    http_req_tls_handshaking: d('http_req_tls_handshaking', 'trend', 'time'),
    http_req_sending: d('http_req_sending', 'trend', 'time'),
    http_req_waiting: d('http_req_waiting', 'trend', 'time'),
    http_req_receiving: d('http_req_receiving', 'trend', 'time'),
    ws_connecting: d('ws_connecting', 'trend', 'time'),
    ws_session_duration: d('ws_session_duration', 'trend', 'time'),
    ws_sessions: d('ws_sessions', 'counter'),
    ws_msgs_sent: d('ws_msgs_sent', 'counter'),
    ws_msgs_received: d('ws_msgs_received', 'counter'),
    ws_ping: d('ws_ping', 'trend', 'time'),
  };
}
