// Runs the control-plane benchmark (bench/control-plane.mjs) in a tiny configuration, so that
// it cannot rot unnoticed when the agent protocol, the transport, the API or the results format
// change: it must drive a real run to its end over NATS and print non-zero figures. The figures
// themselves are not judged here (the machine is shared); the full benchmark is run by hand.
// Needs NATS with JetStream at 127.0.0.1:4222 and bench/'s dependencies (`npm --prefix bench ci`);
// skipped without them unless CI=true. Uses SQLite, so no PostgreSQL is needed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tcpReachable } from './helpers/reachable.js';

// This file runs from dist/test/.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BENCH = path.join(ROOT, 'bench', 'control-plane.mjs');

const natsUp = await tcpReachable('127.0.0.1', 4222);
const haveAutocannon = existsSync(path.join(ROOT, 'bench', 'node_modules', 'autocannon', 'autocannon.js'));
const SKIP = process.env['CI'] === 'true' ? false
  : !natsUp ? 'no NATS server at 127.0.0.1:4222 (start one with `nats-server -js`)'
    : !haveAutocannon ? 'autocannon is not installed in bench/ (npm --prefix bench ci)' : false;

interface Window { seriesSeconds: number; serverCpuS: number; seriesSecondsPerCpuS: number | null }
interface BenchResults {
  run: { finalStatus: string };
  batches: { seriesPerBatch: number; messages: number };
  ingestion: {
    windows: Record<string, Window | null>;
    wholeRun: Window;
    drainMs: number | null;
    check: { httpReqsSent: number; httpReqsMerged: number | null; pointsSum: number };
  };
  api: Array<{ name: string; followers: number; requests: number; p50Ms: number; p99Ms: number; errors: number }>;
  followers: { count: number; errors: number; sawFinished: number };
  report: string;
}

describe('bench/control-plane.mjs', { skip: SKIP }, () => {
  it('drives a run over NATS to Finished and reports ingestion and API latency figures', { timeout: 90_000 }, async () => {
    const results = mkdtempSync(path.join(tmpdir(), 'herd-cpbench-test-'));
    try {
      const env = {
        ...process.env, CP_BENCH_SECONDS: '3', CP_BENCH_SERIES: '200', CP_BENCH_FOLLOWERS: '5', CP_BENCH_AGENTS: '3',
        CP_BENCH_DATABASE: 'sqlite', CP_BENCH_RESULTS: results,
      };
      const child = spawn(process.execPath, [BENCH], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
      child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
      const killer = setTimeout(() => child.kill('SIGTERM'), 80_000);
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      clearTimeout(killer);
      assert.equal(code, 0, out);

      const files = readdirSync(results).filter((f) => f.startsWith('control-plane-') && f.endsWith('.json'));
      assert.equal(files.length, 1, out);
      const r = JSON.parse(readFileSync(path.join(results, files[0] as string), 'utf8')) as BenchResults;
      assert.equal(r.run.finalStatus, 'Finished', out);
      // 100 URLs × 2 metrics + the iterations series, from each agent every second.
      assert.equal(r.batches.seriesPerBatch, 201);
      // Everything sent was merged, and the stored per-second points add up to it.
      assert.ok(r.ingestion.check.httpReqsSent > 0);
      assert.equal(r.ingestion.check.httpReqsMerged, r.ingestion.check.httpReqsSent, out);
      assert.equal(r.ingestion.check.pointsSum, r.ingestion.check.httpReqsSent, out);
      assert.ok(r.ingestion.wholeRun.seriesSeconds > 0 && r.ingestion.wholeRun.serverCpuS > 0, out);
      assert.ok((r.ingestion.wholeRun.seriesSecondsPerCpuS ?? 0) > 0, out);
      assert.ok(r.ingestion.drainMs !== null && r.ingestion.drainMs >= 0, out);
      // Two requests, each with 0 and with 5 followers.
      assert.deepEqual(r.api.map((a) => a.followers), [0, 0, 5, 5]);
      for (const a of r.api) {
        assert.ok(a.requests > 0 && a.p50Ms > 0 && a.p99Ms >= a.p50Ms, `${a.name}: ${JSON.stringify(a)}`);
        assert.equal(a.errors, 0, `${a.name}: ${JSON.stringify(a)}`);
      }
      assert.equal(r.followers.count, 5);
      assert.equal(r.followers.errors, 0);
      assert.equal(r.followers.sawFinished, 5);
      // The printed table carries the command that produced it.
      assert.match(out, /command: .*node .*control-plane\.mjs/);
      assert.match(out, /series-s per CPU-s/);
    } finally {
      rmSync(results, { recursive: true, force: true });
    }
  });
});
