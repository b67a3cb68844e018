import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveScenarios, parseScenarios, segmentsOfSequence, type ExecutorConfig } from '../../executor/index.js';
import type { AgentId } from '../../protocol/ids.js';
import { planRun, vusForSegment } from '../runs/run-plan.js';
import { placeRun, type PlacementCandidate } from './placement.js';

const agent = (id: string, zone: string, freeVUs: number): PlacementCandidate => ({ id: id as AgentId, zone, freeVUs });
const configsOf = (options: Record<string, unknown>): ExecutorConfig[] => [...planRun(options, 'local').configs];

describe('placement', () => {
  it('cuts each zone\'s percent over its agents into one sequence, the first share running setup and teardown', () => {
    const configs = configsOf({ vus: 12, duration: '1m' });
    const p = placeRun(
      { a: { loadZone: 'zone-a', percent: 50 }, b: { loadZone: 'zone-b', percent: 50 } },
      [agent('a1', 'zone-a', 100), agent('a2', 'zone-a', 100), agent('b1', 'zone-b', 100)],
      (s) => vusForSegment(configs, s), 12,
    );
    assert.ok(p.ok);
    assert.equal(p.sequence, '0,1/4,1/2,1');
    assert.deepEqual(p.shares.map((s) => [s.agentId, s.zone, s.segment, s.vus, s.lifecycle]), [
      ['a1', 'zone-a', '0:1/4', 3, true], ['a2', 'zone-a', '1/4:1/2', 3, false], ['b1', 'zone-b', '1/2:1', 6, false],
    ]);
  });

  it('splits 3 agents in 2 zones 2:1 so that the shares\' VUs, iterations and rates add up to the whole', () => {
    const plans: Array<Record<string, unknown>> = [
      { vus: 10, duration: '30s' },
      { vus: 7, iterations: 100 },
      { stages: [{ duration: '10s', target: 13 }, { duration: '10s', target: 0 }] },
      { scenarios: { rate: { executor: 'constant-arrival-rate', rate: 50, duration: '10s', preAllocatedVUs: 11, maxVUs: 23 } } },
    ];
    for (const options of plans) {
      const configs = configsOf(options);
      const whole = vusForSegment(configs, segmentsOfSequence('0,1')[0]!);
      const p = placeRun(
        { a: { loadZone: 'zone-a', percent: 67 }, b: { loadZone: 'zone-b', percent: 33 } },
        [agent('a1', 'zone-a', 1000), agent('a2', 'zone-a', 1000), agent('b1', 'zone-b', 1000)],
        (s) => vusForSegment(configs, s), whole,
      );
      assert.ok(p.ok, JSON.stringify(options));
      assert.equal(p.shares.length, 3);
      assert.equal(p.shares.filter((s) => s.lifecycle).length, 1);
      assert.equal(p.shares.reduce((sum, s) => sum + s.vus, 0), whole, `VUs of ${JSON.stringify(options)}`);
      const segments = segmentsOfSequence(p.sequence);
      assert.deepEqual(segments.map((s) => s.toString()), p.shares.map((s) => s.segment));
      // Integers split by the segments add up exactly (striping), whatever the value.
      for (const v of [1, 7, 100, 12_345]) assert.equal(segments.reduce((sum, s) => sum + s.scale(v), 0), v);
      assert.ok(Math.abs(segments.reduce((sum, s) => sum + s.scaleRate(50), 0) - 50) < 1e-9);
    }
  });

  it('splits a zone by the agents\' free VUs', () => {
    const configs = configsOf({ vus: 30, duration: '1m' });
    const p = placeRun({ l: { loadZone: 'local', percent: 100 } }, [agent('big', 'local', 200), agent('small', 'local', 100)], (s) => vusForSegment(configs, s), 30);
    assert.ok(p.ok);
    assert.deepEqual(p.shares.map((s) => [s.agentId, s.segment, s.vus]), [['big', '0:2/3', 20], ['small', '2/3:1', 10]]);
  });

  it('uses no more agents in a zone than the zone has VUs', () => {
    const configs = configsOf({ vus: 1, duration: '1m' });
    const p = placeRun({ l: { loadZone: 'local', percent: 100 } }, [agent('a', 'local', 10), agent('b', 'local', 10)], (s) => vusForSegment(configs, s), 1);
    assert.ok(p.ok);
    assert.deepEqual(p.shares.map((s) => [s.agentId, s.segment, s.vus]), [['a', '0:1', 1]]);
  });

  it('names the zones without a healthy agent, and a zone without room', () => {
    const configs = parseScenarios(deriveScenarios({ vus: 50, duration: 60_000 }));
    const vusFor = (s: Parameters<typeof vusForSegment>[1]): number => vusForSegment(configs, s);
    assert.deepEqual(
      placeRun({ a: { loadZone: 'mars', percent: 50 }, b: { loadZone: 'local', percent: 50 } }, [agent('l', 'local', 100)], vusFor, 50),
      { ok: false, why: 'no_agents', zones: ['mars'] },
    );
    assert.deepEqual(
      placeRun({ l: { loadZone: 'local', percent: 100 } }, [agent('l', 'local', 20)], vusFor, 50),
      { ok: false, why: 'capacity', zone: 'local', neededVUs: 50, freeVUs: 20 },
    );
  });
});
