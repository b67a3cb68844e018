#!/usr/bin/env node
// A benchmark of herd's control plane (not of the load engine: see run.mjs for that): a real
// `herd server` (bin/herd.js, built dist/) with NATS JetStream and PostgreSQL (or SQLite), fed
// by simulated load generators that speak herd's agent protocol through herd's own NATS
// transport code, while 0 and then 100 clients follow the run's live events over SSE.
//
// It measures
//   - metric ingestion: series-seconds the server merged per CPU-second it used (series × the
//     seconds the batches covered, over the server process tree's utime+stime from /proc), and
//     whether it keeps up: how long the oldest batch the server had not merged yet had waited
//     (from the run's live `progress` events), and how long the run took to finish after the
//     last batch was sent;
//   - API latency: p50/p99 of GET /api/v1/runs/{id} and GET /api/v1/runs/{id}/metrics/http_reqs
//     at a fixed request rate (autocannon -R), with 0 followers and with 100 followers of the
//     run's live events, in the same run.
//
// Everything is on loopback, bounded in time, and every process it starts is stopped in the
// end (also on failure or Ctrl+C). Settings: CP_BENCH_* environment variables (README.md).

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer, connect as tcpConnect } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem, userInfo } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const HERD = join(ROOT, 'bin', 'herd.js');
const DIST = join(ROOT, 'dist', 'src');
const AUTOCANNON = join(BENCH_DIR, 'node_modules', 'autocannon', 'autocannon.js');
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`[control-plane] ${msg}\n`);

// ---------------------------------------------------------------- settings

function int(env, name, dflt, min) {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

function readSettings(env) {
  const seconds = int(env, 'CP_BENCH_SECONDS', 40, 3);
  return {
    // How long the agents send metrics (the run's constant-vus duration). The phases below are
    // cut from it; a run too short for them is lengthened (printed).
    seconds,
    agents: int(env, 'CP_BENCH_AGENTS', 3, 1),
    // Distinct series per agent per batch: half http_req_duration (trend), half http_reqs
    // (counter), one per URL (distinct `name` and `url` tags), plus the `iterations` counter.
    series: int(env, 'CP_BENCH_SERIES', 5000, 2),
    // Requests each series stands for per second (samples per trend series per batch).
    samplesPerSeries: int(env, 'CP_BENCH_SAMPLES', 4, 1),
    followers: int(env, 'CP_BENCH_FOLLOWERS', 100, 0),
    apiRate: int(env, 'CP_BENCH_API_RATE', 100, 1),
    apiConnections: int(env, 'CP_BENCH_API_CONNECTIONS', 5, 1),
    nats: env.CP_BENCH_NATS ?? 'nats://127.0.0.1:4222',
    // `sqlite`, or a postgres:// URL of an existing database through which a fresh database is
    // created for the run (and dropped after it). Default: PostgreSQL on loopback if it answers.
    database: env.CP_BENCH_DATABASE ?? 'auto',
    // Pin the server to core 1 and this process (agents, followers, autocannon) to core 0, so
    // the server's CPU time is its own and "per core" means one core.
    pin: (env.CP_BENCH_PIN ?? '1') !== '0' && cpus().length >= 2,
    results: resolve(env.CP_BENCH_RESULTS ?? join(BENCH_DIR, 'results')),
    cpuProf: env.CP_BENCH_CPU_PROF ? resolve(env.CP_BENCH_CPU_PROF) : null,
  };
}

// ---------------------------------------------------------------- /proc

function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name: [0] state (3), [1] ppid (4), [11] utime (14), [12] stime (15), [13] cutime, [14] cstime.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch { return null; }
}

/** CPU ticks of `pid`, its waited-for children, and its live descendants. */
function treeTicks(pid) {
  const own = statFields(pid);
  if (own === null) return null;
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  const parents = new Set([pid]);
  // One pass per generation is enough for the shallow trees here (the server, maybe esbuild).
  for (let depth = 0; depth < 3; depth++) {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || parents.has(Number(name))) continue;
      const f = statFields(name);
      if (f !== null && parents.has(Number(f[1]))) {
        parents.add(Number(name));
        ticks += Number(f[11]) + Number(f[12]);
      }
    }
  }
  return ticks;
}

/** Pids whose command name is `comm` (to report nats-server's and postgres' CPU beside herd's). */
function pidsNamed(comm) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try { if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === comm) out.push(Number(name)); } catch { /* gone */ }
  }
  return out;
}

function ticksOf(pids) {
  let t = 0;
  for (const p of pids) {
    const f = statFields(p);
    if (f !== null) t += Number(f[11]) + Number(f[12]);
  }
  return t;
}

function machineTicks() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + (line[4] ?? 0);
  return { busy: line.slice(0, 8).reduce((a, b) => a + b, 0) - idle };
}

/** A CPU snapshot of everything this benchmark tells apart. */
function cpuSnapshot(ctx) {
  return {
    at: performance.now(),
    server: treeTicks(ctx.server.pid) ?? 0,
    nats: ticksOf(ctx.natsPids),
    postgres: ticksOf(pidsNamed('postgres')),
    bench: treeTicks(process.pid) ?? 0,
    machine: machineTicks().busy,
  };
}

