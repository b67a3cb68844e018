#!/usr/bin/env node
// herd's end-to-end benchmarks: herd against autocannon and wrk, measured in the same run,
// against nginx on its own core. Plain ESM JavaScript so it runs without a build.
//
//   node bench/run.mjs                 run every scenario (see README.md)
//   node bench/run.mjs target          only start the target (to rerun one printed command by hand)
//
// Settings come from the environment: BENCH_ROUNDS, BENCH_DURATION, BENCH_MEM_DURATION,
// BENCH_ONLY, BENCH_TARGET (auto | nginx | herd). Every child process has a hard deadline.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { get as httpGet } from 'node:http';
import { tmpdir, loadavg, cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const HERD = join(ROOT, 'bin', 'herd.js');
const AUTOCANNON = join(BENCH_DIR, 'node_modules', 'autocannon', 'autocannon.js');
const SCRIPTS = join(BENCH_DIR, 'scripts');
const NGINX = '/usr/sbin/nginx';
const TOOL_CPU = '0';
const TARGET_CPU = '1';
const SAMPLE_MS = 200;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const NOFILE = 20000;
const TREND_STATS = 'avg,min,med,max,p(90),p(95),p(99)';
const ONE_K_BODY = 'x'.repeat(1023) + '\n';

// ---------------------------------------------------------------- settings

function seconds(text, name) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(text).trim());
  if (!m) throw new Error(`${name} must be a duration like 10s, 500ms or 1m, got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
}

const SCENARIOS = ['closed-small', 'closed-1k-discard', 'memory-per-vu', 'many-vus', 'arrival-rate', 'workers-scaling'];

function readSettings(env) {
  const rounds = Number(env.BENCH_ROUNDS ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error(`BENCH_ROUNDS must be an integer from 1 to 20, got ${env.BENCH_ROUNDS}`);
  const only = env.BENCH_ONLY ? env.BENCH_ONLY.split(',').map((s) => s.trim()).filter(Boolean) : SCENARIOS;
  const unknown = only.filter((s) => !SCENARIOS.includes(s));
  if (unknown.length) throw new Error(`BENCH_ONLY must list scenarios among ${SCENARIOS.join(', ')}, got ${unknown.join(', ')}`);
  const target = env.BENCH_TARGET ?? 'auto';
  if (!['auto', 'nginx', 'herd'].includes(target)) throw new Error(`BENCH_TARGET must be auto, nginx or herd, got ${target}`);
  return {
    rounds,
    duration: seconds(env.BENCH_DURATION ?? '10s', 'BENCH_DURATION'),
    memDuration: seconds(env.BENCH_MEM_DURATION ?? '20s', 'BENCH_MEM_DURATION'),
    only,
    target,
  };
}

// ---------------------------------------------------------------- small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`${msg}\n`);

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function fmt(n, digits = 0) {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function quote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${String(arg).replace(/'/g, `'\\''`)}'`;
}

/** A command line as a human would type it from the repository root. */
function commandLine(argv) {
  return argv.map((a) => quote(a === process.execPath ? 'node' : a.startsWith(ROOT + '/') ? relative(ROOT, a) : a)).join(' ');
}

function freePort() {
  return new Promise((resolveP, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolveP(port));
    });
  });
}

async function waitForPort(port, deadlineMs) {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

function fetchText(url, timeoutMs = 3000) {
  return new Promise((resolveP, reject) => {
    const req = httpGet(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolveP({ status: res.statusCode, body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.once('error', reject);
  });
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

// ---------------------------------------------------------------- /proc sampling

/** pid → {ppid, cpuTicks} for every live process. */
function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // rest[0] = state (field 3); ppid field 4; utime 14; stime 15.
      table.set(Number(name), { ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) });
    } catch { /* exited meanwhile */ }
  }
  return table;
}

function descendants(rootPid, table) {
  const out = [rootPid];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, p] of table) if (p.ppid === out[i] && !out.includes(pid)) out.push(pid);
  }
  return out.filter((pid) => table.has(pid));
}

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

function cpuTicksOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch { return null; }
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineTicks() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + (line[4] ?? 0);
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  // steal: time the hypervisor ran something else while this VM's CPUs had work.
  return { busy: total - idle, total, steal: line[7] ?? 0 };
}

// ---------------------------------------------------------------- running one measured process

/**
 * Runs argv under taskset/prlimit with a hard deadline, sampling the RSS and CPU time of its
 * whole process tree every SAMPLE_MS from /proc, and the machine's CPU use by everyone else.
 */
async function measure(argv, { cpus: cpuList = TOOL_CPU, nofile = null, deadlineS, targetPid = null, cwd = ROOT }) {
  let full = [...argv];
  if (cpuList) full = ['taskset', '-c', cpuList, ...full];
  if (nofile) full = ['prlimit', `--nofile=${nofile}:${nofile}`, '--', ...full];
  const started = performance.now();
  const machine0 = machineTicks();
  const target0 = targetPid ? cpuTicksOf(targetPid) : null;
  const child = spawn(full[0], full.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out = [];
  const err = [];
  let errBytes = 0;
  child.stdout.on('data', (c) => out.push(c));
  child.stderr.on('data', (c) => { if (errBytes < 1 << 20) { err.push(c); errBytes += c.length; } });
  let peakRss = 0;
  let peakProcs = 0;
  const cpuByPid = new Map();
  const sample = () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const table = processTable();
    const tree = descendants(child.pid, table);
    let rss = 0;
    for (const pid of tree) {
      rss += rssKb(pid);
      const t = table.get(pid).cpuTicks;
      if (t > (cpuByPid.get(pid) ?? 0)) cpuByPid.set(pid, t);
    }
    if (rss > peakRss) peakRss = rss;
    if (tree.length > peakProcs) peakProcs = tree.length;
  };
  const sampler = setInterval(sample, SAMPLE_MS);
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000).unref();
  }, deadlineS * 1000);
  running.add(child);
  const { code, signal } = await new Promise((r) => child.once('close', (c, s) => r({ code: c, signal: s })));
  running.delete(child);
  clearInterval(sampler);
  clearTimeout(killer);
  const wallS = (performance.now() - started) / 1000;
  const machine1 = machineTicks();
  const target1 = targetPid ? cpuTicksOf(targetPid) : null;
  const toolTicks = [...cpuByPid.values()].reduce((a, b) => a + b, 0);
  const targetTicks = target0 !== null && target1 !== null ? target1 - target0 : 0;
  const busyTicks = machine1.busy - machine0.busy;
  const ncpu = cpus().length;
  return {
    command: commandLine(full),
    exitCode: code,
    signal,
    timedOut,
    wallS,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    peakRssKb: peakRss,
    peakProcesses: peakProcs,
    cpuS: toolTicks / CLK_TCK,
    cpuPct: (100 * toolTicks) / CLK_TCK / wallS,
    targetCpuPct: targetPid ? (100 * targetTicks) / CLK_TCK / wallS : null,
    // Everyone else (other sessions, this runner) in % of one core, averaged over the run.
    otherCpuPct: Math.max(0, (100 * (busyTicks - toolTicks - targetTicks)) / CLK_TCK / wallS),
    // Part of "others": CPU time the VM's hypervisor took (steal), in % of one core.
    stealPct: (100 * (machine1.steal - machine0.steal)) / CLK_TCK / wallS,
    machineBusyPct: (100 * busyTicks) / (machine1.total - machine0.total || 1) * ncpu,
    loadavg1: loadavg()[0],
  };
}

const running = new Set();

function tail(text, lines = 15) {
  return text.trim().split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------- the target

function nginxConfig(dir, port) {
  return `# generated by bench/run.mjs
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile ${NOFILE};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections ${NOFILE - 500};
}
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  default_type text/plain;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = / { return 200 "ok\\n"; }
    location = /1k { return 200 "${ONE_K_BODY.slice(0, -1)}\\n"; }
  }
}
`;
}

/** Starts nginx (or `herd target` when nginx is missing) pinned to TARGET_CPU. */
async function startTarget(settings, dir) {
  const port = await freePort();
  const useNginx = settings.target === 'nginx' || (settings.target === 'auto' && existsSync(NGINX));
  if (settings.target === 'nginx' && !existsSync(NGINX)) throw new Error(`BENCH_TARGET=nginx but ${NGINX} is missing`);
  let argv;
  let name;
  if (useNginx) {
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port));
    argv = ['taskset', '-c', TARGET_CPU, 'prlimit', `--nofile=${NOFILE}:${NOFILE}`, '--', NGINX, '-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf')];
    name = firstLine(NGINX, ['-v']).replace(/^nginx version: /, '');
  } else {
    argv = ['taskset', '-c', TARGET_CPU, process.execPath, HERD, 'target', '--host', '127.0.0.1', '--port', String(port)];
    name = 'herd target (nginx not found at ' + NGINX + ')';
  }
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  if (!(await waitForPort(port, 10000))) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    throw new Error(`the target did not listen on 127.0.0.1:${port} within 10 s: ${commandLine(argv)}\n${stderr}${useNginx && existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
  }
  const base = `http://127.0.0.1:${port}`;
  const small = await fetchText(`${base}/`);
  const big = await fetchText(`${base}/1k`);
  if (small.status !== 200 || big.status !== 200 || Buffer.byteLength(big.body) !== 1024) {
    throw new Error(`the target answers unexpectedly: / → ${small.status} (${small.body.length} B), /1k → ${big.status} (${Buffer.byteLength(big.body)} B)`);
  }
  return {
    kind: useNginx ? 'nginx' : 'herd-target',
    name,
    base,
    pid: child.pid,
    command: commandLine(argv),
    config: useNginx ? join(dir, 'nginx.conf') : null,
    stop: async () => {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
      const done = new Promise((r) => child.once('close', r));
      if ((await Promise.race([done.then(() => true), sleep(3000).then(() => false)])) === false) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    },
  };
}

