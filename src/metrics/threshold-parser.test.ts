import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareThreshold, parseThresholdExpression, type ThresholdExpression } from './threshold-parser.js';

function ok(src: string): ThresholdExpression {
  const r = parseThresholdExpression(src);
  assert.ok(r.ok, `expected ${src} to parse: ${r.ok ? '' : r.reason}`);
  return r.expression;
}

function reason(src: string): string {
  const r = parseThresholdExpression(src);
  assert.ok(!r.ok, `expected ${src} to be rejected`);
  return r.reason;
}

test('every aggregation method and operator parses, with or without spaces', () => {
  const cases: Array<[string, Partial<ThresholdExpression>]> = [
    ['count<3', { method: 'count', operator: '<', value: 3 }],
    ['rate <= 0.01', { method: 'rate', operator: '<=', value: 0.01 }],
    ['value>0', { method: 'value', operator: '>', value: 0 }],
    ['avg >= 200', { method: 'avg', operator: '>=', value: 200 }],
    ['min==6', { method: 'min', operator: '==', value: 6 }],
    ['max === 5000', { method: 'max', operator: '===', value: 5000 }],
    ['med!=1.5', { method: 'med', operator: '!=', value: 1.5 }],
    ['p(95)<500', { method: 'p', percentile: 95, operator: '<', value: 500 }],
    ['  p(99.9) <  2000  ', { method: 'p', percentile: 99.9, operator: '<', value: 2000 }],
    ['p( 90 )<1e3', { method: 'p', percentile: 90, operator: '<', value: 1000 }],
    ['p(0)>-5', { method: 'p', percentile: 0, operator: '>', value: -5 }],
    ['p(100)<.5', { method: 'p', percentile: 100, operator: '<', value: 0.5 }],
  ];
  for (const [src, want] of cases) {
    const e = ok(src);
    assert.equal(e.source, src);
    for (const [k, v] of Object.entries(want)) assert.equal(e[k as keyof ThresholdExpression], v, `${src}: ${k}`);
    if (want.method !== 'p') assert.equal(e.percentile, undefined);
  }
});

test('invalid expressions are rejected with the reason', () => {
  assert.equal(reason('p(95)'), 'malformed threshold expression, no operator (<, <=, >, >=, ==, ===, !=) found');
  assert.equal(reason('count=4'), 'malformed threshold expression, no operator (<, <=, >, >=, ==, ===, !=) found');
  assert.equal(reason(''), 'malformed threshold expression, no operator (<, <=, >, >=, ==, ===, !=) found');
  assert.equal(reason('average<3'), 'unknown aggregation method "average" on the left hand side, expected count, rate, value, avg, min, max, med or p(N)');
  assert.equal(reason('<3'), 'unknown aggregation method nothing on the left hand side, expected count, rate, value, avg, min, max, med or p(N)');
  assert.equal(reason('P(95)<3'), 'unknown aggregation method "P(95)" on the left hand side, expected count, rate, value, avg, min, max, med or p(N)');
  assert.equal(reason('p(abc)<3'), 'malformed percentile "p(abc)", N in p(N) must be a number');
  assert.equal(reason('p()<3'), 'malformed percentile "p()", N in p(N) must be a number');
  assert.equal(reason('p(101)<3'), 'malformed percentile "p(101)", N in p(N) must be between 0 and 100');
  assert.equal(reason('p(95)<abc'), 'malformed right hand side "abc", it must be a number');
  assert.equal(reason('count<'), 'malformed right hand side nothing, it must be a number');
  assert.equal(reason('count<>3'), 'malformed right hand side ">3", it must be a number');
  assert.equal(reason('count < 3 ms'), 'malformed right hand side "3 ms", it must be a number');
});

test('the scan tries <= before <, >= before > and === before ==, as k6 does', () => {
  assert.equal(ok('count<=3').operator, '<=');
  assert.equal(ok('count>=3').operator, '>=');
  assert.equal(ok('count===3').operator, '===');
  assert.equal(ok('count==3').operator, '==');
});

test('every operator compares as written, and === equals ==', () => {
  const table: Array<[number, '<' | '<=' | '>' | '>=' | '==' | '===' | '!=', number, boolean]> = [
    [1, '<', 2, true], [2, '<', 2, false],
    [2, '<=', 2, true], [3, '<=', 2, false],
    [3, '>', 2, true], [2, '>', 2, false],
    [2, '>=', 2, true], [1, '>=', 2, false],
    [2, '==', 2, true], [2, '==', 3, false],
    [2, '===', 2, true], [2, '===', 3, false],
    [2, '!=', 3, true], [2, '!=', 2, false],
    [NaN, '<', 1, false], [NaN, '!=', 1, true],
  ];
  for (const [a, op, b, want] of table) assert.equal(compareThreshold(a, op, b), want, `${a}${op}${b}`);
});
