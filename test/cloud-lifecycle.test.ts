// End-to-end: every way a cloud run can end because of the script itself, through a real
// `herd server` (its SQLite store and embedded load generator), the real `herd cloud run` and the
// demo target: Finished (passed/failed), Aborted by script error, by limit, by threshold and by
// user, each with its status history, reason and k6's cloud exit code (issue 4, item 5).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { waitForText } from './helpers/herd-process.js';
import {
  codesOf, packScript, runIdOf, scriptDir, startHerdServer, STATUS, unparsableArchive, type ApiThreshold, type HerdServer,
} from './helpers/herd-server.js';

let server: HerdServer;
let target: RunningTarget;

before(async () => {
  [server, target] = await Promise.all([startHerdServer(), startTarget({ port: 0 })]);
});
after(async () => {
  await Promise.allSettled([server?.stop(), target?.close()]);
});

/** Writes `source` as script.js in a temp dir and runs `herd cloud run -e TARGET=… <it>`. */
async function cloudRun(source: string, extra: readonly string[] = [], timeoutMs = 60_000) {
  const dir = scriptDir({ 'script.js': source });
  const r = await server.cloud(['run', '-e', `TARGET=${target.url}`, ...extra, path.join(dir, 'script.js')], { timeoutMs });
  const id = runIdOf(r.stdout);
  return { ...r, id, run: await server.getRun(id), history: await server.history(id) };
}

/** The `Name (code)` lines `herd cloud run` printed while following. */
function statusLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => /^[A-Z][a-z]+( [a-z]+)* \(-?\d+\)$/.test(l));
}

const show = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

const PASSING = `
import http from 'k6/http';
import { check } from 'k6';
export const options = { vus: 2, iterations: 6, thresholds: { http_req_failed: ['rate==0'], checks: ['rate==1'] } };
export default function () {
  const res = http.get(\`\${__ENV.TARGET}/get\`);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
`;

describe('Finished', { concurrency: 2 }, () => {
  it('a passing run ends Finished with result passed, history Created → Validated → Queued → Initializing → Running → Finished, exit 0', async () => {
    const r = await cloudRun(PASSING);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(statusLines(r.stdout), ['Queued (0)', 'Initializing (1)', 'Running (2)', 'Finished (3)'], show(r));
    assert.match(r.stdout, /^Finished \(3\), result passed$/m);
    assert.match(r.stdout, /reason: completed — /);
    assert.equal(r.run.status.code, STATUS.Finished);
    assert.equal(r.run.status.name, 'Finished');
    assert.equal(r.run.result, 'passed');
    assert.deepEqual(codesOf(r.history), [STATUS.Created, STATUS.Validated, STATUS.Queued, STATUS.Initializing, STATUS.Running, STATUS.Finished]);
    assert.deepEqual(r.history.map((c) => c.status.name), ['Created', 'Validated', 'Queued', 'Initializing', 'Running', 'Finished']);
    assert.deepEqual(r.history.map((c) => c.reason), ['created', 'validated', 'queued', 'placed', 'started', 'completed']);
    const times = r.history.map((c) => Date.parse(c.at));
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `history times go back at ${i}: ${JSON.stringify(r.history)}`);
    assert.ok(r.run.startedAt !== null && r.run.endedAt !== null);
    const th = await server.api<{ thresholds: ApiThreshold[] }>('GET', `/api/v1/runs/${r.id}/thresholds`);
    assert.equal(th.status, 200);
    assert.deepEqual(th.body.thresholds.map((t) => `${t.metric} ${t.expression} ${t.passed}`).sort(), ['checks rate==1 true', 'http_req_failed rate==0 true']);
    const summary = await server.api<{ summary: { metrics: Record<string, { values: Record<string, number> }> } }>('GET', `/api/v1/runs/${r.id}/summary`);
    assert.equal(summary.body.summary.metrics['http_reqs']?.values['count'], 6);
    assert.equal(summary.body.summary.metrics['iterations']?.values['count'], 6);
  });

  it('a run whose threshold fails at the end is Finished with result failed, and herd cloud run exits 99', async () => {
    const r = await cloudRun(`
import http from 'k6/http';
export const options = { vus: 1, iterations: 3, thresholds: { http_reqs: ['count<2'], http_req_failed: ['rate==0'] } };
export default function () { http.get(\`\${__ENV.TARGET}/get\`); }
`);
    assert.equal(r.code, 99, show(r));
    assert.equal(r.run.status.code, STATUS.Finished);
    assert.equal(r.run.result, 'failed');
    assert.match(r.stdout, /^Finished \(3\), result failed$/m);
    assert.deepEqual(codesOf(r.history), [STATUS.Created, STATUS.Validated, STATUS.Queued, STATUS.Initializing, STATUS.Running, STATUS.Finished]);
    assert.match(r.run.lastChange.message, /http_reqs/, 'the reason names the crossed threshold');
    const th = await server.api<{ thresholds: ApiThreshold[] }>('GET', `/api/v1/runs/${r.id}/thresholds`);
    assert.deepEqual(th.body.thresholds.map((t) => `${t.metric} ${t.expression} ${t.passed}`).sort(), ['http_req_failed rate==0 true', 'http_reqs count<2 false']);
  });
});

