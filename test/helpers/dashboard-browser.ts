// What the dashboard browser tests share: a herd server and demo target in child processes,
// Debian's Chromium driven by playwright-core, console-error collection and screenshots.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { herdEnv, HERD_BIN } from './herd-process.js';

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium';
/** The repository root (this file runs from dist/test/helpers/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Where screenshots go; kept by CI as artifacts (gitignored). */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'artifacts', 'screenshots');
/** The admin token the test server is started with. */
export const ADMIN_TOKEN = 'dashboard-test-admin-token';

/**
 * Why the browser tests cannot run here, or undefined when they can. Without Chromium they are
 * skipped with this reason, except in CI (CI=true), where a missing browser is a failure.
 */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM)) {
    if (!existsSync(path.join(REPO_ROOT, 'web', 'dist', 'index.html'))) {
      throw new Error('web/dist is not built: run `npm run build:web` first');
    }
    return undefined;
  }
  if (process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing and CI=true: install it with apt-get install -y chromium`);
  return `${CHROMIUM} is missing (apt-get install -y chromium); dashboard browser tests skipped`;
}

/** A child process that printed a URL it listens on. */
export interface Listening {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

function startListening(args: readonly string[], env: Record<string, string>, pattern: RegExp): Promise<Listening> {
  const child = spawn(process.execPath, [HERD_BIN, ...args], { env: herdEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`herd ${args.join(' ')} did not start within 20s:\n${out}`));
    }, 20_000);
    const onData = (d: Buffer) => {
      out += d.toString('utf8');
      const m = pattern.exec(out);
      if (m?.[1] === undefined) return;
      clearTimeout(timer);
      resolve({
        child, url: m[1], output: () => out,
        stop: () => new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }),
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`herd ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
}

/** `herd server` on a free port with a fresh data directory and short health settings. */
export async function startServer(): Promise<Listening & { dataDir: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'herd-dashboard-'));
  const server = await startListening(
    ['server', '--port', '0', '--data-dir', dataDir, '--heartbeat', '500ms', '--launch-timeout', '20s'],
    { HERD_ADMIN_TOKEN: ADMIN_TOKEN }, /herd server listening on (http:\/\/\S+)/,
  );
  return {
    ...server, dataDir,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `herd target` (the demo target) on a free port. */
export function startTarget(): Promise<Listening> {
  return startListening(['target', '--port', '0'], {}, /listening on (http:\/\/\S+)/);
}

/** Chromium with a fresh profile, and the errors its pages print. */
export interface Browser {
  readonly context: BrowserContext;
  /** Console errors and uncaught page errors seen so far, in any page of the context. */
  readonly errors: string[];
  newPage(width?: number, height?: number): Promise<Page>;
  close(): Promise<void>;
}

/** Starts Debian's Chromium headless with a fresh user-data-dir. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'herd-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console error on ${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error on ${page.url()}: ${e.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context, errors,
    newPage: async (width = 1280, height = 800) => {
      const page = await context.newPage();
      await page.setViewportSize({ width, height });
      return page;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot under artifacts/screenshots/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Page width beyond the viewport (0 when nothing overflows horizontally). */
export function horizontalOverflow(page: Page): Promise<number> {
  // Code run in the page is passed as text: this project compiles without the DOM library.
  return page.evaluate<number>('Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth');
}

/** GET on the server's API with the admin token. */
export async function apiGet<T>(server: { url: string }, pathname: string): Promise<T> {
  const res = await fetch(`${server.url}/api/v1${pathname}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (!res.ok) throw new Error(`GET ${pathname}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Waits until the chart titled `title` shows at least `minPoints` points (seconds of data). */
export async function waitForChartData(page: Page, title: string, minPoints = 1, timeoutMs = 20_000): Promise<number> {
  // Polled from here: a waitForFunction predicate given as text would need 'unsafe-eval',
  // which the dashboard's Content-Security-Policy rightly refuses.
  const until = Date.now() + timeoutMs;
  for (;;) {
    const points = Number(await page.getAttribute(`[data-chart=${JSON.stringify(title)}]`, 'data-points') ?? 0);
    if (points >= minPoints) return points;
    if (Date.now() > until) throw new Error(`chart ${title} has no data after ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Records, per run id, every status badge the runs table ever shows (statuses pass within
 * milliseconds, faster than a test can poll); read back with `seenStatuses`.
 */
export async function recordStatuses(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    const seen = {};
    window.seenStatuses = seen;
    const tbody = document.querySelector('[data-testid="runs-table"] tbody');
    new MutationObserver((records) => {
      for (const r of records) {
        const tr = r.target.closest ? r.target.closest('tr[data-run-id]') : null;
        for (const n of r.addedNodes) {
          // A whole row added is read when this callback runs, after later changes: only the
          // cells and badges added (which keep the content they were added with) count.
          if (!(n instanceof HTMLElement) || n.matches('tr')) continue;
          const id = tr?.dataset.runId;
          if (id === undefined) continue;
          for (const b of [...(n.matches('.status') ? [n] : []), ...n.querySelectorAll('.status')]) {
            const list = (seen[id] ??= []);
            if (list.at(-1) !== b.textContent) list.push(b.textContent ?? '');
          }
        }
      }
    }).observe(tbody, { childList: true, subtree: true });
  })()`);
}

/** The statuses `recordStatuses` saw for a run, in order (consecutive repeats collapsed). */
export function seenStatuses(page: Page, runId: string): Promise<string[]> {
  return page.evaluate<string[]>(`window.seenStatuses[${JSON.stringify(runId)}] ?? []`);
}