// ---------------------------------------------------------------- the tools

function herdArgv(script, env, exportFile, extra = []) {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return [process.execPath, HERD, 'run', '-q', '--no-summary', '--summary-trend-stats', TREND_STATS, '--summary-export', exportFile, ...extra, ...envArgs, script];
}

function readExport(file) {
  try { return JSON.parse(readFileSync(file, 'utf8')); } catch { return null; }
}

function herdFailure(run) {
  if (run.timedOut) return `herd did not finish before its deadline and was killed (exit ${run.exitCode ?? run.signal})`;
  if (run.exitCode !== 0) return `herd exited with ${run.exitCode ?? run.signal}`;
  return null;
}

/** The numbers we keep from a herd --summary-export. */
function herdNumbers(summary) {
  const m = summary?.metrics ?? {};
  return {
    reqs: m.http_reqs?.count ?? null,
    rps: m.http_reqs?.rate ?? null,
    iterations: m.iterations?.count ?? null,
    iterationsPerS: m.iterations?.rate ?? null,
    droppedIterations: summary ? m.dropped_iterations?.count ?? 0 : null,
    failedRate: m.http_req_failed?.value ?? null,
    p99Ms: m.http_req_duration?.['p(99)'] ?? null,
    medMs: m.http_req_duration?.med ?? null,
    vusMax: m.vus_max?.max ?? m.vus_max?.value ?? null,
    vusPeak: m.vus?.max ?? null,
    // get-sleep.js tags the requests of iterations that start once every VU is running.
    steadyReqs: m['http_reqs{phase:steady}']?.count ?? null,
    steadyP99Ms: m['http_req_duration{phase:steady}']?.['p(99)'] ?? null,
  };
}