describe('Aborted by script error', { concurrency: 3 }, () => {
  it('an upload that is not an archive ends Aborted by script error at once (Created → Aborted by script error), answered 201', async () => {
    const r = await server.submit(new TextEncoder().encode('this is not a tar.gz archive, just some text'));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.status.code, STATUS.AbortedByScriptError);
    assert.equal(r.body.status.name, 'Aborted by script error');
    assert.equal(r.body.lastChange.reason, 'script_error');
    assert.match(r.body.lastChange.message, /archive/);
    assert.deepEqual(codesOf(await server.history(r.body.id)), [STATUS.Created, STATUS.AbortedByScriptError]);
    assert.equal(r.body.startedAt, null);
  });

  it('an archive whose script does not parse ends Aborted by script error before it runs', async () => {
    const r = await server.submit(await unparsableArchive());
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const run = await server.waitEnded(r.body.id);
    assert.equal(run.status.code, STATUS.AbortedByScriptError, JSON.stringify(run));
    assert.match(run.lastChange.message, /compile|syntax|parse/i);
    const codes = codesOf(await server.history(run.id));
    assert.ok(!codes.includes(STATUS.Running), `never Running: ${codes.join(', ')}`);
    assert.equal(run.startedAt, null);
  });

  it('an archive whose script does not parse is refused at validation: Created → Aborted by script error, reason script_error', {
  }, async () => {
    const r = await server.submit(await unparsableArchive());
    const run = await server.waitEnded(r.body.id);
    assert.deepEqual(codesOf(await server.history(run.id)), [STATUS.Created, STATUS.AbortedByScriptError]);
    assert.equal(run.lastChange.reason, 'script_error');
  });

  it('init code that throws only on the generator ends Aborted by script error with the message and file:line, exit 97', async () => {
    // The CLI's local init sees the process environment (PATH is set); the generator's __ENV
    // holds only the -e values, so only the generator throws.
    const r = await cloudRun(`export const options = { vus: 1, iterations: 1 };
if (!__ENV.PATH) throw new Error('boom on generator');
export default function () {}
`);
    assert.equal(r.code, 97, show(r));
    assert.equal(r.run.status.code, STATUS.AbortedByScriptError);
    assert.match(r.stdout, /^Aborted by script error \(7\)$/m);
    assert.equal(r.run.lastChange.reason, 'init_error');
    assert.match(r.run.lastChange.message, /boom on generator/);
    assert.match(r.run.lastChange.message, /script\.js:2:\d+/, 'the message points at the line that threw');
    assert.match(r.stdout, /boom on generator/);
    const codes = codesOf(r.history);
    assert.ok(!codes.includes(STATUS.Running), `never Running: ${codes.join(', ')}`);
  });

  it('setup() that throws ends Aborted by script error before Running, exit 97', async () => {
    const r = await cloudRun(`export const options = { vus: 1, iterations: 1 };
export function setup() { throw new Error('setup went wrong'); }
export default function () {}
`);
    assert.equal(r.code, 97, show(r));
    assert.equal(r.run.status.code, STATUS.AbortedByScriptError);
    assert.equal(r.run.result, null);
    const codes = codesOf(r.history);
    assert.ok(!codes.includes(STATUS.Running), `never Running: ${codes.join(', ')}`);
  });

  it('setup() that throws gives reason setup_error and the error message with file:line', {
  }, async () => {
    const r = await cloudRun(`export const options = { vus: 1, iterations: 1 };
export function setup() { throw new Error('setup went wrong'); }
export default function () {}
`);
    assert.equal(r.run.lastChange.reason, 'setup_error');
    assert.match(r.run.lastChange.message, /setup went wrong/);
    assert.match(r.run.lastChange.message, /script\.js:2:\d+/);
  });

  it('exec.test.abort() ends Aborted by script error with reason script_abort and its message', {
  }, async () => {
    const r = await cloudRun(`import exec from 'k6/execution';
import { sleep } from 'k6';
export const options = { vus: 1, duration: '20s' };
export default function () { if (__ITER === 2) exec.test.abort('enough of this'); sleep(0.05); }
`);
    assert.equal(r.code, 97, show(r));
    assert.equal(r.run.status.code, STATUS.AbortedByScriptError);
    assert.match(r.run.lastChange.message, /enough of this/);
    assert.equal(r.run.lastChange.reason, 'script_abort');
  });
});

