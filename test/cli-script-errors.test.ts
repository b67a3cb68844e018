// Errors in the user's script, through the real binary: k6's exit codes (107 script error,
// 108 exec.test.abort()), positions in the user's file, and runs that go on after an
// exception inside an iteration.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { checkResults, herdStackLines, metricValue, readSummary, runHerd, summaryToFile, tempDir } from './helpers/herd-process.js';

/** Writes `source` as s.js in a fresh dir and runs it; the summary (if any) lands in summary.json. */
async function runScript(source: string, withSummary = false) {
  const dir = tempDir();
  const file = path.join(dir, 's.js');
  const summary = path.join(dir, 'summary.json');
  writeFileSync(file, withSummary ? source + summaryToFile(summary) : source);
  const r = await runHerd(['run', '-q', '--no-summary', file]);
  return { ...r, file, summary };
}

/** Escapes `s` for use inside a RegExp. */
const re = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('script errors', { concurrency: 3 }, () => {
  it('a syntax error exits 107 with file:line:column', async () => {
    const r = await runScript('export default function () {\n  let x = ;\n}\n');
    assert.equal(r.code, 107, r.stderr);
    assert.match(r.stderr, new RegExp(`${re(r.file)}:2:11\\b`));
    assert.deepEqual(herdStackLines(r.stderr), []);
  });

  it('an import of an unknown module exits 107 naming the module and where it is imported', async () => {
    const r = await runScript("import nope from 'k6/nope';\nexport default function () { nope(); }\n");
    assert.equal(r.code, 107, r.stderr);
    assert.match(r.stderr, /unknown module "k6\/nope"/);
    assert.match(r.stderr, new RegExp(`${re(r.file)}:1:\\d+`));
  });

  it('an import of a missing local file exits 107 naming the file', async () => {
    const r = await runScript("import { x } from './not-there.js';\nexport default function () { x(); }\n");
    assert.equal(r.code, 107, r.stderr);
    assert.match(r.stderr, /not-there\.js/);
  });

  it('a missing script file ends with a non-zero exit code and a message naming the file', async () => {
    const dir = tempDir();
    const r = await runHerd(['run', path.join(dir, 'missing.js')]);
    assert.notEqual(r.code, 0);
    assert.equal(r.signal, null);
    assert.match(r.stderr, /the script .*missing\.js does not exist/);
    assert.deepEqual(herdStackLines(r.stderr), []);
  });

  it('an exception in the init code exits 107 with file:line', async () => {
    const r = await runScript("const a = 1;\nthrow new Error('boom in init');\nexport default function () {}\n");
    assert.equal(r.code, 107, r.stderr);
    assert.match(r.stderr, /boom in init/);
    assert.match(r.stderr, new RegExp(`${re(r.file)}:2:\\d+`));
  });

  it('an exception in setup() exits 107 with file:line and runs no iteration', async () => {
    const r = await runScript(
      "export const options = { iterations: 1 };\nexport function setup() {\n  throw new Error('setup boom');\n}\nexport default function () { console.log('ITERATION RAN'); }\n",
    );
    assert.equal(r.code, 107, r.stderr);
    assert.match(r.stderr, /setup boom/);
    assert.match(r.stderr, new RegExp(`${re(r.file)}:3:\\d+`));
    assert.doesNotMatch(r.stderr, /ITERATION RAN/);
  });

  it('an exception inside an iteration is logged with file:line, the run goes on and exits 0', async () => {
    const r = await runScript(
      "export const options = { iterations: 3 };\nexport default function () {\n  if (__ITER === 0) throw new Error('iteration boom');\n}\n",
      true,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /iteration boom/);
    assert.match(r.stderr, new RegExp(`${re(r.file)}:3:\\d+`));
    // The failed iteration ends early; the other two complete (k6 counts only completed ones).
    assert.ok(metricValue(readSummary(r.summary), 'iterations', 'count') >= 2);
  });

  it('fail() inside an iteration is logged with its message and file:line, and the run exits 0', async () => {
    const r = await runScript(
      "import { check, fail } from 'k6';\nexport const options = { iterations: 2 };\nexport default function () {\n  check(1, { 'before fail': () => true });\n  fail('deliberate failure');\n  check(1, { 'after fail': () => true });\n}\n",
      true,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /deliberate failure/);
    assert.match(r.stderr, new RegExp(`${re(r.file)}:5:\\d+`));
    assert.deepEqual(checkResults(readSummary(r.summary)), { 'before fail': '2/0' });
  });

  it('exec.test.abort() exits 108 with the reason, and the summary is still written', async () => {
    const r = await runScript(
      "import exec from 'k6/execution';\nexport const options = { iterations: 50 };\nexport default function () {\n  if (__ITER === 1) exec.test.abort('why not');\n}\n",
      true,
    );
    assert.equal(r.code, 108, r.stderr);
    assert.match(r.stderr, /why not/);
    assert.ok(metricValue(readSummary(r.summary), 'iterations', 'count') < 50);
  });

  it('a blocking call inside a sort() comparator exits 107 with file:line:column and a hint', async () => {
    const r = await runScript(
      "import { sleep } from 'k6';\nexport const options = { iterations: 1 };\nexport default function () {\n  const a = [3, 1, 2];\n  a.sort((x, y) => { sleep(0.01); return x - y; });\n}\n",
    );
    assert.equal(r.code, 107, r.stderr);
    assert.match(r.stderr, new RegExp(`${re(r.file)}:5:\\d+`));
    assert.match(r.stderr, /sort\(\)/);
    assert.match(r.stderr, /hint: /);
  });

  it('http.get inside a class constructor exits 107 with file:line:column and a hint', async () => {
    const r = await runScript(
      "import http from 'k6/http';\nexport const options = { iterations: 1 };\nclass Client {\n  constructor() {\n    this.res = http.get('http://127.0.0.1:9/');\n  }\n}\nexport default function () {\n  new Client();\n}\n",
    );
    assert.equal(r.code, 107, r.stderr);
    assert.match(r.stderr, new RegExp(`${re(r.file)}:5:\\d+`));
    assert.match(r.stderr, /constructor/);
    assert.match(r.stderr, /hint: /);
  });

  it("errors thrown by the script are logged with the user's frames only, not herd's own", async () => {
    const r = await runScript("export const options = { iterations: 1 };\nexport default function () {\n  throw new Error('iteration boom');\n}\n");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /iteration boom/);
    assert.deepEqual(herdStackLines(r.stderr), []);
  });
});
