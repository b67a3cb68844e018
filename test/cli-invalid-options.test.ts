// Invalid options and flags, through the real binary: k6's exit code 104, a message naming
// the option and what it allows, and no stack trace of herd's own code.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { herdStackLines, runHerd, tempDir } from './helpers/herd-process.js';

const EMPTY = 'export default function () {}\n';

interface Case {
  name: string;
  args: string[];
  /** The script, when the case needs one other than an empty default function. */
  script?: string;
  stderr: RegExp;
}

const cases: Case[] = [
  { name: '--vus abc is refused, naming --vus and asking for a whole number', args: ['--vus', 'abc'], stderr: /--vus must be a whole number, got "abc"/ },
  { name: '--iterations -1 is refused, naming --iterations', args: ['--iterations', '-1'], stderr: /--iterations must be a whole number/ },
  { name: '--stage 10s is refused, naming --stage and its DURATION:TARGET form', args: ['--stage', '10s'], stderr: /--stage must be DURATION:TARGET.*got "10s"/ },
  { name: 'an unknown flag is refused, naming it', args: ['--bogus-flag'], stderr: /unknown option '--bogus-flag'/ },
  {
    name: 'options = { vus: -1 } in the script is refused, naming vus and its minimum',
    args: [],
    script: 'export const options = { vus: -1 };\nexport default function () {}\n',
    stderr: /vus must be at least 0, got -1/,
  },
  {
    name: "a scenario with executor 'nope' is refused, naming the scenario's executor and the allowed ones",
    args: [],
    script: "export const options = { scenarios: { main: { executor: 'nope' } } };\nexport default function () {}\n",
    stderr: /scenarios\.main\.executor must be one of .*constant-vus.*got "nope"/,
  },
  {
    name: 'a malformed threshold expression is refused, quoting it and the metric',
    args: [],
    script: "export const options = { thresholds: { http_req_duration: ['p(95)<<3'] } };\nexport default function () {}\n",
    stderr: /invalid threshold "p\(95\)<<3" on http_req_duration/,
  },
  {
    name: 'a threshold on an unknown metric is refused, naming the metric',
    args: [],
    script: "export const options = { thresholds: { no_such_metric: ['count>0'] } };\nexport default function () {}\n",
    stderr: /no metric name "no_such_metric" found/,
  },
  {
    name: 'bad --summary-trend-stats are refused, naming each bad stat',
    args: ['--summary-trend-stats', 'avg,p(abc),foo'],
    stderr: /summaryTrendStats: .*'p\(abc\)'.*'foo'/,
  },
  { name: '--out nope=x is refused, naming the output type and the supported ones', args: ['--out', 'nope=x'], stderr: /unknown output type "nope"; herd supports json and csv/ },
  { name: 'a config file that is not JSON is refused, naming the file', args: ['--config', 'NOT_JSON'], stderr: /the config file .*config\.txt is not valid JSON/ },
];

describe('invalid options exit 104 with a message naming the option', { concurrency: 3 }, () => {
  for (const c of cases) {
    it(c.name, async () => {
      const dir = tempDir({ 's.js': c.script ?? EMPTY, 'config.txt': 'vus = 3' });
      const args = c.args.map((a) => (a === 'NOT_JSON' ? path.join(dir, 'config.txt') : a));
      const r = await runHerd(['run', '-q', ...args, path.join(dir, 's.js')]);
      assert.equal(r.code, 104, `exit code ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, c.stderr);
      assert.deepEqual(herdStackLines(r.stderr), [], 'no stack trace of herd itself');
      assert.equal(r.stdout.trim(), '', 'no summary for a run that never started');
    });
  }

  it('--duration 500ms is refused (constant VUs need at least 1s), quoting the value as given', async () => {
    const dir = tempDir({ 's.js': EMPTY });
    const r = await runHerd(['run', '-q', '--vus', '1', '--duration', '500ms', path.join(dir, 's.js')]);
    assert.equal(r.code, 104, r.stderr);
    assert.match(r.stderr, /duration must be at least 1s, got "?500ms"?/);
  });
});