async function runHerd(ctx, label, script, env, { cpus: cpuList = TOOL_CPU, nofile = null, deadlineS, extra = [] }) {
  const exportFile = join(ctx.tmp, `${label}-${ctx.seq++}.json`);
  const argv = herdArgv(script, env, exportFile, extra);
  const distBuiltAt = newestMtime(join(ROOT, 'dist'));
  const run = await measure(argv, { cpus: cpuList, nofile, deadlineS, targetPid: ctx.target.pid });
  const summary = readExport(exportFile);
  const failure = herdFailure(run) ?? (summary ? null : 'herd wrote no --summary-export file');
  const result = { tool: 'herd', label, distBuiltAt, ...pick(run), ...herdNumbers(summary), failure };
  // The printed command writes its export next to where it is run.
  result.command = run.command.replace(quote(exportFile), 'summary.json');
  if (failure) result.stderrTail = tail(run.stderr);
  return result;
}

async function runAutocannon(ctx, url, connections, durationS) {
  const argv = [process.execPath, AUTOCANNON, '-c', String(connections), '-d', String(durationS), '-n', '--json', url];
  const run = await measure(argv, { deadlineS: durationS + 60, targetPid: ctx.target.pid });
  let parsed = null;
  try { parsed = JSON.parse(run.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? ''); } catch { /* below */ }
  const failure = run.exitCode !== 0 ? `autocannon exited with ${run.exitCode ?? run.signal}` : parsed ? null : 'autocannon printed no JSON';
  return {
    tool: 'autocannon',
    ...pick(run),
    reqs: parsed?.requests?.total ?? null,
    // requests/s as wrk and herd count them: all requests over the measured time.
    rps: parsed ? parsed.requests.total / parsed.duration : null,
    rpsAvgOfSeconds: parsed?.requests?.average ?? null,
    p99Ms: parsed?.latency?.p99 ?? null,
    medMs: parsed?.latency?.p50 ?? null,
    errors: parsed ? parsed.errors + parsed.timeouts + (parsed.non2xx ?? 0) : null,
    failure,
    ...(failure ? { stderrTail: tail(run.stderr) } : {}),
  };
}

function wrkLatencyMs(text) {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s)$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

