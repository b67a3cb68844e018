// The dashboard in a real browser (Debian's Chromium via playwright-core) against a real
// `herd server`, its embedded load generator and the demo target: sign-in by link, a run
// followed live from Queued to Finished, abort from the UI, tables checked against the API,
// the other pages, narrow and wide windows, screenshots, and no console errors anywhere.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  ADMIN_TOKEN, apiGet, browserSkipReason, horizontalOverflow, launchBrowser, recordStatuses, screenshot, SCREENSHOT_DIR, seenStatuses, startServer,
  startTarget, waitForChartData, type Browser, type Listening,
} from './helpers/dashboard-browser.js';
import { spawnHerd, tempDir } from './helpers/herd-process.js';

const SCRIPT = `
import http from 'k6/http';
import { check, group, sleep } from 'k6';

export const options = {
  vus: 3,
  duration: '8s',
  thresholds: {
    http_req_duration: ['p(95)<5000', { threshold: 'max<60000', abortOnFail: true }],
    'http_req_duration{name:catalog}': ['p(95)<5000'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.5'],
  },
};

export default function () {
  group('catalog', () => {
    const res = http.get(__ENV.TARGET + '/json', { tags: { name: 'catalog' } });
    check(res, { 'catalog answers 200': (r) => r.status === 200 });
  });
  const missing = http.get(__ENV.TARGET + '/status/404');
  check(missing, { 'missing page is 404': (r) => r.status === 404 });
  sleep(0.2);
}
`;

interface ApiRun { id: string; testId: string; status: { code: number; name: string }; result: string | null; lastChange: { reason: string; message: string } }
interface SummaryGroup { name: string; groups: SummaryGroup[]; checks: { name: string; passes: number; fails: number }[] }

const skip = browserSkipReason();

