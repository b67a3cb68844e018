// `herd archive` writes a k6-format archive; `herd run` runs it (or a herd archive) without the
// original files: script, options, -e values and the files open() read all come from it.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { metricValue, readSummary, runHerd, tempDir } from './helpers/herd-process.js';

let target: RunningTarget;
before(async () => {
  target = await startTarget({ port: 0 });
});
after(async () => {
  await target.close();
});

it('a script archived with herd archive runs from the archive alone, with its options, env and opened files', async () => {
  const src = tempDir();
  writeFileSync(path.join(src, 'd.json'), '{"n":7}');
  writeFileSync(
    path.join(src, 's.js'),
    `import http from 'k6/http';
import { check } from 'k6';
const data = JSON.parse(open('./d.json'));
export const options = { vus: 2, iterations: 6 };
export default function () {
  const r = http.get(__ENV.TARGET + '/get?n=' + data.n);
  check(r, { 'n echoed': (x) => x.json().args.n === '7' });
}
export function handleSummary(d) { return { [__ENV.OUT]: JSON.stringify(d) }; }
`,
  );
  const out = tempDir();
  const archive = path.join(out, 'a.tar');
  const summary = path.join(out, 'summary.json');
  const packed = await runHerd(['archive', '-q', '-e', `TARGET=${target.url}`, '-e', `OUT=${summary}`, '-O', archive, path.join(src, 's.js')]);
  assert.equal(packed.code, 0, packed.stderr);
  rmSync(src, { recursive: true, force: true });
  const r = await runHerd(['run', '-q', archive]);
  assert.equal(r.code, 0, r.stderr);
  const s = readSummary(summary);
  assert.equal(metricValue(s, 'iterations', 'count'), 6);
  assert.equal(metricValue(s, 'checks', 'passes'), 6);
});
