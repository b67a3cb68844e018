// `herd run --workers N`: VUs spread over worker threads, each owning an execution segment,
// must behave exactly as one thread: counts, checks, setup/teardown once, SharedArray built
// once, unique __VU numbers, test.abort() and abortOnFail stopping every thread, and
// --execution-segment parts adding up to the whole run.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { checkResults, metricValue, readSummary, runHerd, summaryToFile, tempDir } from './helpers/herd-process.js';

describe('worker threads', { concurrency: 2 }, () => {
  let target: RunningTarget;
  before(async () => {
    target = await startTarget({ port: 0 });
  });
  after(async () => {
    await target.close();
  });

  const countingScript = (summaryFile: string): string => `import http from 'k6/http';
import { check, group } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { SharedArray } from 'k6/data';
const ids = new Counter('vu_ids');
const squares = new Counter('vu_id_squares');
const lat = new Trend('my_trend');
const rows = new SharedArray('rows', function () { console.log('building shared rows'); return [{ n: 1 }, { n: 2 }, { n: 3 }]; });
export const options = {
  scenarios: {
    each: { executor: 'per-vu-iterations', vus: 4, iterations: 3 },
    pool: { executor: 'shared-iterations', vus: 3, iterations: 10, exec: 'pooled' },
  },
};
let counted = false;
function countVu() {
  if (!counted) { counted = true; ids.add(__VU); squares.add(__VU * __VU); }
}
export function setup() { console.log('setup ran'); return { token: 'abc' }; }
export default function (data) {
  countVu();
  group('g', () => {
    const r = http.get(__ENV.TARGET + '/get?i=' + __ITER);
    check(r, { 'ok': (x) => x.status === 200, 'setup data arrived': () => data.token === 'abc' });
  });
  lat.add(rows[__ITER % rows.length].n * 10);
}
export function pooled() { countVu(); http.get(__ENV.TARGET + '/get'); }
export function teardown(data) { console.log('teardown ran with ' + data.token); }
${summaryToFile(summaryFile)}`;

  it('two workers give exactly the counts, checks and trends of one thread', async () => {
    const results = [];
    for (const workers of ['1', '2']) {
      const dir = tempDir();
      const summary = path.join(dir, 'summary.json');
      const script = path.join(dir, 's.js');
      (await import('node:fs')).writeFileSync(script, countingScript(summary));
      const r = await runHerd(['run', '-q', '--workers', workers, '-e', `TARGET=${target.url}`, script]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr.match(/building shared rows/g)?.length, 1, `SharedArray built once with ${workers} worker(s):\n${r.stderr}`);
      assert.equal(r.stderr.match(/setup ran/g)?.length, 1, r.stderr);
      assert.equal(r.stderr.match(/teardown ran with abc/g)?.length, 1, r.stderr);
      results.push(readSummary(summary));
    }
    const [one, two] = results as [ReturnType<typeof readSummary>, ReturnType<typeof readSummary>];
    for (const [metric, value] of [
      ['iterations', 'count'],
      ['http_reqs', 'count'],
      ['vu_ids', 'count'],
      ['vu_id_squares', 'count'],
      ['my_trend', 'avg'],
      ['my_trend', 'p(90)'],
      ['checks', 'passes'],
      ['vus_max', 'value'],
    ] as const) {
      assert.equal(metricValue(two, metric, value), metricValue(one, metric, value), `${metric}.${value}`);
    }
    assert.equal(metricValue(two, 'iterations', 'count'), 22);
    // The 7 VUs hold the distinct numbers 1..7 in both runs: 1+…+7 and 1²+…+7².
    assert.equal(metricValue(two, 'vu_ids', 'count'), 28);
    assert.equal(metricValue(two, 'vu_id_squares', 'count'), 140);
    assert.deepEqual(checkResults(two), checkResults(one));
  });

  it('exec.test.abort() in one worker stops every worker with exit code 108', async () => {
    const dir = tempDir();
    const summary = path.join(dir, 'summary.json');
    const script = path.join(dir, 's.js');
    (await import('node:fs')).writeFileSync(
      script,
      `import exec from 'k6/execution';
import { sleep } from 'k6';
export const options = { vus: 4, duration: '20s' };
export default function () {
  if (__VU === 3 && __ITER === 2) exec.test.abort('enough');
  sleep(0.1);
}
${summaryToFile(summary)}`,
    );
    const r = await runHerd(['run', '-q', '--workers', '2', script]);
    assert.equal(r.code, 108, r.stderr);
    assert.match(r.stderr, /enough/);
    assert.ok(readSummary(summary).state.testRunDurationMs < 10_000);
  });

  it('an abortOnFail threshold over merged metrics stops every worker with exit code 99', async () => {
    const dir = tempDir();
    const script = path.join(dir, 's.js');
    (await import('node:fs')).writeFileSync(
      script,
      `import { sleep } from 'k6';
export const options = { vus: 4, duration: '20s', thresholds: { iterations: [{ threshold: 'count<20', abortOnFail: true }] } };
export default function () { sleep(0.05); }
`,
    );
    const started = Date.now();
    const r = await runHerd(['run', '-q', '--no-summary', '--workers', '2', script]);
    assert.equal(r.code, 99, r.stderr);
    assert.ok(Date.now() - started < 12_000, 'ended well before the planned 20 s');
  });

  it('the segments of a sequence run separately add up to the whole run', async () => {
    const dir = tempDir();
    const script = path.join(dir, 's.js');
    const fs = await import('node:fs');
    const counts: number[] = [];
    for (const seg of ['0:1/3', '1/3:2/3', '2/3:1']) {
      const summary = path.join(dir, `summary-${counts.length}.json`);
      fs.writeFileSync(
        script,
        `import { Counter } from 'k6/metrics';
const c = new Counter('work');
export const options = { scenarios: { a: { executor: 'shared-iterations', vus: 7, iterations: 100 }, b: { executor: 'per-vu-iterations', vus: 5, iterations: 3 } } };
export default function () { c.add(1); }
${summaryToFile(summary)}`,
      );
      const r = await runHerd(['run', '-q', '--workers', '2', '--execution-segment', seg, '--execution-segment-sequence', '0,1/3,2/3,1', script]);
      assert.equal(r.code, 0, r.stderr);
      counts.push(metricValue(readSummary(summary), 'work', 'count') || 0);
    }
    assert.equal(counts.reduce((a, b) => a + b, 0), 115, `parts ${counts.join('+')}`);
  });
});