describe('Aborted by limit', { concurrency: 3 }, () => {
  it('more than 20,000 VUs ends Aborted by limit before it runs, the reason naming the VU limit, exit 97', async () => {
    const r = await cloudRun(`export const options = { vus: 20001, duration: '10s' };
export default function () {}
`);
    assert.equal(r.code, 97, show(r));
    assert.equal(r.run.status.code, STATUS.AbortedByLimit);
    assert.equal(r.run.status.name, 'Aborted by limit');
    assert.equal(r.run.lastChange.reason, 'limit_vus');
    assert.match(r.run.lastChange.message, /20,001/);
    assert.match(r.run.lastChange.message, /limit of 20,000 VUs/);
    assert.deepEqual(codesOf(r.history), [STATUS.Created, STATUS.AbortedByLimit]);
    assert.equal(r.run.startedAt, null);
  });

  it('more than 60 minutes ends Aborted by limit before it runs, the reason naming the duration limit', async () => {
    const r = await server.submit(await packScript(`export const options = { vus: 1, duration: '61m' };
export default function () {}
`));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.status.code, STATUS.AbortedByLimit);
    assert.equal(r.body.lastChange.reason, 'limit_duration');
    assert.match(r.body.lastChange.message, /limit of 1h/);
    const codes = codesOf(await server.history(r.body.id));
    assert.deepEqual(codes, [STATUS.Created, STATUS.AbortedByLimit]);
  });

  it('more than 40 groups is detected while running: Aborted by limit, reason naming the limit and advising fewer groups', async () => {
    const started = performance.now();
    const r = await cloudRun(`import { group, sleep } from 'k6';
export const options = { vus: 1, duration: '30s' };
export default function () {
  for (let i = 0; i < 41; i++) group(\`group \${i}\`, () => {});
  sleep(0.05);
}
`);
    assert.equal(r.code, 97, show(r));
    assert.equal(r.run.status.code, STATUS.AbortedByLimit);
    assert.equal(r.run.lastChange.reason, 'limit_groups');
    assert.match(r.run.lastChange.message, /groups/);
    assert.match(r.run.lastChange.message, /40/);
    assert.match(r.run.lastChange.message, /reduce their number/);
    assert.deepEqual(codesOf(r.history), [STATUS.Created, STATUS.Validated, STATUS.Queued, STATUS.Initializing, STATUS.Running, STATUS.AbortedByLimit]);
    assert.ok(performance.now() - started < 25_000, 'ended long before its 30s');
  });

  it('more than 10,000 metric time series (custom metric tags) is detected while running: Aborted by limit with the advice', async () => {
    const r = await cloudRun(`import { Counter } from 'k6/metrics';
import { sleep } from 'k6';
const things = new Counter('things');
export const options = { vus: 1, duration: '30s' };
export default function () {
  if (__ITER === 0) for (let i = 0; i <= 10000; i++) things.add(1, { id: String(i) });
  sleep(0.05);
}
`);
    assert.equal(r.code, 97, show(r));
    assert.equal(r.run.status.code, STATUS.AbortedByLimit);
    assert.equal(r.run.lastChange.reason, 'limit_series');
    assert.match(r.run.lastChange.message, /limit of 10,000/);
    assert.match(r.run.lastChange.message, /URL grouping/);
    assert.ok(codesOf(r.history).includes(STATUS.Running), 'detected while running');
  });

  it('unique URLs without URL grouping exceed 10,000 time series: Aborted by limit, advising URL grouping', async () => {
    // 2,000 distinct ?id= URLs: every URL makes a series of each HTTP metric, far over 10,000.
    const r = await cloudRun(`import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: 1, duration: '40s', discardResponseBodies: true };
export default function () {
  if (__ITER === 0) {
    const reqs = [];
    for (let i = 0; i < 2000; i++) reqs.push(['GET', \`\${__ENV.TARGET}/get?id=\${i}\`]);
    http.batch(reqs);
  }
  sleep(0.05);
}
`);
    assert.equal(r.code, 97, show(r));
    assert.equal(r.run.status.code, STATUS.AbortedByLimit, JSON.stringify(r.run.lastChange));
    assert.equal(r.run.lastChange.reason, 'limit_series');
    assert.match(r.run.lastChange.message, /time series/);
    assert.match(r.run.lastChange.message, /URL grouping/);
    assert.ok(codesOf(r.history).includes(STATUS.Running), 'detected while running');
  });

  it('the same unique URLs grouped with http.url (URL grouping, the advice of the reason) stay under the limit and finish', {
  }, async () => {
    const r = await cloudRun(`import http from 'k6/http';
export const options = { vus: 1, iterations: 1, discardResponseBodies: true };
export default function () {
  const reqs = [];
  for (let i = 0; i < 2000; i++) reqs.push(['GET', http.url\`\${__ENV.TARGET}/get?id=\${i}\`]);
  http.batch(reqs);
}
`);
    assert.equal(r.run.status.code, STATUS.Finished, JSON.stringify(r.run.lastChange));
    assert.equal(r.code, 0, show(r));
  });
});

