// Arrival-rate runs through the real binary: iterations follow the schedule, and every started
// iteration records iteration_start_delay (how late it started against its schedule).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { metricValue, readSummary, runHerd, summaryToFile, tempDir } from './helpers/herd-process.js';

it('a constant-arrival-rate run records how late each iteration started', async () => {
  const dir = tempDir();
  const summary = path.join(dir, 'summary.json');
  const script = path.join(dir, 's.js');
  writeFileSync(
    script,
    `export const options = {
  summaryTrendStats: ['avg', 'max', 'count'],
  scenarios: { a: { executor: 'constant-arrival-rate', rate: 100, timeUnit: '1s', duration: '2s', preAllocatedVUs: 5 } },
};
export default function () {}
${summaryToFile(summary)}`,
  );
  const r = await runHerd(['run', '-q', '--workers', '2', script]);
  assert.equal(r.code, 0, r.stderr);
  const s = readSummary(summary);
  const iterations = metricValue(s, 'iterations', 'count');
  assert.ok(iterations >= 190 && iterations <= 202, `iterations ${iterations}`);
  assert.equal(metricValue(s, 'iteration_start_delay', 'count'), iterations);
  assert.ok(metricValue(s, 'iteration_start_delay', 'avg') < 100, 'an idle generator starts iterations on time');
});

it('a generator that falls behind its schedule shows it in iteration_start_delay', async () => {
  const dir = tempDir();
  const summary = path.join(dir, 'summary.json');
  const script = path.join(dir, 's.js');
  writeFileSync(
    script,
    `export const options = {
  summaryTrendStats: ['avg', 'max', 'count'],
  scenarios: { a: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '2s', preAllocatedVUs: 4, maxVUs: 4 } },
};
export default function () { const end = Date.now() + 30; while (Date.now() < end) {} }
${summaryToFile(summary)}`,
  );
  const r = await runHerd(['run', '-q', '--workers', '1', script]);
  assert.equal(r.code, 0, r.stderr);
  const s = readSummary(summary);
  // Each iteration keeps the thread busy for 30 ms while one is due every 20 ms: the thread
  // falls behind, so the iterations that still start do so late — visible here, and nowhere in
  // http_req_duration or iteration_duration.
  assert.ok(metricValue(s, 'iteration_start_delay', 'max') > 10, `late starts are visible: ${metricValue(s, 'iteration_start_delay', 'max')}`);
});
