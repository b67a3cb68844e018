// Starts the real `herd server` in a child process (with its embedded load generator), talks
// to its REST API, and stops it with SIGINT. Shared by the cloud end-to-end tests (test/cloud-*.test.ts).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packRun } from '../../src/execution/index.js';
import { packArchive, unpackArchive } from '../../src/script/index.js';
import { runHerd, spawnHerd, type HerdResult, type HerdRunOptions } from './herd-process.js';

/** The admin token every test server is started with (HERD_ADMIN_TOKEN). */
export const ADMIN_TOKEN = 'secret';

/** Short server timeouts, so failure paths end in seconds. */
export const FAST_SETTINGS: Readonly<Record<string, string>> = {
  '--launch-timeout': '2s',
  '--agent-grace': '2s',
  '--run-timeout': '3s',
  '--heartbeat': '500ms',
};

/** A free TCP port on loopback (the server needs a fixed --port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A run as GET /api/v1/runs/:id returns it (the fields the tests read). */
export interface ApiRun {
  id: string;
  projectId: string;
  status: { code: number; name: string };
  result: 'passed' | 'failed' | null;
  lastChange: { status: { code: number; name: string }; at: string; reason: string; message: string };
  startedAt: string | null;
  endedAt: string | null;
  vus: number;
}

/** One entry of a run's history. */
export interface ApiChange {
  status: { code: number; name: string };
  at: string;
  reason: string;
  message: string;
}

/** A threshold outcome of GET /runs/:id/thresholds. */
export interface ApiThreshold {
  metric: string;
  expression: string;
  passed: boolean;
  abortOnFail: boolean;
}

/** An answer of the API: HTTP status and parsed JSON body (or text when not JSON). */
export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

/** A running `herd server`. */
export interface HerdServer {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** What the server printed so far. */
  output: { stdout: string; stderr: string };
  /** The pid of the embedded load generator, as printed at start. */
  agentPid: number;
  /** Calls the API with `token` (default: the admin token; null for none). */
  api<T = unknown>(method: string, urlPath: string, opts?: { token?: string | null; json?: unknown }): Promise<ApiAnswer<T>>;
  /** Uploads an archive (any bytes) as a new run: POST /api/v1/runs. */
  submit(archive: Uint8Array, opts?: { token?: string; projectId?: string; testName?: string }): Promise<ApiAnswer<ApiRun>>;
  /** GET /api/v1/runs/:id, throwing on anything but 200. */
  getRun(id: string, token?: string): Promise<ApiRun>;
  /** GET /api/v1/runs/:id/history → the changes. */
  history(id: string, token?: string): Promise<ApiChange[]>;
  /** Polls the run until `until(run)` holds; rejects after timeoutMs with the last state. */
  waitRun(id: string, until: (r: ApiRun) => boolean, timeoutMs?: number, token?: string): Promise<ApiRun>;
  /** Waits until the run has a final status (code ≥ 3). */
  waitEnded(id: string, timeoutMs?: number, token?: string): Promise<ApiRun>;
  /** The first project of the organization of `token`. */
  projectId(token?: string): Promise<string>;
  /** Runs `herd cloud <args>` against this server. */
  cloud(args: readonly string[], opts?: HerdRunOptions & { token?: string }): Promise<HerdResult>;
  /** Starts `herd cloud <args>` against this server without waiting for it. */
  spawnCloud(args: readonly string[], opts?: HerdRunOptions & { token?: string }): ReturnType<typeof spawnHerd>;
  /** Creates an organization (admin token), with `limits`, and a project in it; its admin token and project. */
  createOrg(name: string, limits?: Record<string, number>): Promise<{ orgId: string; token: string; projectId: string }>;
  /**
   * Waits until GET /api/v1/agents shows every agent healthy and, with `sinceMs`, heartbeating
   * at or after that time (epoch ms). The API's `healthy` only looks at the last heartbeat
   * (within 30 s), so after a restart pass `sinceMs` to wait for the new process.
   */
  waitAgentHealthy(timeoutMs?: number, sinceMs?: number): Promise<void>;
  /** Waits until the embedded agent, killed or exited, has been started again and heartbeats. */
  waitAgentRestarted(timeoutMs?: number): Promise<void>;
  /** Stops the server with SIGINT and waits for it to exit (SIGKILL after 10 s). */
  stop(): Promise<HerdResult>;
}

/** Options of a test server. */
export interface StartServerOptions {
  /** Reuse a data directory (a second server on the same data resumes). */
  dataDir?: string;
  /** Server flags like FAST_SETTINGS (flag → value); FAST_SETTINGS by default. */
  settings?: Readonly<Record<string, string>>;
  /** Extra flags. */
  args?: readonly string[];
  /** Ms to wait for the listening line. */
  startTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `herd server` on a free port, waits for its listening line and for its agent to be
 * healthy. The port is picked before the server binds it, so a port taken meanwhile is retried.
 */
export async function startHerdServer(opts: StartServerOptions = {}): Promise<HerdServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'herd-server-'));
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts, dataDir, await freePort());
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(e))) throw e;
    }
  }
}