async function runWrk(ctx, url, connections, durationS) {
  const argv = ['wrk', '-t1', `-c${connections}`, `-d${durationS}s`, '--latency', url];
  const run = await measure(argv, { deadlineS: durationS + 60, targetPid: ctx.target.pid });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(run.stdout);
  const total = /(\d+) requests in/.exec(run.stdout);
  const p99 = /^\s+99%\s+(\S+)/m.exec(run.stdout);
  const p50 = /^\s+50%\s+(\S+)/m.exec(run.stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(run.stdout);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(run.stdout);
  const failure = run.exitCode !== 0 ? `wrk exited with ${run.exitCode ?? run.signal}` : rps ? null : 'wrk printed no Requests/sec line';
  return {
    tool: 'wrk',
    ...pick(run),
    reqs: total ? Number(total[1]) : null,
    rps: rps ? Number(rps[1]) : null,
    p99Ms: p99 ? wrkLatencyMs(p99[1]) : null,
    medMs: p50 ? wrkLatencyMs(p50[1]) : null,
    errors: (non2xx ? Number(non2xx[1]) : 0) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    failure,
    ...(failure ? { stderrTail: tail(run.stderr + run.stdout) } : {}),
  };
}

/** The measurement fields of a run worth keeping in the results file. */
function pick(run) {
  const { command, exitCode, signal, timedOut, wallS, peakRssKb, peakProcesses, cpuS, cpuPct, targetCpuPct, otherCpuPct, stealPct, machineBusyPct, loadavg1 } = run;
  return { command, exitCode, signal, timedOut, wallS, peakRssKb, peakProcesses, cpuS, cpuPct, targetCpuPct, otherCpuPct, stealPct, machineBusyPct, loadavg1 };
}

function progress(scenario, round, rounds, what, r, main) {
  const status = r.failure ? `FAILED: ${r.failure}` : main;
  log(`[${scenario}] round ${round}/${rounds} ${what}: ${status}  (wall ${fmt(r.wallS, 1)} s, tool CPU ${fmt(r.cpuPct)}%, others ${fmt(r.otherCpuPct)}% of a core, of which steal ${fmt(r.stealPct)}%)`);
  if (r.failure && r.stderrTail) log(r.stderrTail.split('\n').map((l) => `    | ${l}`).join('\n'));
}

// ---------------------------------------------------------------- scenarios

async function closedScenario(ctx, name, path, discard) {
  const { rounds, duration } = ctx.settings;
  const url = ctx.target.base + path;
  const script = join(SCRIPTS, 'closed.js');
  const env = { URL: url, VUS: '50', DURATION: `${duration}s`, ...(discard ? { DISCARD: '1' } : {}) };
  const tools = ['herd', 'autocannon', ...(ctx.haveWrk ? ['wrk'] : [])];
  const runs = [];
  for (let round = 1; round <= rounds; round++) {
    for (const tool of tools) {
      const r = tool === 'herd'
        ? await runHerd(ctx, name, script, env, { deadlineS: duration + 90 })
        : tool === 'autocannon' ? await runAutocannon(ctx, url, 50, duration) : await runWrk(ctx, url, 50, duration);
      r.round = round;
      runs.push(r);
      progress(name, round, rounds, tool, r, `${fmt(r.rps)} req/s, p99 ${fmt(r.p99Ms, 2)} ms`);
    }
  }
  const byTool = Object.fromEntries(tools.map((t) => {
    const mine = runs.filter((r) => r.tool === t);
    const ok = mine.filter((r) => !r.failure);
    return [t, {
      medianRps: median(ok.map((r) => r.rps)),
      rounds: mine.map((r) => (r.failure ? null : r.rps)),
      medianP99Ms: median(ok.map((r) => r.p99Ms)),
      medianCpuPct: median(ok.map((r) => r.cpuPct)),
      medianTargetCpuPct: median(ok.map((r) => r.targetCpuPct)),
      medianOtherCpuPct: median(mine.map((r) => r.otherCpuPct)),
      failures: mine.filter((r) => r.failure).length,
      command: mine[0]?.command,
    }];
  }));
  const herdRps = byTool.herd.medianRps;
  const ratio = (t) => (herdRps !== null && byTool[t]?.medianRps ? herdRps / byTool[t].medianRps : null);
  const ratios = { 'herd/autocannon': ratio('autocannon'), ...(ctx.haveWrk ? { 'herd/wrk': ratio('wrk') } : {}) };
  const bars = [bar('herd ≥ autocannon req/s (ARCHITECTURE §8 "beat autocannon")', ratios['herd/autocannon'], (x) => x >= 1, (x) => `ratio ${fmt(x, 2)}`)];
  return { name, path, discardResponseBodies: discard, connections: 50, durationS: duration, byTool, ratios, bars, runs };
}

function bar(text, value, passes, show) {
  if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return { bar: text, value: null, verdict: 'N/A', shown: 'not measured' };
  return { bar: text, value, verdict: passes(value) ? 'PASS' : 'MISS', shown: show(value) };
}

async function memoryPerVu(ctx) {
  const { rounds, memDuration } = ctx.settings;
  const url = ctx.target.base + '/';
  const script = join(SCRIPTS, 'get-sleep.js');
  const sizes = [1000, 5000];
  const nofile = ctx.nofileOk ? NOFILE : null;
  const runs = [];
  // The steady window: iterations that start from steadyFromS to the end of the duration,
  // once every VU has opened its connection (see get-sleep.js).
  const steadyFromS = Math.min(5, memDuration / 4);
  const steadyS = memDuration - steadyFromS;
  const perVu = (r, vus) => Object.assign(r, {
    vus,
    rpsPerVu: r.rps !== null ? r.rps / vus : null,
    steadyRpsPerVu: r.steadyReqs !== null ? r.steadyReqs / steadyS / vus : null,
  });
  const shown = (r) => `peak RSS ${fmt(r.peakRssKb / 1024, 1)} MiB; steady ${fmt(r.steadyRpsPerVu, 3)} req/s per VU, p99 ${fmt(r.steadyP99Ms, 1)} ms; whole run ${fmt(r.rps)} req/s (${fmt(r.rpsPerVu, 3)} per VU), p99 ${fmt(r.p99Ms, 1)} ms`;
  for (let round = 1; round <= rounds; round++) {
    for (const vus of sizes) {
      const env = { URL: url, VUS: String(vus), DURATION: `${memDuration}s`, SLEEP: '1', STEADY_FROM: String(steadyFromS) };
      const r = perVu(await runHerd(ctx, `mem-${vus}`, script, env, { nofile, deadlineS: memDuration + 120 }), vus);
      r.round = round;
      runs.push(r);
      progress('memory-per-vu', round, rounds, `herd ${vus} VUs`, r, shown(r));
      const p = perVu(await runRawVus(ctx, url, vus, memDuration, steadyFromS, nofile), vus);
      p.round = round;
      runs.push(p);
      progress('memory-per-vu', round, rounds, `raw node:net ${vus} loops`, p, `${shown(p)}; last first answer at ${fmt(p.lastFirstAnswerS, 2)} s`);
    }
  }
  const summarize = (tool) => Object.fromEntries(sizes.map((vus) => {
    const mine = runs.filter((r) => r.tool === tool && r.vus === vus);
    const ok = mine.filter((r) => !r.failure);
    return [vus, {
      medianPeakRssKb: median(ok.map((r) => r.peakRssKb)),
      roundsPeakRssKb: mine.map((r) => (r.failure ? null : r.peakRssKb)),
      medianRps: median(ok.map((r) => r.rps)),
      medianRpsPerVu: median(ok.map((r) => r.rpsPerVu)),
      medianP99Ms: median(ok.map((r) => r.p99Ms)),
      medianSteadyRpsPerVu: median(ok.map((r) => r.steadyRpsPerVu).filter((x) => x !== null)),
      roundsSteadyRpsPerVu: mine.map((r) => (r.failure ? null : r.steadyRpsPerVu)),
      medianSteadyP99Ms: median(ok.map((r) => r.steadyP99Ms).filter((x) => x !== null)),
      medianLastFirstAnswerS: median(ok.map((r) => r.lastFirstAnswerS).filter((x) => x !== null && x !== undefined)),
      failures: mine.filter((r) => r.failure).length,
      command: mine[0]?.command,
    }];
  }));
  const bySize = summarize('herd');
  const peerBySize = summarize('raw node:net');
  const kbPerVuOf = (t) => (t[1000].medianPeakRssKb !== null && t[5000].medianPeakRssKb !== null ? (t[5000].medianPeakRssKb - t[1000].medianPeakRssKb) / 4000 : null);
  const kbPerVu = kbPerVuOf(bySize);
  const perRound = [];
  for (let round = 1; round <= rounds; round++) {
    const x = runs.find((r) => r.tool === 'herd' && r.round === round && r.vus === 1000);
    const y = runs.find((r) => r.tool === 'herd' && r.round === round && r.vus === 5000);
    perRound.push(x && y && !x.failure && !y.failure ? (y.peakRssKb - x.peakRssKb) / 4000 : null);
  }
  const bars = [
    bar('(RSS5000 − RSS1000) / 4000 ≤ 20 KB per VU', kbPerVu, (x) => x <= 20, (x) => `${fmt(x, 1)} KB/VU`),
    ...sizes.map((vus) => bar(`${vus} VUs: request rate ≥ 95% of VUs/s (steady window)`, bySize[vus].medianSteadyRpsPerVu, (x) => x >= 0.95, (x) => `${fmt(100 * x, 1)}%`)),
  ];
  return { name: 'memory-per-vu', durationS: memDuration, steadyFromS, bySize, peerBySize, kbPerVu, peerKbPerVu: kbPerVuOf(peerBySize), kbPerVuByRound: perRound, bars, runs };
}

/** The memory-per-vu peer (tools/raw-vus.mjs): the same loops with node:net alone. */
async function runRawVus(ctx, url, vus, durationS, steadyFromS, nofile) {
  const argv = [process.execPath, join(BENCH_DIR, 'tools', 'raw-vus.mjs'), url, String(vus), String(durationS), String(steadyFromS)];
  const run = await measure(argv, { nofile, deadlineS: durationS + 120, targetPid: ctx.target.pid });
  let parsed = null;
  try { parsed = JSON.parse(run.stdout.trim().split('\n').pop() ?? ''); } catch { /* below */ }
  const failure = run.exitCode !== 0 ? `raw-vus exited with ${run.exitCode ?? run.signal}` : parsed === null ? 'raw-vus printed no JSON' : parsed.errors > 0 ? `${parsed.errors} connections failed` : null;
  return {
    tool: 'raw node:net',
    ...pick(run),
    reqs: parsed?.requests ?? null,
    rps: parsed?.rps ?? null,
    steadyReqs: parsed?.steadyRequests ?? null,
    p99Ms: parsed?.p99Ms ?? null,
    medMs: parsed?.medMs ?? null,
    steadyP99Ms: parsed?.steadyP99Ms ?? null,
    lastFirstAnswerS: parsed?.lastFirstAnswerS ?? null,
    failure,
    ...(failure ? { stderrTail: tail(run.stderr) } : {}),
  };
}

async function manyVus(ctx) {
  if (!ctx.nofileOk && ctx.nofileSoft < 16000) {
    return { name: 'many-vus', skipped: `cannot raise the open-files limit to ${NOFILE} (prlimit failed, soft limit ${ctx.nofileSoft}); 15,000 VUs need ≥ 15,000 sockets` };
  }
  const { rounds } = ctx.settings;
  const nofile = ctx.nofileOk ? NOFILE : null;
  const url = ctx.target.base + '/';
  const runs = [];
  for (let round = 1; round <= rounds; round++) {
    const a = await runHerd(ctx, 'many-15k', join(SCRIPTS, 'get-sleep.js'), { URL: url, VUS: '15000', DURATION: '30s', SLEEP: '10' }, { nofile, deadlineS: 240 });
    Object.assign(a, { round, case: '15k-get-sleep10' });
    runs.push(a);
    progress('many-vus', round, rounds, 'herd 15,000 VUs get+sleep(10) 30s', a, `peak RSS ${fmt(a.peakRssKb / 1024, 1)} MiB, vus_max ${fmt(a.vusMax)}, vus peak ${fmt(a.vusPeak)}, ${fmt(a.reqs)} requests, failed ${fmt((a.failedRate ?? 0) * 100, 2)}%, p99 ${fmt(a.p99Ms, 1)} ms`);
    const b = await runHerd(ctx, 'many-100k', join(SCRIPTS, 'sleep-only.js'), { VUS: '100000', DURATION: '20s', SLEEP: '1' }, { nofile, deadlineS: 300 });
    Object.assign(b, { round, case: '100k-sleep1' });
    runs.push(b);
    progress('many-vus', round, rounds, 'herd 100,000 VUs sleep(1) 20s', b, `peak RSS ${fmt(b.peakRssKb / 1024, 1)} MiB, vus_max ${fmt(b.vusMax)}, vus peak ${fmt(b.vusPeak)}, ${fmt(b.iterations)} iterations (${fmt(b.iterationsPerS)}/s of 100,000/s ideal)`);
  }
  const summarize = (kind) => {
    const mine = runs.filter((r) => r.case === kind);
    const ok = mine.filter((r) => !r.failure);
    return {
      medianPeakRssKb: median(ok.map((r) => r.peakRssKb)),
      roundsPeakRssKb: mine.map((r) => (r.failure ? null : r.peakRssKb)),
      vusMax: mine.map((r) => r.vusMax),
      vusPeak: mine.map((r) => r.vusPeak),
      reqs: mine.map((r) => r.reqs),
      iterations: mine.map((r) => r.iterations),
      medianWallS: median(mine.map((r) => r.wallS)),
      failures: mine.filter((r) => r.failure).map((r) => ({ round: r.round, failure: r.failure, stderrTail: r.stderrTail })),
      command: mine[0]?.command,
    };
  };
  const k15 = summarize('15k-get-sleep10');
  const k100 = summarize('100k-sleep1');
  const allStarted15 = runs.filter((r) => r.case === '15k-get-sleep10').every((r) => !r.failure && r.vusMax >= 15000 && r.reqs >= 15000);
  const allStarted100 = runs.filter((r) => r.case === '100k-sleep1').every((r) => !r.failure && r.vusMax >= 100000);
  const bars = [
    { bar: '15,000 VUs: run completes, vus_max ≥ 15,000, requests ≥ 15,000 (every round)', value: allStarted15, verdict: allStarted15 ? 'PASS' : 'MISS', shown: `vus_max ${k15.vusMax.map((x) => fmt(x)).join('/')}, requests ${k15.reqs.map((x) => fmt(x)).join('/')}` },
    bar('15,000 VUs get+sleep(10): peak RSS ≤ 400 MiB', k15.medianPeakRssKb, (x) => x <= 400 * 1024, (x) => `${fmt(x / 1024, 1)} MiB`),
    { bar: '100,000 VUs: run completes, vus_max ≥ 100,000 (every round)', value: allStarted100, verdict: allStarted100 ? 'PASS' : 'MISS', shown: `vus_max ${k100.vusMax.map((x) => fmt(x)).join('/')}` },
    bar('100,000 VUs sleep(1): peak RSS ≤ 1 GiB', k100.medianPeakRssKb, (x) => x <= 1024 * 1024, (x) => `${fmt(x / 1024, 1)} MiB`),
  ];
  return { name: 'many-vus', nofile: nofile ?? ctx.nofileSoft, cases: { '15k-get-sleep10': k15, '100k-sleep1': k100 }, bars, runs };
}

async function arrivalRate(ctx) {
  const { rounds } = ctx.settings;
  const rate = 5000;
  const durationS = 30;
  const expected = rate * durationS;
  const runs = [];
  for (let round = 1; round <= rounds; round++) {
    const env = { URL: ctx.target.base + '/', RATE: String(rate), DURATION: `${durationS}s`, PRE_VUS: '500', MAX_VUS: '2000' };
    const r = await runHerd(ctx, 'arrival', join(SCRIPTS, 'arrival-rate.js'), env, { nofile: ctx.nofileOk ? NOFILE : null, deadlineS: durationS + 120 });
    Object.assign(r, { round, shortfallPct: r.iterations !== null ? (100 * (expected - r.iterations)) / expected : null });
    runs.push(r);
    progress('arrival-rate', round, rounds, 'herd 5000/s 30s', r, `${fmt(r.iterations)} iterations (${fmt(r.shortfallPct, 2)}% short of ${fmt(expected)}), dropped ${fmt(r.droppedIterations)}, herd CPU ${fmt(r.cpuPct)}% over ${fmt(r.wallS, 1)} s, p99 ${fmt(r.p99Ms, 2)} ms, vus_max ${fmt(r.vusMax)}`);
  }
  const ok = runs.filter((r) => !r.failure);
  const medIter = median(ok.map((r) => r.iterations));
  const bars = [
    bar(`iterations within 1% of ${fmt(expected)} (median of rounds)`, medIter, (x) => Math.abs(x - expected) <= expected * 0.01, (x) => `${fmt(x)} (${fmt((100 * (x - expected)) / expected, 2)}%)`),
    bar('0 dropped iterations (maxVUs 2000 suffices; median of rounds)', median(ok.map((r) => r.droppedIterations ?? 0)), (x) => x === 0, (x) => `${fmt(x)} dropped`),
  ];
  return {
    name: 'arrival-rate', rate, durationS, expected,
    medianIterations: medIter,
    medianDropped: median(ok.map((r) => r.droppedIterations)),
    medianCpuPct: median(ok.map((r) => r.cpuPct)),
    medianP99Ms: median(ok.map((r) => r.p99Ms)),
    medianVusMax: median(ok.map((r) => r.vusMax)),
    failures: runs.filter((r) => r.failure).length,
    command: runs[0]?.command,
    bars, runs,
  };
}

async function workersScaling(ctx) {
  const help = spawnSync(process.execPath, [HERD, 'run', '--help'], { encoding: 'utf8', timeout: 30000 });
  if (!/--workers\b/.test(`${help.stdout}${help.stderr}`)) return { name: 'workers-scaling', skipped: 'herd has no --workers yet' };
  const { rounds, duration } = ctx.settings;
  // herd needs both cores here, so nothing is pinned: nginx is released to both cores for the
  // duration of this scenario and pinned back to its own core afterwards.
  const setTargetCpus = (list) => spawnSync('taskset', ['-a', '-p', '-c', list, String(ctx.target.pid)], { encoding: 'utf8' });
  setTargetCpus('0,1');
  const runs = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const workers of [1, 2]) {
        const env = { URL: ctx.target.base + '/', VUS: '8', DURATION: `${duration}s` };
        const r = await runHerd(ctx, `workers-${workers}`, join(SCRIPTS, 'cpu-bound.js'), env, { cpus: null, deadlineS: duration + 90, extra: ['--workers', String(workers)] });
        Object.assign(r, { round, workers });
        runs.push(r);
        progress('workers-scaling', round, rounds, `herd --workers ${workers}`, r, `${fmt(r.iterationsPerS)} iterations/s, herd CPU ${fmt(r.cpuPct)}%`);
      }
    }
  } finally {
    setTargetCpus(TARGET_CPU);
  }
  const med = (w) => median(runs.filter((r) => r.workers === w && !r.failure).map((r) => r.iterationsPerS));
  const one = med(1);
  const two = med(2);
  const speedup = one && two ? two / one : null;
  return {
    name: 'workers-scaling', one, two, speedup,
    commands: { 1: runs.find((r) => r.workers === 1)?.command, 2: runs.find((r) => r.workers === 2)?.command },
    bars: [bar('--workers 2 ≥ 1.7 × --workers 1 iterations/s', speedup, (x) => x >= 1.7, (x) => `${fmt(x, 2)}×`)],
    runs,
  };
}

