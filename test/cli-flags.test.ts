// `herd run` flags, through the real binary: each flag changes what a run does or writes,
// as the same k6 flag would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { checkResults, HERD_BIN, herdEnv, metricValue, readSummary, runHerd, summaryToFile, tempDir } from './helpers/herd-process.js';

/** A script doing nothing but counting iterations; its summary goes to summary.json. */
function emptyScript(dir: string, body = '', options = ''): string {
  return `${options}\nexport default function () { ${body} }\n${summaryToFile(path.join(dir, 'summary.json'))}`;
}

const ANSI_SGR = /\x1b\[[0-9;]*m/;

describe('herd run flags', { concurrency: 2 }, () => {
  let target: RunningTarget;
  before(async () => {
    target = await startTarget({ port: 0 });
  });
  after(async () => {
    await target.close();
  });

  /** A script making one GET to the target per iteration with one check. */
  function httpScript(options = 'export const options = { iterations: 2 };'): string {
    return `import http from 'k6/http';
import { check } from 'k6';
${options}
export default function () {
  const res = http.get(${JSON.stringify(`${target.url}/get`)});
  check(res, { 'status is 200': (r) => r.status === 200 });
}
`;
  }

  it('--vus and --iterations share the iterations among that many VUs', async () => {
    const dir = tempDir();
    const script = path.join(dir, 's.js');
    writeFileSync(script, emptyScript(dir));
    const r = await runHerd(['run', '-q', '--vus', '3', '--iterations', '7', script]);
    assert.equal(r.code, 0, r.stderr);
    const s = readSummary(path.join(dir, 'summary.json'));
    assert.equal(metricValue(s, 'iterations', 'count'), 7);
    assert.equal(metricValue(s, 'vus_max', 'value'), 3);
  });

  it('--vus with --duration runs that many looping VUs for that long', async () => {
    const dir = tempDir();
    const script = path.join(dir, 's.js');
    writeFileSync(script, emptyScript(dir, 'sleep(0.1);', "import { sleep } from 'k6';"));
    const r = await runHerd(['run', '-q', '--vus', '2', '--duration', '1s', script]);
    assert.equal(r.code, 0, r.stderr);
    const s = readSummary(path.join(dir, 'summary.json'));
    assert.equal(metricValue(s, 'vus_max', 'value'), 2);
    assert.ok(s.state.testRunDurationMs >= 950 && s.state.testRunDurationMs < 5000, `ran ${s.state.testRunDurationMs} ms`);
    // 2 VUs × at most ~10 iterations of 100 ms each in 1 s (fewer on a loaded machine).
    const iterations = metricValue(s, 'iterations', 'count');
    assert.ok(iterations >= 4 && iterations <= 24, `ran ${iterations} iterations`);
  });

  it('--stage is repeatable: the stages run one after the other', async () => {
    const dir = tempDir();
    const script = path.join(dir, 's.js');
    writeFileSync(script, emptyScript(dir, 'sleep(0.05);', "import { sleep } from 'k6';"));
    const r = await runHerd(['run', '-q', '--stage', '600ms:2', '--stage', '600ms:0', script]);
    assert.equal(r.code, 0, r.stderr);
    const s = readSummary(path.join(dir, 'summary.json'));
    assert.equal(metricValue(s, 'vus_max', 'value'), 2);
    assert.ok(s.state.testRunDurationMs >= 1150 && s.state.testRunDurationMs < 4000, `ran ${s.state.testRunDurationMs} ms, expected both stages`);
  });

  it('-e/--env values reach __ENV as strings and win over the process environment', async () => {
    const dir = tempDir();
    const script = path.join(dir, 's.js');
    writeFileSync(
      script,
      emptyScript(
        dir,
        `check(__ENV, {
          'flag wins': (e) => e.FOO === 'from-flag',
          'value is a string': (e) => e.NUM === '3' && typeof e.NUM === 'string',
          'process env is visible': (e) => e.ONLY_IN_PROCESS === 'yes',
        });`,
        "import { check } from 'k6'; export const options = { iterations: 1 };",
      ),
    );
    const r = await runHerd(['run', '-q', '-e', 'FOO=from-flag', '--env', 'NUM=3', script], { env: { FOO: 'from-process', ONLY_IN_PROCESS: 'yes' } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(checkResults(readSummary(path.join(dir, 'summary.json'))), {
      'flag wins': '1/0',
      'value is a string': '1/0',
      'process env is visible': '1/0',
    });
  });

  it('--out json writes Metric lines then Point lines, and --tag tags appear on the samples', async () => {
    const dir = tempDir({ 's.js': httpScript() });
    const out = path.join(dir, 'samples.json');
    const r = await runHerd(['run', '-q', '--no-summary', '--tag', 'team=qa', '--tag', 'env=ci', '--out', `json=${out}`, path.join(dir, 's.js')]);
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const declared = new Set<string>();
    for (const l of lines) {
      if (l['type'] === 'Metric') {
        declared.add(l['metric'] as string);
        assert.equal((l['data'] as { name: string }).name, l['metric']);
      } else {
        assert.equal(l['type'], 'Point');
        assert.ok(declared.has(l['metric'] as string), `a Point of ${String(l['metric'])} comes before its Metric line`);
        const data = l['data'] as { time: string; value: number; tags: Record<string, string> };
        assert.deepEqual(Object.keys(data).sort(), ['tags', 'time', 'value']);
        assert.ok(!Number.isNaN(Date.parse(data.time)), `time ${data.time}`);
        assert.equal(typeof data.value, 'number');
      }
    }
    const reqs = lines.filter((l) => l['type'] === 'Point' && l['metric'] === 'http_reqs');
    assert.equal(reqs.length, 2);
    for (const p of reqs) {
      const tags = (p['data'] as { tags: Record<string, string> }).tags;
      assert.equal(tags['team'], 'qa');
      assert.equal(tags['env'], 'ci');
      assert.equal(tags['method'], 'GET');
      assert.equal(tags['status'], '200');
    }
  });

  it('--out csv writes the k6 header line and one row per sample', async () => {
    const dir = tempDir({ 's.js': httpScript() });
    const out = path.join(dir, 'samples.csv');
    const r = await runHerd(['run', '-q', '--no-summary', '--tag', 'team=qa', '--out', `csv=${out}`, path.join(dir, 's.js')]);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(
      header,
      'metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata',
    );
    const reqs = rows.filter((r) => r.startsWith('http_reqs,'));
    assert.equal(reqs.length, 2);
    for (const row of reqs) assert.match(row, /,GET,.*,200,.*team=qa/);
  });

  it('--config reads options from a JSON file', async () => {
    const dir = tempDir({ 'config.json': JSON.stringify({ vus: 2, iterations: 5 }) });
    const script = path.join(dir, 's.js');
    writeFileSync(script, emptyScript(dir));
    const r = await runHerd(['run', '-q', '--config', path.join(dir, 'config.json'), script]);
    assert.equal(r.code, 0, r.stderr);
    const s = readSummary(path.join(dir, 'summary.json'));
    assert.equal(metricValue(s, 'iterations', 'count'), 5);
    assert.equal(metricValue(s, 'vus_max', 'value'), 2);
  });

  it("--summary-export writes k6's legacy export, with metric values flattened", async () => {
    const dir = tempDir({ 's.js': httpScript() });
    const file = path.join(dir, 'export.json');
    const r = await runHerd(['run', '-q', '--summary-export', file, path.join(dir, 's.js')]);
    assert.equal(r.code, 0, r.stderr);
    const exp = JSON.parse(readFileSync(file, 'utf8')) as {
      root_group: { checks: Record<string, { passes: number; fails: number }> };
      metrics: Record<string, Record<string, number>>;
    };
    assert.equal(exp.metrics['http_reqs']?.['count'], 2);
    assert.equal(typeof exp.metrics['http_reqs']?.['rate'], 'number');
    assert.equal(exp.metrics['checks']?.['passes'], 2);
    assert.equal(exp.metrics['checks']?.['fails'], 0);
    assert.equal(typeof exp.metrics['http_req_duration']?.['p(95)'], 'number');
    assert.equal(exp.metrics['http_req_duration']?.['values'], undefined, 'values are flattened');
    assert.equal(exp.root_group.checks['status is 200']?.passes, 2);
  });

  it('--summary-trend-stats chooses the trend stats of the text summary and the export', async () => {
    const dir = tempDir({ 's.js': httpScript() });
    const file = path.join(dir, 'export.json');
    const r = await runHerd(['run', '-q', '--summary-trend-stats', 'avg,p(99),count', '--summary-export', file, path.join(dir, 's.js')]);
    assert.equal(r.code, 0, r.stderr);
    const exp = JSON.parse(readFileSync(file, 'utf8')) as { metrics: Record<string, Record<string, number>> };
    assert.deepEqual(Object.keys(exp.metrics['http_req_duration'] ?? {}).sort(), ['avg', 'count', 'p(99)']);
    assert.equal(exp.metrics['http_req_duration']?.['count'], 2);
    const line = r.stdout.split('\n').find((l) => l.includes('http_req_duration'));
    assert.ok(line !== undefined, r.stdout);
    assert.match(line, /avg=\S+ +p\(99\)=\S+ +count=2/);
    assert.doesNotMatch(line, /med=|p\(95\)=/);
  });

  it('--quiet prints no progress line; without it the progress line is on stderr', async () => {
    const dir = tempDir();
    const script = path.join(dir, 's.js');
    writeFileSync(script, 'export const options = { iterations: 1 };\nexport default function () {}\n');
    const loud = await runHerd(['run', '--no-summary', script]);
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /running \(.*\), \d+\/1 VUs, 1 complete and 0 interrupted iterations/);
    const quiet = await runHerd(['run', '--quiet', '--no-summary', script]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /running \(/);
  });

  it('--no-summary prints no summary on stdout', async () => {
    const dir = tempDir({ 's.js': httpScript() });
    const withSummary = await runHerd(['run', '-q', path.join(dir, 's.js')]);
    assert.equal(withSummary.code, 0, withSummary.stderr);
    assert.match(withSummary.stdout, /http_reqs/);
    const without = await runHerd(['run', '-q', '--no-summary', path.join(dir, 's.js')]);
    assert.equal(without.code, 0, without.stderr);
    assert.equal(without.stdout.trim(), '');
  });

  it('--no-color prints no ANSI escapes, even when NO_COLOR is not set', async () => {
    const dir = tempDir({ 's.js': httpScript() });
    const r = await runHerd(['run', '--no-color', path.join(dir, 's.js')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /http_reqs/);
    assert.doesNotMatch(r.stdout, /\x1b/);
    assert.doesNotMatch(r.stderr, ANSI_SGR);
  });

  it('--no-color turns the colors off on a terminal, where they are on by default', { skip: !existsSync('/usr/bin/script') && 'needs util-linux script(1) for a pseudo-terminal' }, async () => {
    const dir = tempDir({ 's.js': httpScript() });
    // script(1) runs herd on a pseudo-terminal, so stdout and stderr are TTYs. The spawn is
    // asynchronous: the target answering herd's requests lives in this process.
    const onTerminal = async (flags: string): Promise<string> => {
      const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(HERD_BIN)} run ${flags} ${JSON.stringify(path.join(dir, 's.js'))}`;
      const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: herdEnv({ TERM: 'xterm' }), stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const [code] = (await once(child, 'close')) as [number | null];
      clearTimeout(timer);
      assert.equal(code, 0, out);
      return out;
    };
    const colored = await onTerminal('');
    assert.match(colored, ANSI_SGR, 'colors are on by default on a terminal');
    const plain = await onTerminal('--no-color');
    assert.match(plain, /http_reqs/);
    assert.doesNotMatch(plain, ANSI_SGR);
  });
});