describe('Aborted by threshold', () => {
  it('an abortOnFail threshold ends the run early as Aborted by threshold (8), result failed, exit 99', async () => {
    const started = performance.now();
    const r = await cloudRun(`import http from 'k6/http';
import { sleep } from 'k6';
export const options = {
  vus: 1, duration: '30s',
  thresholds: { http_req_failed: [{ threshold: 'rate==0', abortOnFail: true }], http_reqs: ['count>0'] },
};
export default function () { http.get(\`\${__ENV.TARGET}/status/500\`); sleep(0.1); }
`);
    assert.equal(r.code, 99, show(r));
    assert.equal(r.run.status.code, STATUS.AbortedByThreshold);
    assert.equal(r.run.status.name, 'Aborted by threshold');
    assert.equal(r.run.result, 'failed');
    assert.equal(r.run.lastChange.reason, 'thresholds_crossed');
    assert.match(r.run.lastChange.message, /rate==0/);
    assert.match(r.stdout, /^Aborted by threshold \(8\)$/m);
    assert.deepEqual(codesOf(r.history), [STATUS.Created, STATUS.Validated, STATUS.Queued, STATUS.Initializing, STATUS.Running, STATUS.AbortedByThreshold]);
    assert.ok(performance.now() - started < 25_000, 'ended long before its 30s');
    const ms = Date.parse(r.run.endedAt ?? '') - Date.parse(r.run.startedAt ?? '');
    assert.ok(ms < 20_000, `ran ${ms} ms of its 30s`);
    const th = await server.api<{ thresholds: ApiThreshold[] }>('GET', `/api/v1/runs/${r.id}/thresholds`);
    const crossed = th.body.thresholds.find((t) => t.metric === 'http_req_failed');
    assert.deepEqual({ passed: crossed?.passed, abortOnFail: crossed?.abortOnFail }, { passed: false, abortOnFail: true });
  });
});

const LONG = `import { sleep } from 'k6';
export const options = { vus: 2, duration: '30s' };
export default function () { sleep(0.1); }
`;

describe('Aborted by user', { concurrency: 2 }, () => {
  it('POST /runs/:id/abort on a Running run ends it Aborted by user (5), reason user_abort', async () => {
    const r = await server.submit(await packScript(LONG));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await server.waitRun(r.body.id, (x) => x.status.code === STATUS.Running);
    const aborted = await server.api<{ status: { code: number } }>('POST', `/api/v1/runs/${r.body.id}/abort`);
    assert.equal(aborted.status, 200, JSON.stringify(aborted.body));
    const run = await server.waitEnded(r.body.id, 10_000);
    assert.equal(run.status.code, STATUS.AbortedByUser);
    assert.equal(run.status.name, 'Aborted by user');
    assert.equal(run.lastChange.reason, 'user_abort');
    assert.deepEqual(codesOf(await server.history(run.id)).slice(-2), [STATUS.Running, STATUS.AbortedByUser]);
  });

  it('aborting a run that has already ended is answered 409, as the API documents', {
  }, async () => {
    const r = await server.submit(await packScript(`export const options = { vus: 20001, duration: '10s' };
export default function () {}
`));
    assert.equal(r.body.status.code, STATUS.AbortedByLimit, 'the run has ended');
    const again = await server.api<{ status?: { code: number } }>('POST', `/api/v1/runs/${r.body.id}/abort`);
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal((await server.getRun(r.body.id)).status.code, STATUS.AbortedByLimit, 'the run keeps its status');
  });

  it('SIGINT to herd cloud run aborts the run (Aborted by user, user_abort) and exits 105', async () => {
    const dir = scriptDir({ 'script.js': LONG });
    const p = server.spawnCloud(['run', path.join(dir, 'script.js')], { timeoutMs: 60_000 });
    await waitForText(() => p.output.stdout, 'Running (2)', 30_000);
    const id = runIdOf(p.output.stdout);
    p.child.kill('SIGINT');
    const r = await p.done;
    assert.equal(r.code, 105, show(r));
    assert.match(r.stdout, /^Aborted by user \(5\)$/m);
    const run = await server.getRun(id);
    assert.equal(run.status.code, STATUS.AbortedByUser);
    assert.equal(run.lastChange.reason, 'user_abort');
  });
});