// ---------------------------------------------------------------- report

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')).join('\n');
}

function barsText(bars) {
  return (bars ?? []).map((b) => `  [${b.verdict}] ${b.bar}: ${b.shown}`).join('\n');
}

function report(res, ctx) {
  const out = [];
  const where = `target ${ctx.target.name} at ${ctx.target.base} on core ${TARGET_CPU}`;
  for (const s of res.scenarios) {
    out.push('', `=== ${s.name} ===`);
    if (s.skipped) { out.push(`skipped: ${s.skipped}`); continue; }
    if (s.error) { out.push(`ERROR: ${s.error}`); continue; }
    if (s.name.startsWith('closed-')) {
      out.push(`GET ${s.path}, 50 connections/VUs, keep-alive, no think time, ${s.durationS} s per run${s.discardResponseBodies ? ', herd discardResponseBodies' : ''}; ${where}; tools on core ${TOOL_CPU}; median of ${ctx.settings.rounds} round(s)`);
      const rows = [['tool', 'req/s (median)', 'rounds', 'p99 ms', 'tool CPU%', 'target CPU%', 'others CPU%', 'failed runs']];
      for (const [tool, t] of Object.entries(s.byTool)) {
        rows.push([tool, fmt(t.medianRps), t.rounds.map((x) => fmt(x)).join(' / '), fmt(t.medianP99Ms, 2), fmt(t.medianCpuPct), fmt(t.medianTargetCpuPct), fmt(t.medianOtherCpuPct), t.failures]);
      }
      out.push(table(rows));
      out.push(Object.entries(s.ratios).map(([k, v]) => `${k} = ${fmt(v, 3)}`).join('    '));
      out.push(barsText(s.bars));
      out.push('commands (target must be running; `node bench/run.mjs target` starts it):');
      for (const [tool, t] of Object.entries(s.byTool)) out.push(`  ${tool}: ${t.command}`);
    } else if (s.name === 'memory-per-vu') {
      out.push(`herd constant-vus, http.get then sleep(1), ${s.durationS} s, beside the same loops written with node:net alone (tools/raw-vus.mjs); peak RSS of the process tree sampled every ${SAMPLE_MS} ms; ${where}; tool on core ${TOOL_CPU}`);
      const rows = [['tool', 'VUs', 'peak RSS MiB (median)', 'rounds MiB', 'steady req/s per VU', 'rounds', 'steady p99 ms', 'whole run req/s', 'per VU', 'p99 ms', 'failed runs']];
      for (const [tool, sizes] of [['herd', s.bySize], ['raw node:net', s.peerBySize ?? {}]]) {
        for (const [vus, t] of Object.entries(sizes)) {
          rows.push([tool, vus, fmt(t.medianPeakRssKb / 1024, 1), t.roundsPeakRssKb.map((x) => (x === null ? 'fail' : fmt(x / 1024, 1))).join(' / '), fmt(t.medianSteadyRpsPerVu, 3), t.roundsSteadyRpsPerVu.map((x) => (x === null ? 'fail' : fmt(x, 3))).join(' / '), fmt(t.medianSteadyP99Ms, 1), fmt(t.medianRps), fmt(t.medianRpsPerVu, 3), fmt(t.medianP99Ms, 1), t.failures]);
        }
      }
      out.push(table(rows));
      out.push(`  steady = requests of iterations that start ${fmt(s.steadyFromS, 1)} s or later into the ${s.durationS} s, once every VU runs, per VU and second of that window;`);
      out.push('  whole run = requests over the whole run (herd: http_reqs rate of the summary), with its start, when every VU opens its first connection');
      if (s.peerBySize) out.push(`  raw node:net: its last loop had its first answer at ${Object.entries(s.peerBySize).map(([vus, t]) => `${fmt(t.medianLastFirstAnswerS, 2)} s (${vus})`).join(', ')} (the start with no HTTP library on top)`);
      out.push(`per VU: herd ${fmt(s.kbPerVu, 1)} KB (rounds: ${s.kbPerVuByRound.map((x) => fmt(x, 1)).join(' / ')}); raw node:net ${fmt(s.peerKbPerVu, 1)} KB   [ARCHITECTURE §8 reference: raw net ~8, undici ~42, Artillery ~59, k6 ~166 KB]`);
      out.push(barsText(s.bars));
      out.push('commands:');
      for (const [vus, t] of Object.entries(s.bySize)) out.push(`  herd ${vus}: ${t.command}`);
      for (const [vus, t] of Object.entries(s.peerBySize ?? {})) out.push(`  raw node:net ${vus}: ${t.command}`);
    } else if (s.name === 'many-vus') {
      out.push(`herd, open-files limit ${s.nofile}; ${where}; herd on core ${TOOL_CPU}`);
      const rows = [['case', 'peak RSS MiB (median)', 'rounds MiB', 'vus_max', 'requests / iterations', 'ideal', 'wall s', 'failed runs']];
      const c15 = s.cases['15k-get-sleep10'];
      const c100 = s.cases['100k-sleep1'];
      rows.push(['15,000 VUs get+sleep(10) 30s', fmt(c15.medianPeakRssKb / 1024, 1), c15.roundsPeakRssKb.map((x) => (x === null ? 'fail' : fmt(x / 1024, 1))).join(' / '), c15.vusMax.map((x) => fmt(x)).join('/'), c15.reqs.map((x) => fmt(x)).join('/'), '45,000 req', fmt(c15.medianWallS, 1), c15.failures.length]);
      rows.push(['100,000 VUs sleep(1) 20s', fmt(c100.medianPeakRssKb / 1024, 1), c100.roundsPeakRssKb.map((x) => (x === null ? 'fail' : fmt(x / 1024, 1))).join(' / '), c100.vusMax.map((x) => fmt(x)).join('/'), c100.iterations.map((x) => fmt(x)).join('/'), '2,000,000 it', fmt(c100.medianWallS, 1), c100.failures.length]);
      out.push(table(rows));
      out.push(barsText(s.bars));
      out.push('  (ideal = VUs × duration ÷ sleep: what the VUs would do if every iteration took its sleep and nothing else; informational)');
      for (const f of [...c15.failures, ...c100.failures]) out.push(`  failure in round ${f.round}: ${f.failure}\n${(f.stderrTail ?? '').split('\n').map((l) => `    | ${l}`).join('\n')}`);
      out.push('commands:', `  15k: ${c15.command}`, `  100k: ${c100.command}`);
    } else if (s.name === 'arrival-rate') {
      out.push(`herd constant-arrival-rate ${fmt(s.rate)}/s for ${s.durationS} s (preAllocatedVUs 500, maxVUs 2000), GET /; ${where}; herd on core ${TOOL_CPU}`);
      const rows = [['round', 'iterations', 'vs expected', 'dropped', 'herd CPU% (life)', 'p99 ms', 'vus_max', 'others CPU%', 'of which steal']];
      for (const r of s.runs) rows.push([r.round, r.failure ? `FAILED: ${r.failure}` : fmt(r.iterations), `${fmt(r.shortfallPct === null ? null : -r.shortfallPct, 2)}%`, fmt(r.droppedIterations), fmt(r.cpuPct), fmt(r.p99Ms, 2), fmt(r.vusMax), fmt(r.otherCpuPct), fmt(r.stealPct)]);
      rows.push(['median', fmt(s.medianIterations), '', fmt(s.medianDropped), fmt(s.medianCpuPct), fmt(s.medianP99Ms, 2), fmt(s.medianVusMax), '', '']);
      out.push(table(rows));
      out.push(barsText(s.bars));
      out.push('(herd CPU% = utime+stime of herd and its children over the process\'s whole wall time, including startup)');
      out.push(`command: ${s.command}`);
    } else if (s.name === 'workers-scaling') {
      out.push(`herd, CPU-bound iterations (sha256 of 64 KiB + one GET), nothing pinned (herd and nginx may use both cores)`);
      out.push(table([['workers', 'iterations/s (median)'], ['1', fmt(s.one, 1)], ['2', fmt(s.two, 1)]]));
      out.push(barsText(s.bars));
      out.push(`commands:\n  ${s.commands[1]}\n  ${s.commands[2]}`);
    }
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- main

async function probeNofile() {
  const r = spawnSync('prlimit', [`--nofile=${NOFILE}:${NOFILE}`, '--', 'sh', '-c', 'ulimit -n'], { encoding: 'utf8' });
  const soft = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
  return { ok: r.status === 0 && Number(r.stdout.trim()) >= NOFILE, soft };
}

function newestMtime(dir) {
  let newest = 0;
  try {
    for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs);
    }
  } catch { return null; }
  return newest ? new Date(newest).toISOString() : null;
}

