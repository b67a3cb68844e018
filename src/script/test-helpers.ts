// Shared by this folder's tests: fixture locations, throwaway scripts and a fake k6 host.
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InstanceHost } from './index.js';

/** The built-in module names the compat corpus may import. */
export const BUILTINS: readonly string[] = [
  'k6', 'k6/http', 'k6/metrics', 'k6/execution', 'k6/data', 'k6/encoding', 'k6/crypto', 'k6/ws', 'k6/websockets', 'k6/timers',
];

/** The repository root (found from the compiled test's location, wherever outDir puts it). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test');
    dir = up;
  }
  return dir;
}

/** The fixture folder src/script/testdata. */
export function testdata(...parts: string[]): string {
  return join(repoRoot(), 'src', 'script', 'testdata', ...parts);
}

/** Writes `files` (relative path → text) into a fresh temporary folder and returns the folder. */
export async function writeScripts(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herd-script-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

/** A fake per-VU host: k6 and k6/http whose blocking calls resolve after `delayMs`, logging start and end. */
export interface FakeHost extends InstanceHost {
  log: string[];
  state: { iter: number; vu: number };
  opened: unknown[][];
}

/** Creates a FakeHost; http.get(url) resolves after delayMs to { status: 200, url, json() }. */
export function fakeHost(delayMs = 15, vu = 1): FakeHost {
  const log: string[] = [];
  const opened: unknown[][] = [];
  const state = { iter: 0, vu };
  const later = <T>(label: string, value: T): Promise<T> => {
    log.push(`start ${label}`);
    return new Promise((resolve) => setTimeout(() => {
      log.push(`end ${label}`);
      resolve(value);
    }, delayMs));
  };
  const response = (method: string, url: string) => ({
    status: 200,
    url,
    method,
    json(selector?: string) {
      const doc = { url, items: [{ name: 'apple' }, { name: 'bread' }], token: `t-${url}` };
      return selector === undefined ? doc : (doc as Record<string, unknown>)[selector];
    },
  });
  const http = {
    get: (url: string) => later(`GET ${url}`, response('GET', url)),
    post: (url: string) => later(`POST ${url}`, response('POST', url)),
    request: (method: string, url: string) => later(`${method} ${url}`, response(method, url)),
    asyncRequest: (method: string, url: string) => later(`${method} ${url}`, response(method, url)),
  };
  const k6 = {
    sleep: (s: number) => later(`sleep ${s}`, undefined),
    group: async (name: string, fn: () => unknown) => {
      log.push(`group ${name}`);
      return await fn();
    },
    check: async (v: unknown, sets: Record<string, (x: unknown) => unknown>) => {
      let ok = true;
      for (const [name, fn] of Object.entries(sets)) {
        const r = await fn(v);
        log.push(`check ${name} ${r === true ? 'pass' : 'fail'}`);
        ok &&= r === true;
      }
      return ok;
    },
  };
  const modules: Record<string, Record<string, unknown>> = {
    k6: { default: k6, ...k6 },
    'k6/http': { default: http, ...http },
  };
  return {
    log,
    state,
    opened,
    require(spec: string) {
      const m = modules[spec];
      if (m === undefined) return {};
      return m;
    },
    globals: {
      __ENV: { TARGET: 'http://target' },
      get __VU() {
        return state.vu;
      },
      get __ITER() {
        return state.iter;
      },
      open: (...args: unknown[]) => {
        opened.push(args);
        return 'file-content';
      },
      console: { log: (...a: unknown[]) => log.push(`console ${a.join(' ')}`) },
    },
  };
}
