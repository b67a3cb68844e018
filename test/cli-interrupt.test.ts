// Ctrl+C through the real binary, as in k6: the first SIGINT stops the test gracefully
// (teardown and summary still run) and exits 105; a second one exits 105 at once.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { metricValue, readSummary, spawnHerd, summaryToFile, tempDir, waitForText } from './helpers/herd-process.js';

/** One VU looping for 30s; `teardown` and `handleSummary` bodies as given. */
function longRun(dir: string, teardown: string, handleSummary?: string): string {
  const file = path.join(dir, 's.js');
  writeFileSync(
    file,
    `import { sleep } from 'k6';
export const options = { scenarios: { main: { executor: 'constant-vus', vus: 1, duration: '30s' } } };
export default function () {
  if (__ITER === 0) console.log('FIRST ITERATION');
  sleep(0.1);
}
export function teardown() { ${teardown} }
${handleSummary ?? summaryToFile(path.join(dir, 'summary.json'))}`,
  );
  return file;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Ctrl+C', { concurrency: 3 }, () => {
  it('one SIGINT stops the run gracefully: teardown runs, the summary is written, exit 105', async () => {
    const dir = tempDir();
    const run = spawnHerd(['run', '-q', longRun(dir, "console.log('TEARDOWN RAN');")], { timeoutMs: 25_000 });
    await waitForText(() => run.output.stderr, 'FIRST ITERATION');
    await sleep(1000);
    const sentAt = performance.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 105, `exit ${r.code} (signal ${r.signal})\n${r.stderr}`);
    assert.ok(performance.now() - sentAt < 5000, 'stops within a few seconds, not after the planned 30s');
    assert.match(r.stderr, /TEARDOWN RAN/);
    const s = readSummary(path.join(dir, 'summary.json'));
    assert.ok(metricValue(s, 'iterations', 'count') >= 3, `${metricValue(s, 'iterations', 'count')} iterations before Ctrl+C`);
    assert.ok(s.state.testRunDurationMs < 10_000, `the summary says ${s.state.testRunDurationMs} ms`);
  });

  it('a second SIGINT right after the first exits 105 promptly, without waiting for teardown', async () => {
    const dir = tempDir();
    const run = spawnHerd(['run', '-q', longRun(dir, "console.log('TEARDOWN START'); sleep(10); console.log('TEARDOWN END');")], { timeoutMs: 25_000 });
    await waitForText(() => run.output.stderr, 'FIRST ITERATION');
    await sleep(500);
    run.child.kill('SIGINT');
    await sleep(200);
    const sentAt = performance.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 105, `exit ${r.code} (signal ${r.signal})\n${r.stderr}`);
    assert.ok(performance.now() - sentAt < 3000, 'exits at once');
    assert.doesNotMatch(r.stderr, /TEARDOWN END/);
  });

  it('a second SIGINT while the summary is being written still exits 105', async () => {
    const dir = tempDir();
    // handleSummary takes ~3 s, so the second SIGINT lands while it runs.
    const slowSummary = "export function handleSummary() { console.log('SUMMARY START'); const t = Date.now(); while (Date.now() - t < 3000) {} return {}; }";
    const run = spawnHerd(['run', '-q', longRun(dir, '', slowSummary)], { timeoutMs: 25_000 });
    await waitForText(() => run.output.stderr, 'FIRST ITERATION');
    await sleep(300);
    run.child.kill('SIGINT');
    await waitForText(() => run.output.stderr, 'SUMMARY START', 5000).catch(() => undefined);
    await sleep(300);
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.signal, null, `herd was killed by ${r.signal}`);
    assert.equal(r.code, 105, r.stderr);
  });
});
