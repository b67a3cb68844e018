import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HerdError } from '../errors/index.js';
import { parseScenarios } from './registry.js';
import { fullSegment } from './segment.js';
import { deriveScenarios } from './shortcuts.js';

describe('deriving the default scenario from shortcut options', () => {
  it('iterations make a shared-iterations scenario, with duration as its maxDuration', () => {
    assert.deepEqual(deriveScenarios({ iterations: 10 }), { default: { executor: 'shared-iterations', iterations: 10 } });
    assert.deepEqual(deriveScenarios({ iterations: 10, vus: 2, duration: 5000 }), {
      default: { executor: 'shared-iterations', vus: 2, iterations: 10, maxDuration: '5s' },
    });
  });

  it('duration makes a constant-vus scenario', () => {
    assert.deepEqual(deriveScenarios({ duration: 30_000, vus: 10 }), { default: { executor: 'constant-vus', vus: 10, duration: '30s' } });
    assert.deepEqual(deriveScenarios({ duration: 30_000 }), { default: { executor: 'constant-vus', duration: '30s' } });
  });

  it('stages make a ramping-vus scenario starting at vus', () => {
    const stages = [{ duration: 10_000, target: 5 }];
    const written = [{ duration: '10s', target: 5 }];
    assert.deepEqual(deriveScenarios({ stages, vus: 3 }), { default: { executor: 'ramping-vus', startVUs: 3, stages: written } });
    assert.deepEqual(deriveScenarios({ stages }), { default: { executor: 'ramping-vus', stages: written } });
  });

  it('vus alone make a shared-iterations scenario of one iteration per VU', () => {
    assert.deepEqual(deriveScenarios({ vus: 4 }), { default: { executor: 'shared-iterations', vus: 4, iterations: 4 } });
  });

  it('no execution option at all runs one iteration on one VU', () => {
    assert.deepEqual(deriveScenarios({}), { default: { executor: 'per-vu-iterations' } });
    const [config] = parseScenarios(deriveScenarios({}));
    assert.equal(config?.plan(fullSegment).maxVUs, 1);
  });

  it('scenarios are used as given, and vus beside them are ignored as in k6', () => {
    const scenarios = { a: { executor: 'constant-vus', duration: '1m' } };
    assert.deepEqual(deriveScenarios({ scenarios, vus: 7 }), scenarios);
  });

  it('explicitly empty stages or scenarios fall back to one iteration, with k6s warning', () => {
    const warnings: string[] = [];
    assert.deepEqual(deriveScenarios({ stages: [], scenarios: {} }, (m) => warnings.push(m)), { default: { executor: 'per-vu-iterations' } });
    assert.deepEqual(warnings, [
      '`stages` was explicitly set to an empty value, running the script with 1 iteration in 1 VU',
      '`scenarios` was explicitly set to an empty value, running the script with 1 iteration in 1 VU',
    ]);
  });

  it('conflicting execution options are rejected with k6s messages', () => {
    const stages = [{ duration: 1000, target: 1 }];
    const scenarios = { a: { executor: 'per-vu-iterations' } };
    const cases: Array<[Parameters<typeof deriveScenarios>[0], string]> = [
      [{ iterations: 1, stages }, 'using `iterations` and `stages` options simultaneously is not allowed'],
      [{ iterations: 1, scenarios }, 'using `iterations` and `scenarios` options simultaneously is not allowed'],
      [{ duration: 1000, stages }, 'using `duration` and `stages` options simultaneously is not allowed'],
      [{ duration: 1000, scenarios }, 'using `duration` and `scenarios` options simultaneously is not allowed'],
      [{ stages, scenarios }, 'using `stages` and `scenarios` options simultaneously is not allowed'],
      [{ duration: 0 }, '`duration` option should be more than 0, for infinite duration use the externally-controlled executor'],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => deriveScenarios(options),
        (e: unknown) => e instanceof HerdError && e.code === 'invalid_option' && e.message === message,
        message,
      );
    }
  });

  it('bad shortcut values are reported through the default scenario', () => {
    assert.throws(() => parseScenarios(deriveScenarios({ vus: 5, iterations: 2 })), {
      message: 'scenarios.default.iterations must be at least vus (5), got 2',
    });
  });
});