describe('dashboard', { skip: skip ?? false, timeout: 180_000 }, () => {
  let server: Listening & { dataDir: string };
  let target: Listening;
  let browser: Browser;
  let finishedRun: ApiRun;
  let abortedRunId: string;

  before(async () => {
    [server, target] = await Promise.all([startServer(), startTarget()]);
    browser = await launchBrowser();
    process.stdout.write(`# dashboard screenshots: ${SCREENSHOT_DIR}\n`);
  });
  after(async () => {
    await browser?.close();
    await Promise.all([server?.stop(), target?.stop()]);
  });

  const signedIn = async (route = '/runs', width = 1280, height = 800): Promise<Page> => {
    const page = await browser.newPage(width, height);
    await page.goto(`${server.url}/#token=${ADMIN_TOKEN}&to=${route}`);
    return page;
  };
  const noErrors = () => assert.deepEqual(browser.errors, [], 'no console errors');

  test('opening /#token=… signs in and takes the token out of the address bar', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#token=${ADMIN_TOKEN}`);
    await page.waitForSelector('h1:text("Test runs")');
    assert.equal(new URL(page.url()).hash, '#/runs');
    assert.ok(!page.url().includes(ADMIN_TOKEN));
    // about:blank and the app: signing in replaced the entry holding the token instead of adding one.
    assert.equal(await page.evaluate<number>('history.length'), 2);
    await page.close();
    noErrors();
  });

  test('a run started with the CLI goes Queued → Initializing → Running → Finished live, with chart data while Running', async () => {
    const list = await signedIn('/runs');
    await list.waitForSelector('#live[data-live="open"]');
    // Statuses flash by within milliseconds: record every badge the list ever shows, per run.
    await recordStatuses(list);

    const dir = tempDir({ 'browse.js': SCRIPT });
    const cli = spawnHerd(['cloud', 'run', '-e', `TARGET=${target.url}`, path.join(dir, 'browse.js')], {
      env: { HERD_HOST: server.url, HERD_TOKEN: ADMIN_TOKEN }, timeoutMs: 90_000,
    });
    const runId = await waitFor(() => /run (\d+): /.exec(cli.output.stderr + cli.output.stdout)?.[1], 20_000, () => cli.output.stderr);

    await list.waitForSelector(`tr[data-run-id="${runId}"] .status[data-status-code="2"]`, { timeout: 30_000 });
    const runPage = await signedIn(`/runs/${runId}`);
    await runPage.waitForSelector('#run-status .status');
    await waitForChartData(runPage, 'Requests/s', 3);
    assert.equal(await runPage.textContent('#run-status'), 'Running (2)', 'chart data arrives while the run is Running');
    assert.ok(Number(await runPage.getAttribute('[data-chart="http_req_duration"]', 'data-points')) > 0);
    await screenshot(runPage, 'run-page-running');

    await list.waitForSelector(`tr[data-run-id="${runId}"] .status[data-status-code="3"]`, { timeout: 40_000 });
    await runPage.waitForSelector('#run-status .status[data-status-code="3"]', { timeout: 10_000 });
    const result = await cli.done;
    assert.equal(result.code, 99, `thresholds failed (http_req_failed), so the CLI exits 99:\n${result.stderr}`);

    const seen = await seenStatuses(list, runId);
    const order = ['Queued (0)', 'Initializing (1)', 'Running (2)', 'Finished (3)'];
    assert.deepEqual(seen.filter((s) => order.includes(s)), order, `statuses seen live in the list: ${seen.join(' → ')}`);
    assert.equal(await list.textContent(`tr[data-run-id="${runId}"] .result-cell`), 'failed');

    finishedRun = await apiGet<ApiRun>(server, `/runs/${runId}`);
    assert.equal(finishedRun.status.code, 3);
    await list.close();
    await runPage.close();
    noErrors();
  });

  test('the thresholds, checks and HTTP tables of the run page match the API', async () => {
    const page = await signedIn(`/runs/${finishedRun.id}`);
    await page.waitForSelector('[data-testid="thresholds"] tr.threshold');
    await page.waitForSelector('[data-testid="checks"] tr');
    const { thresholds } = await apiGet<{ thresholds: { metric: string; expression: string; passed: boolean; abortOnFail: boolean }[] }>(server, `/runs/${finishedRun.id}/thresholds`);
    assert.equal(thresholds.length, 5);
    assert.equal(await page.locator('[data-testid="thresholds"] tr.threshold').count(), thresholds.length);
    for (const t of thresholds) {
      const row = page.locator(`[data-testid="thresholds"] tr[data-metric="${t.metric}"][data-expression="${t.expression}"]`);
      const cells = await row.locator('td').allTextContents();
      assert.equal(cells[3], t.passed ? 'pass' : 'fail', `${t.metric} ${t.expression}`);
      assert.equal(cells[4]?.includes('abortOnFail'), t.abortOnFail, `${t.metric} ${t.expression} abortOnFail`);
      assert.notEqual(cells[2], '—', `${t.metric} ${t.expression} shows its value`);
    }
    assert.equal(await page.locator('[data-testid="thresholds"] tr.aborted-run').count(), 0, 'nothing aborted this run');

    const { summary } = await apiGet<{ summary: { root_group: SummaryGroup } }>(server, `/runs/${finishedRun.id}/summary`);
    const checks: { group: string; name: string; passes: number; fails: number }[] = [];
    const walk = (g: SummaryGroup, names: string[]) => {
      for (const c of g.checks) checks.push({ group: names.length === 0 ? '(no group)' : names.join(' › '), ...c });
      for (const s of g.groups) walk(s, [...names, s.name]);
    };
    walk(summary.root_group, []);
    assert.deepEqual(checks.map((c) => c.name).sort(), ['catalog answers 200', 'missing page is 404']);
    for (const c of checks) {
      const cells = await page.locator(`[data-testid="checks"] tr[data-check="${c.name}"]`).locator('td').allTextContents();
      assert.deepEqual(cells.slice(0, 4), [c.group, c.name, c.passes.toLocaleString('en-US'), c.fails.toLocaleString('en-US')]);
    }
    assert.equal(checks.find((c) => c.name === 'catalog answers 200')?.group, 'catalog');
    const http = await page.locator('[data-testid="http"] tbody tr').allTextContents();
    assert.ok(http.some((r) => r.startsWith('all requests')), http.join('\n'));
    assert.ok(http.some((r) => r.startsWith('catalog')), `the name:catalog sub-metric has a row: ${http.join('\n')}`);
    await page.close();
    noErrors();
  });

  test('a run started with "Run again" and aborted from the UI ends Aborted by user (5) with its reason', async () => {
    const page = await signedIn('/new');
    await page.click(`button[data-test-id="${finishedRun.testId}"]`);
    await page.waitForURL(/#\/runs\/\d+$/);
    abortedRunId = /#\/runs\/(\d+)$/.exec(page.url())?.[1] ?? '';
    assert.notEqual(abortedRunId, finishedRun.id);
    await page.waitForSelector('#run-status .status[data-status-code="2"]', { timeout: 30_000 });
    await page.click('#abort');
    await page.waitForSelector('dialog[data-testid="confirm"][open]');
    await page.click('#confirm-ok');
    await page.waitForSelector('#run-status .status[data-status-code="5"]', { timeout: 15_000 });
    assert.equal(await page.textContent('#run-status'), 'Aborted by user (5)');
    const reason = await page.textContent('[data-testid="reason"]');
    assert.match(reason ?? '', /Aborted by user \(5\) — user_abort: aborted by the user/);
    await page.waitForSelector('[data-testid="timeline"] tr[data-reason="user_abort"]');
    assert.equal(await page.locator('#abort').count(), 0, 'no Abort button on an ended run');
    const run = await apiGet<ApiRun>(server, `/runs/${abortedRunId}`);
    assert.equal(run.status.code, 5);
    assert.equal(run.lastChange.reason, 'user_abort');
    await screenshot(page, 'run-page-aborted');
    await page.close();
    noErrors();
  });

  test('the run page and runs list render at 1280×800 and 400px wide without horizontal overflow', async () => {
    for (const [width, label] of [[1280, 'wide'], [400, 'narrow']] as const) {
      const run = await signedIn(`/runs/${finishedRun.id}`, width, 800);
      await run.waitForSelector('[data-testid="checks"] tr');
      await waitForChartData(run, 'Requests/s');
      assert.equal(await horizontalOverflow(run), 0, `run page at ${width}px`);
      const shot = await screenshot(run, `run-page-${label}`);
      process.stdout.write(`# screenshot: ${shot}\n`);
      const list = await signedIn('/runs', width, 800);
      await list.waitForSelector(`tr[data-run-id="${abortedRunId}"] .status[data-status-code="5"]`);
      assert.equal(await horizontalOverflow(list), 0, `runs list at ${width}px`);
      process.stdout.write(`# screenshot: ${await screenshot(list, `runs-list-${label}`)}\n`);
      await run.close();
      await list.close();
    }
    noErrors();
  });

  test('the runs list filters by status family', async () => {
    const page = await signedIn('/runs');
    await page.waitForSelector(`tr[data-run-id="${abortedRunId}"]`);
    await page.selectOption('select[name="status"]', 'aborted');
    await page.waitForSelector(`tr[data-run-id="${finishedRun.id}"]`, { state: 'detached' });
    assert.equal(await page.locator(`tr[data-run-id="${abortedRunId}"]`).count(), 1);
    await page.selectOption('select[name="status"]', '3');
    await page.waitForSelector(`tr[data-run-id="${abortedRunId}"]`, { state: 'detached' });
    assert.equal(await page.locator(`tr[data-run-id="${finishedRun.id}"]`).count(), 1);
    await page.selectOption('select[name="status"]', '');
    await page.close();
    noErrors();
  });

  test('the report downloads as one self-contained HTML file that opens offline', async () => {
    const page = await signedIn(`/runs/${finishedRun.id}`);
    await page.waitForSelector('[data-testid="checks"] tr');
    await waitForChartData(page, 'Requests/s');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#report')]);
    const file = path.join(SCREENSHOT_DIR, '..', `report-run-${finishedRun.id}.html`);
    await download.saveAs(file);
    const html = readFileSync(file, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 5, 'five charts as inline PNGs');
    assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'nothing loaded from the network');
    assert.match(html, /user_abort|completed/);
    assert.match(html, /catalog answers 200/);
    const offline = await browser.newPage();
    await offline.goto(`file://${file}`);
    assert.match(await offline.title(), new RegExp(`herd report: browse\\.js #${finishedRun.id}`));
    assert.equal(await offline.locator('table').count() >= 4, true);
    await offline.close();
    await page.close();
    noErrors();
  });

  test('compare, load zones, usage and tokens pages work', async () => {
    const page = await signedIn(`/compare/${finishedRun.id}/${abortedRunId}`);
    await page.waitForSelector('[data-testid="key-metrics"] tr');
    await waitForChartData(page, 'Requests/s');
    process.stdout.write(`# screenshot: ${await screenshot(page, 'compare')}\n`);

    await page.goto(`${server.url}/#/agents`);
    await page.waitForSelector('[data-testid="agents"] tr:has-text("local-1")');
    await page.goto(`${server.url}/#/usage`);
    await page.waitForSelector('[data-testid="usage"] tr:has-text("default")');

    await page.goto(`${server.url}/#/tokens`);
    await page.fill('input[name="name"]', 'ci-from-browser');
    await page.click('form button[type="submit"]');
    const secret = (await page.textContent('[data-testid="new-secret"] pre'))?.trim() ?? '';
    assert.ok(secret.length >= 20);
    const asNew = () => fetch(`${server.url}/api/v1/organizations`, { headers: { authorization: `Bearer ${secret}` } }).then((r) => r.status);
    assert.equal(await asNew(), 200);
    await page.click('tr[data-token-name="ci-from-browser"] button:text("Revoke")');
    await page.click('#confirm-ok');
    await page.waitForSelector('tr[data-token-name="ci-from-browser"]:has-text("revoked")');
    assert.equal(await asNew(), 401);

    for (const route of ['/agents', '/usage', '/tokens', '/new', `/compare/${finishedRun.id}/${abortedRunId}`]) {
      const narrow = await signedIn(route, 400, 800);
      await narrow.waitForSelector('main#main h1');
      await narrow.waitForLoadState('networkidle').catch(() => undefined);
      assert.equal(await horizontalOverflow(narrow), 0, `${route} at 400px`);
      await narrow.close();
    }
    await page.close();
    noErrors();
  });
});

async function waitFor<T>(get: () => T | undefined, timeoutMs: number, context: () => string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting; output so far:\n${context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}


