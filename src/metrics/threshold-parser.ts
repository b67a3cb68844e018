/**
 * The threshold expression grammar, k6's, as BNF:
 *
 * ```
 * assertion     -> ws* aggregation ws* operator ws* number ws*
 * aggregation   -> "count" | "rate" | "value" | "avg" | "min" | "max" | "med" | percentile
 * percentile    -> "p(" ws* number ws* ")"          ; 0 <= number <= 100
 * operator      -> "<=" | "<" | ">=" | ">" | "===" | "==" | "!="
 * number        -> sign? (digit+ ("." digit*)? | "." digit+) (("e" | "E") sign? digit+)?
 * sign          -> "+" | "-"
 * digit         -> "0" | "1" | ... | "9"
 * ws            -> " " | "\t"
 * ```
 *
 * How it is scanned, as k6 does: the operators are tried in the order listed above and the
 * expression is cut at the first occurrence of the first operator that occurs at all (so
 * `<=` is found before `<`, and `===` before `==`); the left side must then be an
 * aggregation and the right side a number. Which aggregations a metric accepts depends on
 * its type (AGGREGATIONS_BY_TYPE) and is checked later, once the metric is known.
 * `===` means the same as `==`: every value is a number.
 */
import type { MetricType } from './metric.js';

/** An aggregation method a threshold can test (`p` is a percentile, with its N apart). */
export type AggregationMethod = 'count' | 'rate' | 'value' | 'avg' | 'min' | 'max' | 'med' | 'p';

/** A threshold comparison operator. */
export type ThresholdOperator = '<=' | '<' | '>=' | '>' | '===' | '==' | '!=';

/** A parsed threshold expression. */
export interface ThresholdExpression {
  /** The expression exactly as written. */
  readonly source: string;
  /** The aggregation on the left. */
  readonly method: AggregationMethod;
  /** N of `p(N)`, in [0, 100]; undefined for other methods. */
  readonly percentile: number | undefined;
  /** The comparison. */
  readonly operator: ThresholdOperator;
  /** The number on the right. */
  readonly value: number;
}

/** The result of parsing: the expression, or why it is invalid. */
export type ThresholdParseResult =
  | { readonly ok: true; readonly expression: ThresholdExpression }
  | { readonly ok: false; readonly reason: string };

/** Which aggregation methods each metric type supports, in k6's order. */
export const AGGREGATIONS_BY_TYPE: Readonly<Record<MetricType, readonly AggregationMethod[]>> = {
  counter: ['count', 'rate'],
  gauge: ['value'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p'],
};

// Longer operators sharing a prefix with shorter ones must come first (see the doc comment).
const OPERATORS: readonly ThresholdOperator[] = ['<=', '<', '>=', '>', '===', '==', '!='];
const METHODS: readonly AggregationMethod[] = ['count', 'rate', 'value', 'avg', 'min', 'max', 'med'];
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parses one threshold expression such as `p(95) < 500`. */
export function parseThresholdExpression(source: string): ThresholdParseResult {
  let operator: ThresholdOperator | undefined;
  let at = -1;
  for (const op of OPERATORS) {
    at = source.indexOf(op);
    if (at !== -1) {
      operator = op;
      break;
    }
  }
  if (operator === undefined) {
    return { ok: false, reason: 'malformed threshold expression, no operator (<, <=, >, >=, ==, ===, !=) found' };
  }
  const lhs = source.slice(0, at).trim();
  const rhs = source.slice(at + operator.length).trim();

  let method: AggregationMethod | undefined = METHODS.find((m) => m === lhs);
  let percentile: number | undefined;
  if (method === undefined) {
    if (!(lhs.startsWith('p(') && lhs.endsWith(')'))) {
      const shown = lhs === '' ? 'nothing' : `"${lhs}"`;
      return {
        ok: false,
        reason: `unknown aggregation method ${shown} on the left hand side, expected count, rate, value, avg, min, max, med or p(N)`,
      };
    }
    const inner = lhs.slice(2, -1).trim();
    if (!NUMBER_RE.test(inner)) {
      return { ok: false, reason: `malformed percentile "${lhs}", N in p(N) must be a number` };
    }
    percentile = Number(inner);
    if (percentile < 0 || percentile > 100) {
      return { ok: false, reason: `malformed percentile "${lhs}", N in p(N) must be between 0 and 100` };
    }
    method = 'p';
  }
  if (!NUMBER_RE.test(rhs)) {
    const shown = rhs === '' ? 'nothing' : `"${rhs}"`;
    return { ok: false, reason: `malformed right hand side ${shown}, it must be a number` };
  }
  return { ok: true, expression: { source, method, percentile, operator, value: Number(rhs) } };
}

/** Applies `op` to `observed` and `limit` (NaN compares false except with !=, as in Go). */
export function compareThreshold(observed: number, op: ThresholdOperator, limit: number): boolean {
  switch (op) {
    case '<':
      return observed < limit;
    case '<=':
      return observed <= limit;
    case '>':
      return observed > limit;
    case '>=':
      return observed >= limit;
    case '==':
    case '===':
      return observed === limit;
    case '!=':
      return observed !== limit;
  }
}