/** CPU use between two snapshots: seconds, and % of one core. */
function cpuBetween(a, b) {
  const wallS = (b.at - a.at) / 1000;
  const s = (k) => (b[k] - a[k]) / CLK_TCK;
  const pct = (k) => (100 * s(k)) / wallS;
  return {
    wallS,
    serverCpuS: s('server'),
    serverCpuPct: pct('server'),
    natsCpuPct: pct('nats'),
    postgresCpuPct: pct('postgres'),
    benchCpuPct: pct('bench'),
    // Everyone else on the machine (other sessions' work), in % of one core.
    othersCpuPct: Math.max(0, pct('machine') - pct('server') - pct('nats') - pct('postgres') - pct('bench')),
  };
}

// ---------------------------------------------------------------- processes

const children = new Set();

function killTree(child, signal) {
  try { process.kill(-child.pid, signal); } catch { try { child.kill(signal); } catch { /* gone */ } }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function reachable(host, port) {
  return new Promise((res) => {
    const s = tcpConnect({ host, port });
    s.setTimeout(1000, () => { s.destroy(); res(false); });
    s.once('connect', () => { s.destroy(); res(true); });
    s.once('error', () => res(false));
  });
}

const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`);
const commandLine = (argv) => argv.map(quote).join(' ');

/** Starts `herd server` (pinned to core 1), waits for its listening line. */
async function startServer(ctx) {
  const port = await freePort();
  const args = [
    HERD, 'server', '--port', String(port), '--host', '127.0.0.1', '--data-dir', join(ctx.tmp, 'data'), '--no-agent',
    '--nats', ctx.settings.nats, '--nats-prefix', ctx.prefix,
    ...(ctx.databaseUrl === null ? [] : ['--database', ctx.databaseUrl]),
    // Generous timeouts: a server that falls behind should show it in the figures, not end the run.
    '--launch-timeout', '30s', '--agent-grace', '20s', '--run-timeout', '60s', '--heartbeat', '1s',
  ];
  // CP_BENCH_CPU_PROF=<dir>: V8 CPU profile of the server, written when it stops (open it in Chrome DevTools).
  const prof = ctx.settings.cpuProf === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${ctx.settings.cpuProf}`];
  const node = [process.execPath, ...prof, ...args];
  const argv = ctx.settings.pin ? ['taskset', '-c', '1', ...node] : node;
  // taskset execs node in place, so the child's pid is the server's.
  const child = spawn(argv[0], argv.slice(1), {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HERD_ADMIN_TOKEN: ctx.token },
  });
  children.add(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c) => { out.stdout += c; });
  child.stderr.on('data', (c) => { if (out.stderr.length < 1 << 20) out.stderr += c; });
  const until = performance.now() + 30_000;
  let url;
  while (url === undefined) {
    url = /herd server listening on (\S+)/.exec(out.stdout)?.[1];
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`herd server exited at start:\n${out.stdout}\n${out.stderr}`);
    if (performance.now() > until) throw new Error(`herd server did not listen within 30 s:\n${out.stdout}\n${out.stderr}`);
    await sleep(20);
  }
  return {
    pid: child.pid, url, port, output: out, command: commandLine(['HERD_ADMIN_TOKEN=…', ...argv.map((a) => (a === process.execPath ? 'node' : a === HERD ? 'bin/herd.js' : a))]),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise((r) => child.once('close', r));
      killTree(child, 'SIGINT');
      const t = setTimeout(() => killTree(child, 'SIGKILL'), 10_000);
      await done;
      clearTimeout(t);
      children.delete(child);
    },
  };
}

