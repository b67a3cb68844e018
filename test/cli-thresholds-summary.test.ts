// Thresholds and the end-of-test summary through the real binary: exit 99 when a threshold
// is crossed, abortOnFail ending the run early, handleSummary's outputs and k6's text summary.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { runHerd, tempDir } from './helpers/herd-process.js';

describe('thresholds and summaries', { concurrency: 3 }, () => {
  let target: RunningTarget;
  before(async () => {
    target = await startTarget({ port: 0 });
  });
  after(async () => {
    await target.close();
  });

  it('a crossed threshold exits 99 and names the metric on stderr; the passing one is marked ✓', async () => {
    const dir = tempDir({
      's.js': `import { Counter } from 'k6/metrics';
const orders = new Counter('orders_placed');
export const options = { iterations: 3, thresholds: { orders_placed: ['count<2'], iterations: ['count>0'] } };
export default function () { orders.add(1); }
`,
    });
    const r = await runHerd(['run', '-q', '--no-color', path.join(dir, 's.js')]);
    assert.equal(r.code, 99, r.stderr);
    assert.match(r.stderr, /thresholds on metrics 'orders_placed' have been crossed/);
    assert.doesNotMatch(r.stderr, /'iterations'/);
    assert.match(r.stdout, /✗ orders_placed\.+: 3/);
    assert.match(r.stdout, /✓ iterations\.+: 3/);
  });

  it('thresholds that hold exit 0', async () => {
    const dir = tempDir({
      's.js': "export const options = { iterations: 3, thresholds: { iterations: ['count==3'] } };\nexport default function () {}\n",
    });
    const r = await runHerd(['run', '-q', '--no-summary', path.join(dir, 's.js')]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('abortOnFail ends the run early (well before its 20s) and exits 99', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 's.js'),
      `import { sleep } from 'k6';
import { Counter } from 'k6/metrics';
const c = new Counter('my_counter');
export const options = {
  scenarios: { main: { executor: 'constant-vus', vus: 1, duration: '20s' } },
  thresholds: { my_counter: [{ threshold: 'count<3', abortOnFail: true }] },
};
export default function () { c.add(1); sleep(0.05); }
export function handleSummary(data) { return { ${JSON.stringify(path.join(dir, 'summary.json'))}: JSON.stringify(data.state) }; }
`,
    );
    const r = await runHerd(['run', '-q', path.join(dir, 's.js')], { timeoutMs: 25_000 });
    assert.equal(r.code, 99, r.stderr);
    assert.match(r.stderr, /my_counter/);
    assert.ok(r.elapsedMs < 10_000, `took ${r.elapsedMs} ms`);
    const state = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { testRunDurationMs: number };
    assert.ok(state.testRunDurationMs < 10_000, `the summary says ${state.testRunDurationMs} ms`);
  });

  it('handleSummary writes to stdout, stderr and a file, and replaces the text summary', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'out', 'report.txt');
    writeFileSync(
      path.join(dir, 's.js'),
      `export const options = { iterations: 2 };
export default function () {}
export function handleSummary(data) {
  const n = data.metrics.iterations.values.count;
  return { stdout: 'TO-STDOUT ' + n + '\\n', stderr: 'TO-STDERR ' + n + '\\n', ${JSON.stringify(file)}: 'TO-FILE ' + n };
}
`,
    );
    const r = await runHerd(['run', '-q', path.join(dir, 's.js')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'TO-STDOUT 2\n');
    assert.match(r.stderr, /^TO-STDERR 2$/m);
    assert.equal(readFileSync(file, 'utf8'), 'TO-FILE 2');
  });

  it('without handleSummary, the text summary on stdout has checks, http_req_duration and ✓/✗ marks', async () => {
    const dir = tempDir({
      's.js': `import http from 'k6/http';
import { check } from 'k6';
export const options = { iterations: 2 };
export default function () {
  const res = http.get(${JSON.stringify(`${target.url}/get`)});
  check(res, { 'status is 200': (r) => r.status === 200, 'status is 404': (r) => r.status === 404 });
}
`,
    });
    const r = await runHerd(['run', '-q', '--no-color', path.join(dir, 's.js')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ status is 200/);
    assert.match(r.stdout, /✗ status is 404/);
    assert.match(r.stdout, /checks\.+: 50\.00% +✓ 2 +✗ 2/);
    assert.match(r.stdout, /http_req_duration\.+: avg=\S+ +min=\S+ +med=\S+ +max=\S+ +p\(90\)=\S+ +p\(95\)=\S+/);
    assert.match(r.stdout, /http_reqs\.+: 2 /);
    assert.match(r.stdout, /iterations\.+: 2 /);
    assert.equal(r.stderr.includes('http_req_duration'), false, 'the summary goes to stdout');
  });
});