async function startOnce(opts: StartServerOptions, dataDir: string, port: number): Promise<HerdServer> {
  const settings = opts.settings ?? FAST_SETTINGS;
  const flags: string[] = ['server', '--port', String(port), '--data-dir', dataDir];
  for (const [k, v] of Object.entries(settings)) flags.push(k, v);
  flags.push(...(opts.args ?? []));
  // The server lives for the whole test file; the spawn helper's kill timer is set far out.
  // HERD_TEST_SERVER_DEBUG=herd:runs,herd:agent traces the server and its embedded agent (their stderr, in `output`).
  const debug = process.env['HERD_TEST_SERVER_DEBUG'];
  const proc = spawnHerd(flags, { env: { HERD_ADMIN_TOKEN: ADMIN_TOKEN, ...(debug === undefined ? {} : { NODE_DEBUG: debug }) }, timeoutMs: 30 * 60_000 });
  const until = performance.now() + (opts.startTimeoutMs ?? 20_000);
  let url: string | undefined;
  let agentPid: number | undefined;
  while (url === undefined || agentPid === undefined) {
    const listening = /herd server listening on (\S+)/.exec(proc.output.stdout);
    const pid = /load generator: \S+ in zone \S+ \(pid (\d+)\)/.exec(proc.output.stdout);
    if (listening?.[1] !== undefined) url = listening[1];
    if (pid?.[1] !== undefined) agentPid = Number(pid[1]);
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`herd server exited before listening:\n${proc.output.stdout}\n${proc.output.stderr}`);
    }
    if (performance.now() > until) {
      proc.child.kill('SIGKILL');
      throw new Error(`herd server did not print its listening line and agent pid:\n${proc.output.stdout}\n${proc.output.stderr}`);
    }
    await sleep(20);
  }
  const base = url;

  const api = async <T>(method: string, urlPath: string, o: { token?: string | null; json?: unknown } = {}): Promise<ApiAnswer<T>> => {
    const headers: Record<string, string> = {};
    const token = o.token === undefined ? ADMIN_TOKEN : o.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    let body: string | undefined;
    if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    }
    const res = await fetch(new URL(urlPath, base), { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T };
  };

  const projectId = async (token: string = ADMIN_TOKEN): Promise<string> => {
    const r = await api<{ projects: Array<{ id: string }> }>('GET', '/api/v1/projects', { token });
    const id = r.body.projects?.[0]?.id;
    if (r.status !== 200 || id === undefined) throw new Error(`no project: ${r.status} ${JSON.stringify(r.body)}`);
    return id;
  };

  const submit = async (archive: Uint8Array, o: { token?: string; projectId?: string; testName?: string } = {}): Promise<ApiAnswer<ApiRun>> => {
    const token = o.token ?? ADMIN_TOKEN;
    const form = new FormData();
    form.set('projectId', o.projectId ?? (await projectId(token)));
    form.set('testName', o.testName ?? 'e2e');
    form.set('archive', new Blob([archive]), 'archive.tar.gz');
    const res = await fetch(new URL('/api/v1/runs', base), { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as ApiRun };
  };

  const getRun = async (id: string, token?: string): Promise<ApiRun> => {
    const r = await api<ApiRun>('GET', `/api/v1/runs/${id}`, { token: token ?? ADMIN_TOKEN });
    if (r.status !== 200) throw new Error(`GET run ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  const history = async (id: string, token?: string): Promise<ApiChange[]> => {
    const r = await api<{ changes: ApiChange[] }>('GET', `/api/v1/runs/${id}/history`, { token: token ?? ADMIN_TOKEN });
    if (r.status !== 200) throw new Error(`GET history ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.changes;
  };

  const waitRun = async (id: string, until: (r: ApiRun) => boolean, timeoutMs = 20_000, token?: string): Promise<ApiRun> => {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const run = await getRun(id, token);
      if (until(run)) return run;
      if (performance.now() > end) {
        throw new Error(`run ${id} did not reach the awaited state in ${timeoutMs} ms; it is ${run.status.name} (${run.status.code}): `
          + `${run.lastChange.reason} — ${run.lastChange.message}`);
      }
      await sleep(100);
    }
  };

  const cloudOpts = (o: HerdRunOptions & { token?: string } = {}): HerdRunOptions => ({
    ...o,
    env: { HERD_HOST: base, HERD_TOKEN: o.token ?? ADMIN_TOKEN, ...(o.env ?? {}) },
    timeoutMs: o.timeoutMs ?? 40_000,
  });

  const createOrg = async (name: string, limits?: Record<string, number>): Promise<{ orgId: string; token: string; projectId: string }> => {
    const r = await api<{ organization: { id: string }; adminToken: { secret: string } }>('POST', '/api/v1/organizations', {
      json: { name, ...(limits === undefined ? {} : { limits }) },
    });
    if (r.status !== 201) throw new Error(`POST /api/v1/organizations: ${r.status} ${JSON.stringify(r.body)}`);
    const token = r.body.adminToken.secret;
    const p = await api<{ id: string }>('POST', '/api/v1/projects', { token, json: { name: `${name} project` } });
    if (p.status !== 201) throw new Error(`POST /api/v1/projects: ${p.status} ${JSON.stringify(p.body)}`);
    return { orgId: r.body.organization.id, token, projectId: p.body.id };
  };

  const waitAgentHealthy = async (timeoutMs = 15_000, sinceMs = 0): Promise<void> => {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const r = await api<{ agents: Array<{ id: string; healthy: boolean; lastHeartbeatAt: string | null }> }>('GET', '/api/v1/agents');
      const fresh = (a: { lastHeartbeatAt: string | null }) => a.lastHeartbeatAt !== null && Date.parse(a.lastHeartbeatAt) >= sinceMs;
      if (r.status === 200 && r.body.agents.length > 0 && r.body.agents.every((a) => a.healthy && fresh(a))) return;
      if (performance.now() > end) throw new Error(`no healthy agent after ${timeoutMs} ms: ${JSON.stringify(r.body)}`);
      await sleep(100);
    }
  };

  let restartsSeen = 0;
  const waitAgentRestarted = async (timeoutMs = 20_000): Promise<void> => {
    // herd server prints this when its agent stops, and starts a new one 1 s later.
    const needle = 'the embedded load generator stopped';
    const count = () => proc.output.stderr.split(needle).length - 1;
    const end = performance.now() + timeoutMs;
    while (count() <= restartsSeen) {
      if (performance.now() > end) throw new Error(`the server did not notice its agent stop:\n${proc.output.stderr}`);
      await sleep(20);
    }
    restartsSeen = count();
    // Any heartbeat from 1 s after that line on comes from the new process.
    await waitAgentHealthy(Math.max(1000, end - performance.now()), Date.now() + 1200);
  };

  let stopped: Promise<HerdResult> | undefined;
  const server: HerdServer = {
    createOrg,
    waitAgentHealthy,
    waitAgentRestarted,
    url: base,
    port,
    dataDir,
    child: proc.child,
    output: proc.output,
    agentPid,
    api,
    submit,
    getRun,
    history,
    waitRun,
    waitEnded: (id, timeoutMs, token) => waitRun(id, (r) => r.status.code >= 3, timeoutMs, token),
    projectId,
    cloud: (args, o) => runHerd(['cloud', ...args], cloudOpts(o)),
    spawnCloud: (args, o) => spawnHerd(['cloud', ...args], cloudOpts(o)),
    stop() {
      stopped ??= (async () => {
        if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGINT');
        const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
        const r = await proc.done;
        clearTimeout(timer);
        return r;
      })();
      return stopped;
    },
  };
  // Runs submitted before the embedded generator registers would wait for it (and, with a short
  // launch timeout, end Aborted by system): start only once it is healthy.
  try {
    await waitAgentHealthy(opts.startTimeoutMs ?? 20_000);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

/** Writes `files` (name → content) into a fresh temp dir and returns it. */
export function scriptDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herd-cloud-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

/** Statuses by name, as the seed gives their codes. */
export const STATUS = {
  Created: -2, Validated: -1, Queued: 0, Initializing: 1, Running: 2, Finished: 3, TimedOut: 4,
  AbortedByUser: 5, AbortedBySystem: 6, AbortedByScriptError: 7, AbortedByThreshold: 8, AbortedByLimit: 9,
} as const;

/** Whether the process with this pid is alive (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Packs `source` (written to a temp dir as script.js) into a run archive as `herd cloud run`
 * would, in this process: faster than the CLI for runs the tests submit through the API.
 * `env` are the -e values (they travel in the archive).
 */
export async function packScript(source: string, env: Record<string, string> = {}): Promise<Uint8Array> {
  const dir = scriptDir({ 'script.js': source });
  const packed = await packRun({
    entry: path.join(dir, 'script.js'),
    env,
    userEnv: env,
    layers: [],
    cacheDir: path.join(dir, 'cache'),
    logger: { log() {} },
  });
  return packed.archive;
}

/**
 * A well-formed archive (valid gzip, tar and metadata) whose script does not parse: a packed
 * script with a syntax error appended to its code, as a broken or hand-made upload would be.
 */
export async function unparsableArchive(): Promise<Uint8Array> {
  const good = await packScript("export const options = { vus: 1, iterations: 1 };\nexport default function () {}\n");
  const a = await unpackArchive(good);
  const broken = '\nfunction ( {';
  return packArchive({
    entry: a.metadata.entry,
    artifact: { ...a.artifact, code: a.artifact.code + broken, bundleCode: a.artifact.bundleCode + broken },
    options: a.metadata.options,
    env: a.metadata.env,
    files: a.files,
    herdVersion: a.metadata.herdVersion,
  });
}

/** The run id `herd cloud run` printed (`run N: URL`). */
export function runIdOf(stdout: string): string {
  const m = /^run (\S+): /m.exec(stdout);
  if (m?.[1] === undefined) throw new Error(`no run id in:\n${stdout}`);
  return m[1];
}

/** The status codes of a history, oldest first. */
export function codesOf(changes: readonly ApiChange[]): number[] {
  return changes.map((c) => c.status.code);
}