/** Runs autocannon (pinned to core 0) at a fixed rate; its JSON. */
async function autocannon(ctx, path, durationS) {
  const argv = [
    process.execPath, AUTOCANNON, '-c', String(ctx.settings.apiConnections), '-R', String(ctx.settings.apiRate),
    '-d', String(durationS), '-H', `authorization=Bearer ${ctx.token}`, '-j', `${ctx.server.url}${path}`,
  ];
  const full = ctx.settings.pin ? ['taskset', '-c', '0', ...argv] : argv;
  const child = spawn(full[0], full.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const killer = setTimeout(() => killTree(child, 'SIGKILL'), (durationS + 30) * 1000);
  const code = await new Promise((r) => child.once('close', r));
  clearTimeout(killer);
  children.delete(child);
  let parsed = null;
  try { parsed = JSON.parse(stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? ''); } catch { /* below */ }
  if (code !== 0 || parsed === null) throw new Error(`autocannon failed (exit ${code}):\n${stderr.slice(-2000)}`);
  const shown = commandLine(full.map((a) => (a === process.execPath ? 'node' : a === AUTOCANNON ? 'bench/node_modules/autocannon/autocannon.js' : a)))
    .replace(ctx.token, '$TOKEN');
  return {
    command: shown,
    requests: parsed.requests.total,
    rps: parsed.requests.total / parsed.duration,
    p50Ms: parsed.latency.p50,
    p90Ms: parsed.latency.p90,
    p99Ms: parsed.latency.p99,
    maxMs: parsed.latency.max,
    errors: parsed.errors + parsed.timeouts + (parsed.non2xx ?? 0),
  };
}

// ---------------------------------------------------------------- the API

async function api(ctx, method, path, body) {
  const res = await fetch(`${ctx.server.url}${path}`, { method, headers: { authorization: `Bearer ${ctx.token}` }, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return json;
}

/**
 * Follows the live events of the organization (runId null) or of one run over SSE, with its own
 * socket, as a dashboard or `herd cloud run` would; counts what it gets.
 */
function follow(ctx, runId, onEvent) {
  const f = { connected: false, events: 0, progress: 0, bytes: 0, finishedAt: null, error: null, req: null };
  let buf = '';
  const path = `/api/v1/events${runId === null ? '' : `?runId=${runId}`}`;
  const opened = new Promise((resolveOpen, rejectOpen) => {
    f.req = http.get({ host: '127.0.0.1', port: ctx.server.port, path, agent: false, headers: { authorization: `Bearer ${ctx.token}` } }, (res) => {
      if (res.statusCode !== 200) {
        rejectOpen(new Error(`GET ${path}: ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (!f.connected) {
          f.connected = true;
          resolveOpen();
        }
        f.bytes += chunk.length;
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type === undefined || data === undefined) continue;
          f.events++;
          let ev;
          try { ev = JSON.parse(data); } catch { f.error = `not JSON: ${data.slice(0, 200)}`; continue; }
          if (type === 'progress') f.progress++;
          if (type === 'status' && ev.status?.code >= 3 && f.finishedAt === null) f.finishedAt = Date.now();
          onEvent?.(type, ev);
        }
      });
    });
    f.req.on('error', (e) => {
      f.error = e.message;
      rejectOpen(e);
    });
  });
  f.opened = opened;
  f.close = () => f.req.destroy();
  return f;
}

// ---------------------------------------------------------------- the simulated agents

/**
 * A load generator as src/agent/agent.ts and assignment.ts behave, over herd's own NATS agent
 * transport (dist/cloud/transport/nats.js: the same subjects, JetStream publishing and durable
 * consumer as `herd agent --nats`), without running a script: instead of VUs, each second it
 * records `samplesPerSeries` requests on each of its URLs into herd's Collector and sends the
 * period's batch (Collector.flushPeriod, the MetricsBatch a real agent sends).
 */
class SimAgent {
  constructor(ctx, mods, id, transport) {
    this.ctx = ctx;
    this.m = mods;
    this.id = id;
    this.transport = transport;
    this.seq = 0;
    this.runId = null;
    this.stopped = false;
    this.timers = new Set();
    this.cpu = process.cpuUsage();
    this.cpuAt = performance.now();
  }

  start() {
    this.transport.onMessage((msg) => this.onMessage(msg));
    this.transport.send({ type: 'register', agentId: this.id, zone: 'local', capacity: 1000, version: this.m.HERD_VERSION });
    this.beat();
    this.every(1000, () => this.beat());
  }

  every(ms, fn) {
    const t = setInterval(fn, ms);
    this.timers.add(t);
  }

  beat() {
    const used = process.cpuUsage(this.cpu);
    const now = performance.now();
    const pct = ((used.user + used.system) / 1000 / (now - this.cpuAt)) * 100 / cpus().length;
    this.cpu = process.cpuUsage();
    this.cpuAt = now;
    this.transport.send({
      type: 'heartbeat', agentId: this.id, cpuPercent: Math.min(100, Math.max(0, pct)),
      memoryUsedBytes: process.memoryUsage().rss, memoryLimitBytes: totalmem(), runs: this.runId === null ? [] : [this.runId],
    });
  }

  onMessage(msg) {
    const base = { runId: msg.runId, agentId: this.id };
    switch (msg.type) {
      case 'assign': {
        if (this.runId === msg.runId) return;
        this.runId = msg.runId;
        this.prepare(msg.tags);
        this.transport.send({ type: 'initialized', ...base, counts: { active: 0, initialized: 1, completed: 0, interrupted: 0 } });
        return;
      }
      case 'setup':
        this.transport.send({ type: 'setupDone', ...base });
        return;
      case 'start':
        this.ctx.startAt ??= msg.startAt;
        void this.runFor(msg.startAt).catch((e) => { this.ctx.agentError ??= e; });
        return;
      case 'teardown':
        this.transport.send({ type: 'teardownDone', ...base, seq: ++this.seq, batch: this.collector.flushPeriod(Date.now()), groups: new this.m.GroupTree().root });
        return;
      case 'stop':
        this.stopped = true;
        this.ctx.stopMessage ??= `${msg.reason}: ${msg.message}`;
        return;
    }
  }

  /** The agent's Collector and its URLs' tag sets, as an engine's samples would carry them. */
  prepare(runTags) {
    const { Collector, MetricRegistry, defineBuiltinMetrics, TagSet } = this.m;
    const registry = new MetricRegistry();
    this.metrics = defineBuiltinMetrics(registry);
    this.collector = new Collector(registry);
    const common = { ...runTags, scenario: 'default', group: '' };
    const http = TagSet.from({ ...common, method: 'GET', proto: 'HTTP/1.1', status: '200', expected_response: 'true' });
    this.urls = [];
    const n = Math.ceil(this.ctx.settings.series / 2);
    for (let i = 0; i < n; i++) {
      const url = `http://127.0.0.1:8080/api/items/${i}`;
      this.urls.push(http.with('name', url).with('url', url));
    }
    this.iterationTags = TagSet.from(common);
  }

  /** One second's samples, flushed as that period's batch. */
  record() {
    const { http_req_duration: duration, http_reqs: reqs, iterations } = this.metrics;
    const k = this.ctx.settings.samplesPerSeries;
    let n = 0;
    for (let i = 0; i < this.urls.length; i++) {
      const tags = this.urls[i];
      for (let j = 0; j < k; j++) {
        // Response times around 20 ms with a tail, so trends hold distinct values.
        this.collector.add(duration, tags, 5 + 30 * Math.random() ** 3 + Math.random());
        this.collector.add(reqs, tags, 1);
        this.collector.add(iterations, this.iterationTags, 1);
        n++;
      }
    }
    return { batch: this.collector.flushPeriod(Date.now()), requests: n };
  }

  /** What the series limit counts (assignment.ts limitSeries: tag sets without `url`). */
  limitSeries() {
    let n = 0;
    for (const metric of this.collector.observedMetrics()) {
      const seen = new Set();
      this.collector.forEachSeries(metric, (tags) => seen.add(tags.without('url')));
      n += seen.size;
    }
    return n;
  }

  async runFor(startAt) {
    const base = { runId: this.runId, agentId: this.id };
    const seconds = this.ctx.runSeconds;
    await sleep(Math.max(0, startAt - Date.now()));
    // The period starts at the common start, as the engine's does.
    this.collector.flushPeriod(Date.now());
    for (let s = 1; s <= seconds && !this.stopped; s++) {
      await sleep(Math.max(0, startAt + s * 1000 - Date.now()));
      if (this.stopped) break;
      const { batch } = this.record();
      const seriesCount = this.limitSeries();
      for (const chunk of this.ctx.split(batch)) {
        const sent = { agent: this.id, seq: ++this.seq, at: Date.now(), ...chunk.stats };
        this.transport.send({
          type: 'metrics', ...base, seq: sent.seq, batch: chunk.batch,
          counts: { active: 1, initialized: 1, completed: 0, interrupted: 0 }, groupCount: 0, seriesCount,
        });
        this.ctx.sent.push(sent);
      }
    }
    this.ctx.lastSendAt = Math.max(this.ctx.lastSendAt ?? 0, Date.now());
    this.transport.send({
      type: 'done', ...base, seq: ++this.seq, batch: this.collector.flushPeriod(Date.now()), groups: new this.m.GroupTree().root,
      counts: { active: 0, initialized: 1, completed: 0, interrupted: 0 },
    });
  }

  async close() {
    for (const t of this.timers) clearInterval(t);
    await this.transport.close();
  }
}

/**
 * Splits a batch into batches whose message stays below NATS's max_payload (every chunk keeps
 * the period; the control plane merges each by itself, and the per-second points add up the
 * same). herd's own agent sends one message per second whatever its size: see the README.
 * Each chunk's stats say what it carries: series, series-seconds, and requests (`iterations`).
 */
function splitter(maxBytes) {
  return (batch) => {
    const periodS = (batch.endMs - batch.startMs) / 1000;
    const stats = (b) => {
      let series = 0;
      let iterations = 0;
      for (const m of b.metrics) {
        series += m.series.length;
        if (m.name === 'iterations') for (const s of m.series) iterations += s.aggregate.sum;
      }
      return { series, seriesSeconds: series * periodS, iterations, bytes: 0 };
    };
    const whole = JSON.stringify(batch).length;
    // The message wraps the batch in ~300 bytes of envelope.
    if (whole + 1024 <= maxBytes) return [{ batch, stats: { ...stats(batch), bytes: whole, wholeBytes: whole, parts: 1 } }];
    const parts = Math.ceil((whole + 1024) / (maxBytes * 0.9));
    // Every part gets an equal slice of each metric's series.
    const chunks = Array.from({ length: parts }, () => ({ startMs: batch.startMs, endMs: batch.endMs, metrics: [] }));
    const iterations = batch.metrics.find((m) => m.name === 'iterations');
    for (const m of batch.metrics) {
      if (m === iterations) continue;
      const per = Math.ceil(m.series.length / parts);
      for (let p = 0; p < parts; p++) {
        const series = m.series.slice(p * per, (p + 1) * per);
        if (series.length > 0) chunks[p].metrics.push({ ...m, series });
      }
    }
    // The one `iterations` series (one iteration per request) is split by the requests each part
    // carries, so that the run's merged iterations (in its live progress events) tell which parts
    // the server has merged. The totals are unchanged.
    if (iterations !== undefined) {
      for (const c of chunks) {
        let n = 0;
        for (const m of c.metrics) if (m.name === 'http_reqs') for (const s of m.series) n += s.aggregate.samples;
        if (n > 0) c.metrics.push({ ...iterations, series: [{ tags: iterations.series[0].tags, aggregate: { type: 'counter', samples: n, sum: n } }] });
      }
    }
    return chunks.map((c) => {
      const bytes = JSON.stringify(c).length;
      if (bytes + 1024 > maxBytes) throw new Error(`a part of a split batch is ${bytes} bytes, above NATS max_payload ${maxBytes}`);
      return { batch: c, stats: { ...stats(c), bytes, wholeBytes: whole, parts } };
    });
  };
}

// ---------------------------------------------------------------- analysis

const quantile = (sorted, q) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);

/**
 * From the progress events (server time `at`, iterations merged so far) and what was sent:
 * for each event, the age of the oldest batch sent but not merged yet (0 when caught up), and
 * the series-seconds merged so far. A batch counts as merged once the merged iterations reach
 * the running total of iterations sent up to it (batches of one agent merge in order; those of
 * different agents interleave, so this is exact to within one batch).
 */
function analyseProgress(sent, progress) {
  const ordered = [...sent].sort((a, b) => a.at - b.at);
  let cumIt = 0;
  let cumSS = 0;
  const cum = ordered.map((s) => ({ at: s.at, it: (cumIt += s.iterations), ss: (cumSS += s.seriesSeconds) }));
  return progress.map((p) => {
    let merged = 0;
    let ss = 0;
    let oldestWaiting = null;
    for (const c of cum) {
      if (c.it <= p.iterations) {
        merged++;
        ss = c.ss;
      } else {
        if (c.at <= p.at) oldestWaiting = c.at;
        break;
      }
    }
    return { ...p, mergedBatches: merged, seriesSeconds: ss, lagMs: oldestWaiting === null ? 0 : p.at - oldestWaiting };
  });
}

/** Ingestion between two moments (performance.now()), from progress events and CPU snapshots taken with them. */
function ingestionWindow(points, fromMs, toMs) {
  const inside = points.filter((p) => p.perf >= fromMs && p.perf <= toMs);
  if (inside.length < 2) return null;
  const a = inside[0];
  const b = inside[inside.length - 1];
  const cpu = cpuBetween(a.cpu, b.cpu);
  const ss = b.seriesSeconds - a.seriesSeconds;
  const lags = inside.map((p) => p.lagMs).sort((x, y) => x - y);
  return {
    ...cpu,
    seriesSeconds: ss,
    seriesSecondsPerS: ss / cpu.wallS,
    seriesSecondsPerCpuS: cpu.serverCpuS > 0 ? ss / cpu.serverCpuS : null,
    lagP50Ms: quantile(lags, 0.5),
    lagMaxMs: lags[lags.length - 1],
  };
}

// ---------------------------------------------------------------- report

const fmt = (n, digits = 0) => (n === null || n === undefined || Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')).join('\n');
}

function report(r) {
  const s = r.settings;
  const lines = [];
  lines.push(`herd control-plane bench — ${r.environment.herdCommit?.slice(0, 12) ?? '?'}${r.environment.herdWorkTreeChanged ? ' (work tree changed)' : ''}, node ${r.environment.node}, ${r.environment.cpus} CPUs, store ${r.store}, NATS ${s.nats}${s.pin ? ', server on core 1, agents/followers/autocannon on core 0' : ', unpinned'}`);
  lines.push(`command: ${r.command}`);
  lines.push(`server:  ${r.serverCommand}`);
  lines.push(`load average at start ${r.environment.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}, at end ${r.environment.loadavgAtEnd.map((x) => x.toFixed(2)).join(' ')} (the machine is shared: "others" = CPU of every other process, % of one core)`);
  lines.push('');
  const b = r.batches;
  lines.push(`ingestion: ${s.agents} agents × ${fmt(b.seriesPerBatch)} series (${fmt(Math.ceil(s.series / 2))} URLs × http_req_duration + http_reqs, + iterations), 1 batch/s each for ${r.runSeconds} s; `
    + `${fmt(b.batchBytes / 1024)} KiB per batch${b.parts > 1 ? `, sent as ${b.parts} messages (NATS max_payload ${fmt(b.maxPayload / 1024)} KiB)` : ''}`);
  const ing = [['window', 'wall s', 'series-s merged', 'series-s/s', 'server CPU%', 'series-s per CPU-s', 'lag p50 ms', 'lag max ms', 'nats CPU%', 'pg CPU%', 'others CPU%']];
  for (const [name, w] of Object.entries(r.ingestion.windows)) {
    if (w === null) { ing.push([name, '—', '—', '—', '—', '—', '—', '—', '—', '—', '—']); continue; }
    ing.push([name, fmt(w.wallS, 1), fmt(w.seriesSeconds), fmt(w.seriesSecondsPerS), fmt(w.serverCpuPct, 1), fmt(w.seriesSecondsPerCpuS),
      fmt(w.lagP50Ms), fmt(w.lagMaxMs), fmt(w.natsCpuPct, 1), fmt(w.postgresCpuPct, 1), fmt(w.othersCpuPct, 1)]);
  }
  lines.push(table(ing));
  if (Object.values(r.ingestion.windows).some((w) => w === null)) {
    lines.push('—: fewer than two progress events in that window: the server emits them from its periodic check, which waits in the run\'s queue behind unmerged batches');
  }
  const whole = r.ingestion.wholeRun;
  lines.push(`whole run (first batch sent → run ended, API load included): ${fmt(whole.seriesSeconds)} series-seconds, server ${fmt(whole.serverCpuS, 2)} CPU-s over ${fmt(whole.wallS, 1)} s `
    + `→ ${fmt(whole.seriesSecondsPerCpuS)} series-seconds per CPU-second; idle server (agents heartbeating, no run) ${fmt(r.idle.serverCpuPct, 1)}% CPU`);
  lines.push(`keeps up: run ${r.run.finalStatus} ${fmt(r.ingestion.drainMs)} ms after the last batch was sent (done → teardown → Finished); `
    + `merged: http_reqs ${fmt(r.ingestion.check.httpReqsMerged)} of ${fmt(r.ingestion.check.httpReqsSent)} sent, points of http_reqs sum ${fmt(r.ingestion.check.pointsSum)}`);
  lines.push('');
  lines.push(`API latency at ${s.apiRate} req/s over ${s.apiConnections} connections (autocannon -R), while the run is live`);
  const apiRows = [['request', 'followers', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'req/s', 'errors', 'server CPU%', 'others CPU%']];
  for (const a of r.api) apiRows.push([`${a.name}${a.runLive ? '' : ' (run over)'}`, String(a.followers), fmt(a.p50Ms, 1), fmt(a.p90Ms, 1), fmt(a.p99Ms, 1), fmt(a.maxMs, 1), fmt(a.rps), fmt(a.errors), fmt(a.cpu.serverCpuPct, 1), fmt(a.cpu.othersCpuPct, 1)]);
  lines.push(table(apiRows));
  for (const name of [...new Set(r.api.map((a) => a.name))]) {
    const zero = r.api.find((a) => a.name === name && a.followers === 0);
    const many = r.api.find((a) => a.name === name && a.followers > 0);
    if (zero && many && zero.p99Ms > 0) lines.push(`${name}: p99 with ${many.followers} followers / with 0 = ${fmt(many.p99Ms / zero.p99Ms, 2)}`);
  }
  const f = r.followers;
  if (f.count > 0) {
    lines.push(`followers: ${f.count} SSE streams of the run, ${f.errors} errors; events per follower min ${f.eventsMin} max ${f.eventsMax}; `
      + `final status reached all of them within ${fmt(f.finishedSpreadMs)} ms (${f.sawFinished}/${f.count} saw it)`);
  }
  lines.push('');
  lines.push('commands (TOKEN = the admin token of that run):');
  for (const a of r.api) lines.push(`  ${a.command}`);
  return lines.join('\n');
}

function environment() {
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'bin', 'bench'], { encoding: 'utf8' });
  return {
    node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, herdCommit: git.stdout.trim() || null,
    herdWorkTreeChanged: dirty.stdout.trim() !== '', loadavgAtStart: loadavg(), clkTck: CLK_TCK,
  };
}

// ---------------------------------------------------------------- main

async function loadHerd() {
  if (!existsSync(join(DIST, 'cloud', 'transport', 'nats.js'))) throw new Error('herd is not built: run `npx tsc -p tsconfig.json && node web/build.mjs` (or npm run build) first');
  const imp = (p) => import(pathToFileURL(join(DIST, p)).href);
  const [metrics, nats, subjects, execution, config] = await Promise.all([
    imp('metrics/index.js'), imp('cloud/transport/nats.js'), imp('cloud/transport/nats-subjects.js'), imp('execution/index.js'), imp('config/index.js'),
  ]);
  return { ...metrics, ...nats, ...subjects, ...execution, HERD_VERSION: config.HERD_VERSION };
}

async function prepareDatabase(ctx) {
  const want = ctx.settings.database;
  if (want === 'sqlite') return null;
  const baseUrl = new URL(want === 'auto' ? 'postgres://127.0.0.1:5432/test' : want);
  // node-postgres takes the user from $USER, which a bare environment (CI, a test runner) may lack.
  if (baseUrl.username === '') baseUrl.username = process.env.PGUSER ?? process.env.USER ?? userInfo().username;
  const base = baseUrl.toString();
  if (want === 'auto' && !(await reachable('127.0.0.1', 5432))) {
    log('no PostgreSQL at 127.0.0.1:5432: using SQLite (CP_BENCH_DATABASE=sqlite to choose it)');
    return null;
  }
  const pg = (await import('pg')).default;
  const name = `herd_cpbench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try { await admin.query(`create database ${name}`); } finally { await admin.end(); }
  ctx.cleanup.push(async () => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    try { await c.query(`drop database if exists ${name} with (force)`); } finally { await c.end(); }
  });
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

async function packArchive(ctx, mods) {
  const dir = join(ctx.tmp, 'script');
  mkdirSync(dir, { recursive: true });
  // What the simulated agents stand for; the server validates and plans it (3 VUs → one per
  // agent), but they do not run it.
  writeFileSync(join(dir, 'script.js'), `import http from 'k6/http';
export const options = { scenarios: { default: { executor: 'constant-vus', vus: ${ctx.settings.agents}, duration: '${ctx.runSeconds}s', gracefulStop: '0s' } } };
export default function () { http.get(\`http://127.0.0.1:8080/api/items/\${Math.floor(Math.random() * ${Math.ceil(ctx.settings.series / 2)})}\`); }
`);
  const packed = await mods.packRun({ entry: join(dir, 'script.js'), env: {}, userEnv: {}, layers: [], cacheDir: join(dir, 'cache'), logger: { log() {} } });
  return packed.archive;
}

async function main() {
  const settings = readSettings(process.env);
  const envShown = Object.entries(process.env).filter(([k]) => k.startsWith('CP_BENCH_')).map(([k, v]) => `${k}=${quote(v)} `).join('');
  const command = `${envShown}node ${relative(process.cwd(), fileURLToPath(import.meta.url)) || 'bench/control-plane.mjs'}`;
  if (!existsSync(AUTOCANNON)) throw new Error('autocannon is not installed in bench/: run `npm --prefix bench ci`');
  const natsUrl = new URL(settings.nats);
  if (!(await reachable(natsUrl.hostname, Number(natsUrl.port || 4222)))) throw new Error(`no NATS server at ${settings.nats} (start one with \`nats-server -js\`)`);
  const mods = await loadHerd();
  if (settings.pin) spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

  // Phases inside the live run: ingestion alone (I s); the API with 0 followers (two requests, W s
  // of autocannon each, ~2 s to start it); the followers connect; the API with them. W is cut
  // from CP_BENCH_SECONDS; a run too short for the phases is lengthened (and says so).
  const W = Math.max(1, Math.floor((settings.seconds - 14) / 5));
  const I = Math.max(2, W);
  const ctx = {
    settings, mods, cleanup: [], sent: [], progress: [], token: randomBytes(16).toString('hex'),
    prefix: `cpbench_${process.pid}_${randomBytes(3).toString('hex')}`, tmp: mkdtempSync(join(tmpdir(), 'herd-cpbench-')),
    runSeconds: Math.max(settings.seconds, I + 4 * (W + 2) + 3), natsPids: pidsNamed('nats-server'),
  };
  if (ctx.runSeconds > settings.seconds) log(`the run lasts ${ctx.runSeconds} s (not ${settings.seconds}) to hold the phases of ${W} s each`);
  const deadline = setTimeout(() => {
    log('hard deadline reached: stopping');
    for (const c of children) killTree(c, 'SIGKILL');
    process.exit(2);
  }, (ctx.runSeconds * 3 + 180) * 1000);
  deadline.unref();
  const onSignal = (code) => () => {
    for (const c of children) killTree(c, 'SIGKILL');
    process.exit(code);
  };
  process.once('SIGINT', onSignal(130));
  process.once('SIGTERM', onSignal(143));

  const agents = [];
  const followers = [];
  let observer;
  const results = { startedAt: new Date().toISOString(), command, settings, environment: environment() };
  try {
    ctx.databaseUrl = await prepareDatabase(ctx);
    results.store = ctx.databaseUrl === null ? 'SQLite' : 'PostgreSQL (fresh database)';
    ctx.server = await startServer(ctx);
    ctx.cleanup.unshift(() => ctx.server.stop());
    results.serverCommand = ctx.server.command;
    log(`server at ${ctx.server.url} (pid ${ctx.server.pid}), store ${results.store}, NATS prefix ${ctx.prefix}`);
    // Only the stream of this run's prefix is deleted at the end (others share the NATS server).
    ctx.cleanup.push(async () => {
      const { connect } = await import('nats');
      const nc = await connect({ servers: settings.nats });
      try { await (await nc.jetstreamManager()).streams.delete(mods.natsStreamName(ctx.prefix)).catch(() => undefined); } finally { await nc.close(); }
    });

    // The agents, through herd's NATS agent transport.
    const { connect } = await import('nats');
    const probe = await connect({ servers: settings.nats });
    const maxPayload = probe.info.max_payload;
    await probe.close();
    ctx.split = splitter(maxPayload);
    for (let i = 1; i <= settings.agents; i++) {
      const id = `cpbench-${process.pid}-${i}`;
      const transport = await mods.connectNatsAgent(settings.nats, id, { prefix: ctx.prefix });
      const a = new SimAgent(ctx, mods, id, transport);
      agents.push(a);
      a.start();
    }
    const until = performance.now() + 20_000;
    for (;;) {
      const r = await api(ctx, 'GET', '/api/v1/agents');
      if (r.agents.filter((a) => a.healthy).length >= settings.agents) break;
      if (performance.now() > until) throw new Error(`agents not healthy: ${JSON.stringify(r)}`);
      await sleep(100);
    }
    // The server at rest with its agents heartbeating: its baseline CPU.
    const idle0 = cpuSnapshot(ctx);
    await sleep(2000);
    results.idle = cpuBetween(idle0, cpuSnapshot(ctx));

    // One more follower, of the whole organization, opened before the run: its progress events
    // (with a CPU snapshot taken as each arrives) are what the ingestion figures are read from.
    let endedAt = null;
    let finalStatus = null;
    observer = follow(ctx, null, (type, ev) => {
      if (type === 'progress') ctx.progress.push({ at: ev.at, iterations: ev.iterations, perf: performance.now(), cpu: cpuSnapshot(ctx) });
      if (type === 'status' && ev.status.code >= 3) {
        endedAt ??= { wall: Date.now(), perf: performance.now(), cpu: cpuSnapshot(ctx) };
        finalStatus = `${ev.status.name} (${ev.change?.reason}: ${ev.change?.message})`;
      }
    });
    await observer.opened;

    const projects = await api(ctx, 'GET', '/api/v1/projects');
    const form = new FormData();
    form.set('projectId', projects.projects[0].id);
    form.set('testName', 'control-plane bench');
    form.set('archive', new Blob([await packArchive(ctx, mods)]), 'archive.tar.gz');
    const run = await api(ctx, 'POST', '/api/v1/runs', form);
    log(`run ${run.id} submitted; waiting for it to start`);
    const startUntil = performance.now() + 30_000;
    while (ctx.startAt === undefined) {
      if (performance.now() > startUntil) throw new Error(`the run did not start: ${JSON.stringify(await api(ctx, 'GET', `/api/v1/runs/${run.id}`))}`);
      if (endedAt !== null) throw new Error(`the run ended before it started: ${finalStatus}`);
      await sleep(50);
    }
    await sleep(Math.max(0, ctx.startAt - Date.now()));
    const t0 = performance.now();
    const cpuAtStart = cpuSnapshot(ctx);

    // Phase 1: ingestion alone.
    await sleep(I * 1000 + 500);
    const ingestEnd = performance.now();
    // Phase 2: the API, no followers.
    results.api = [];
    const measureApi = async (name, path, followersNow) => {
      const c0 = cpuSnapshot(ctx);
      const a = await autocannon(ctx, path, W);
      // Only figures taken while the agents were still sending describe a live run.
      const runLive = ctx.lastSendAt === undefined;
      if (!runLive) log(`${name} with ${followersNow} followers ended after the run's last batch: raise CP_BENCH_SECONDS`);
      results.api.push({ name, followers: followersNow, ...a, runLive, cpu: cpuBetween(c0, cpuSnapshot(ctx)) });
    };
    const apiStart0 = performance.now();
    await measureApi(`GET /runs/{id}`, `/api/v1/runs/${run.id}`, 0);
    await measureApi(`GET /runs/{id}/metrics/http_reqs`, `/api/v1/runs/${run.id}/metrics/http_reqs`, 0);
    const apiEnd0 = performance.now();
    // Phase 3: the followers of the run's live events, then the API again.
    for (let i = 0; i < settings.followers; i++) followers.push(follow(ctx, run.id));
    await Promise.all(followers.map((f) => f.opened));
    const apiStart1 = performance.now();
    await measureApi(`GET /runs/{id}`, `/api/v1/runs/${run.id}`, settings.followers);
    await measureApi(`GET /runs/{id}/metrics/http_reqs`, `/api/v1/runs/${run.id}/metrics/http_reqs`, settings.followers);
    const apiEnd1 = performance.now();

    const endUntil = performance.now() + (ctx.runSeconds + 120) * 1000;
    while (endedAt === null) {
      if (performance.now() > endUntil) throw new Error('the run did not end');
      if (ctx.agentError) throw ctx.agentError;
      await sleep(50);
    }
    // The followers' last events may be a moment behind the observer's.
    await sleep(500);
    const runInfo = await api(ctx, 'GET', `/api/v1/runs/${run.id}`);
    const summary = await api(ctx, 'GET', `/api/v1/runs/${run.id}/summary`);
    const points = await api(ctx, 'GET', `/api/v1/runs/${run.id}/metrics/http_reqs`);

    // Ingestion figures.
    const analysed = analyseProgress(ctx.sent, ctx.progress);
    const totalSS = ctx.sent.reduce((s, x) => s + x.seriesSeconds, 0);
    const sentReqs = ctx.sent.reduce((s, x) => s + x.iterations, 0);
    const whole = cpuBetween(cpuAtStart, endedAt.cpu);
    const first = ctx.sent[0];
    results.run = { id: run.id, finalStatus: runInfo.status?.name ?? finalStatus, lastChange: runInfo.lastChange, stopMessage: ctx.stopMessage ?? null };
    results.runSeconds = ctx.runSeconds;
    results.batches = {
      seriesPerBatch: first === undefined ? 0 : ctx.sent.filter((s) => s.agent === first.agent && s.at - first.at < 500).reduce((a, s) => a + s.series, 0),
      batchBytes: first?.wholeBytes ?? 0, parts: first?.parts ?? 0, maxPayload, messages: ctx.sent.length,
    };
    results.ingestion = {
      windows: {
        'ingest only': ingestionWindow(analysed, t0, ingestEnd),
        'API, 0 followers': ingestionWindow(analysed, apiStart0, apiEnd0),
        [`API, ${settings.followers} followers`]: ingestionWindow(analysed, apiStart1, apiEnd1),
      },
      wholeRun: { ...whole, seriesSeconds: totalSS, seriesSecondsPerCpuS: whole.serverCpuS > 0 ? totalSS / whole.serverCpuS : null },
      drainMs: ctx.lastSendAt === undefined ? null : endedAt.wall - ctx.lastSendAt,
      check: {
        httpReqsSent: sentReqs,
        httpReqsMerged: summary.summary?.metrics?.http_reqs?.values?.count ?? null,
        iterationsMerged: summary.summary?.metrics?.iterations?.values?.count ?? null,
        pointsSum: (points.points ?? []).reduce((s, p) => s + (p.values.count ?? 0), 0),
      },
      progress: analysed.map(({ cpu: _c, ...p }) => p),
    };
    const fin = followers.map((f) => f.finishedAt).filter((x) => x !== null);
    results.followers = {
      count: followers.length,
      errors: followers.filter((f) => f.error !== null).length,
      eventsMin: followers.length ? Math.min(...followers.map((f) => f.events)) : 0,
      eventsMax: followers.length ? Math.max(...followers.map((f) => f.events)) : 0,
      sawFinished: fin.length,
      finishedSpreadMs: fin.length ? Math.max(...fin) - endedAt.wall : null,
    };
    results.environment.loadavgAtEnd = loadavg();
    results.finishedAt = new Date().toISOString();
    const text = report(results);
    results.report = text;
    mkdirSync(settings.results, { recursive: true });
    const file = join(settings.results, `control-plane-${results.startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
    process.stdout.write(`${text}\n\nfull results: ${relative(process.cwd(), file) || file}\n`);
    if (results.ingestion.check.httpReqsMerged !== sentReqs) {
      log(`WARNING: the server merged ${results.ingestion.check.httpReqsMerged} requests of ${sentReqs} sent`);
    }
  } catch (e) {
    if (ctx.server) log(`server stderr (tail):\n${ctx.server.output.stderr.split('\n').slice(-20).join('\n')}`);
    throw e;
  } finally {
    for (const f of followers) f.close();
    observer?.close();
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
    for (const c of ctx.cleanup.splice(0)) await c().catch((e) => log(`cleanup: ${e instanceof Error ? e.message : String(e)}`));
    for (const c of children) killTree(c, 'SIGKILL');
    rmSync(ctx.tmp, { recursive: true, force: true });
    clearTimeout(deadline);
  }
}

main().catch((e) => {
  log(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exitCode = 1;
});