function environment(ctx) {
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'dist', 'bin'], { encoding: 'utf8' });
  let autocannonVersion = null;
  try { autocannonVersion = JSON.parse(readFileSync(join(BENCH_DIR, 'node_modules', 'autocannon', 'package.json'), 'utf8')).version; } catch { /* missing */ }
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    herdCommit: git.stdout.trim() || null,
    herdWorkTreeChanged: dirty.stdout.trim() !== '',
    // dist/ is what runs; the newest file in it says which build was measured.
    distBuiltAt: newestMtime(join(ROOT, 'dist')),
    target: { kind: ctx.target.kind, name: ctx.target.name, command: ctx.target.command },
    autocannon: autocannonVersion,
    wrk: ctx.haveWrk ? firstLine('wrk', ['-v']) : null,
    loadavgAtStart: loadavg(),
    clkTck: CLK_TCK,
  };
}

async function main() {
  const settings = readSettings(process.env);
  const tmp = mkdtempSync(join(tmpdir(), 'herd-bench-'));
  const cleanup = [];
  const stopAll = () => {
    for (const c of running) { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }
  };
  process.on('SIGINT', () => { stopAll(); process.exit(130); });
  process.on('SIGTERM', () => { stopAll(); process.exit(143); });
  try {
    if (process.argv[2] === 'target') {
      const target = await startTarget(settings, tmp);
      const ttlS = seconds(process.env.BENCH_TARGET_TTL ?? '30m', 'BENCH_TARGET_TTL');
      log(`${target.name} listening at ${target.base} (GET / and /1k) on core ${TARGET_CPU}\n  ${target.command}\nCtrl+C stops it; it stops by itself after ${ttlS} s.`);
      running.add({ pid: target.pid });
      await sleep(ttlS * 1000);
      await target.stop();
      return;
    }
    if (!existsSync(AUTOCANNON)) throw new Error(`autocannon is not installed in bench/: run \`npm --prefix bench ci\``);
    if (cpus().length < 2) log(`warning: ${cpus().length} CPU(s): the tool and the target share a core, the numbers are not comparable with §8`);
    const target = await startTarget(settings, tmp);
    cleanup.push(() => target.stop());
    running.add({ pid: target.pid });
    const nofile = await probeNofile();
    const ctx = { settings, tmp, target, seq: 0, haveWrk: which('wrk') !== null, nofileOk: nofile.ok, nofileSoft: nofile.soft };
    log(`target: ${target.name} at ${target.base} (core ${TARGET_CPU}); tools on core ${TOOL_CPU}; rounds ${settings.rounds}; scenarios ${settings.only.join(', ')}`);
    if (!ctx.haveWrk) log('wrk not found: the herd/wrk ratio is skipped');
    if (!ctx.nofileOk) log(`prlimit --nofile=${NOFILE} not allowed; open-files soft limit stays ${ctx.nofileSoft}`);
    const started = new Date();
    const results = { startedAt: started.toISOString(), settings, environment: environment(ctx), scenarios: [] };
    for (const name of settings.only) {
      const t0 = performance.now();
      let res;
      try {
        if (name === 'closed-small') res = await closedScenario(ctx, name, '/', false);
        else if (name === 'closed-1k-discard') res = await closedScenario(ctx, name, '/1k', true);
        else if (name === 'memory-per-vu') res = await memoryPerVu(ctx);
        else if (name === 'many-vus') res = await manyVus(ctx);
        else if (name === 'arrival-rate') res = await arrivalRate(ctx);
        else if (name === 'workers-scaling') res = await workersScaling(ctx);
      } catch (e) {
        res = { name, error: e instanceof Error ? e.stack ?? e.message : String(e) };
      }
      res.elapsedS = (performance.now() - t0) / 1000;
      if (res.skipped) log(`[${name}] skipped: ${res.skipped}`);
      results.scenarios.push(res);
    }
    results.finishedAt = new Date().toISOString();
    // The lead may rebuild dist/ while this runs: then rounds measured different herds.
    results.distBuildsMeasured = [...new Set(results.scenarios.flatMap((s) => (s.runs ?? []).filter((r) => r.tool === 'herd').map((r) => r.distBuiltAt)))];
    results.environment.loadavgAtEnd = loadavg();
    const text = report(results, ctx);
    const dir = join(BENCH_DIR, 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
    results.report = text;
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
    const env = results.environment;
    process.stdout.write(`herd bench — ${env.herdCommit?.slice(0, 12) ?? '?'}${env.herdWorkTreeChanged ? ' (work tree changed)' : ''}, dist built ${env.distBuiltAt ?? '?'}, node ${env.node}, ${env.cpus} CPUs, target ${target.name}, autocannon ${env.autocannon}, ${env.wrk ?? 'no wrk'}\n`);
    process.stdout.write(`load average at start ${env.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}, at end ${env.loadavgAtEnd.map((x) => x.toFixed(2)).join(' ')} ("others CPU%" = CPU used by processes other than the tool and the target, and CPU time the hypervisor took from this VM (steal), in % of one core)\n`);
    process.stdout.write(`target: ${target.command}\n`);
    if (results.distBuildsMeasured.length > 1) {
      process.stdout.write(`WARNING: dist/ was rebuilt during the run; herd runs measured ${results.distBuildsMeasured.length} builds (${results.distBuildsMeasured.join(', ')}); see distBuiltAt per run in the results file\n`);
    }
    process.stdout.write(text + '\n\n');
    process.stdout.write(`full results: ${relative(process.cwd(), file)}\n`);
  } finally {
    for (const c of cleanup) await c();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  log(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
