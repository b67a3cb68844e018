import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { JsonOutput } from './json-output.js';
import { MetricRegistry } from '../metrics/metric.js';
import { TagSet } from '../metrics/tags.js';
import { HerdError } from '../errors/index.js';

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

async function tmpFile(name: string): Promise<string> {
  return path.join(await mkdtemp(path.join(os.tmpdir(), 'herd-json-')), name);
}

function metrics(): { reqs: ReturnType<MetricRegistry['define']>; dur: ReturnType<MetricRegistry['define']> } {
  const reg = new MetricRegistry();
  return { reqs: reg.define('http_reqs', 'counter'), dur: reg.define('http_req_duration', 'trend', 'time') };
}

test('each metric is described once, before its first point', async () => {
  const file = await tmpFile('out.json');
  const { reqs, dur } = metrics();
  const out = new JsonOutput({ path: file, thresholds: { http_req_duration: ['p(95)<500'] } });
  await out.start();
  const tags = TagSet.from({ method: 'GET', status: '200' });
  out.add(reqs, tags, 1, T0);
  out.add(dur, tags, 12.5, T0 + 1);
  out.add(reqs, TagSet.EMPTY, 1, T0 + 2);
  await out.stop();
  assert.deepEqual((await readFile(file, 'utf8')).split('\n'), [
    '{"type":"Metric","data":{"name":"http_reqs","type":"counter","contains":"default","thresholds":[],"submetrics":null},"metric":"http_reqs"}',
    '{"type":"Point","data":{"time":"2024-01-02T03:04:05.678Z","value":1,"tags":{"method":"GET","status":"200"}},"metric":"http_reqs"}',
    '{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":["p(95)<500"],"submetrics":null},"metric":"http_req_duration"}',
    '{"type":"Point","data":{"time":"2024-01-02T03:04:05.679Z","value":12.5,"tags":{"method":"GET","status":"200"}},"metric":"http_req_duration"}',
    '{"type":"Point","data":{"time":"2024-01-02T03:04:05.680Z","value":1,"tags":{}},"metric":"http_reqs"}',
    '',
  ]);
});

test('a .gz file is gzipped and readable', async () => {
  const file = await tmpFile('out.json.gz');
  const { reqs } = metrics();
  const out = new JsonOutput({ path: file });
  await out.start();
  for (let i = 0; i < 3; i++) out.add(reqs, TagSet.EMPTY, i, T0);
  await out.stop();
  const lines = gunzipSync(await readFile(file)).toString('utf8').trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.equal(JSON.parse(lines[3] as string).data.value, 2);
});

test('samples stay buffered until stop flushes them', async () => {
  const file = await tmpFile('out.json');
  const { reqs } = metrics();
  const out = new JsonOutput({ path: file, flushIntervalMs: 60_000, flushBytes: 1 << 20 });
  await out.start();
  out.add(reqs, TagSet.EMPTY, 1, T0);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((await stat(file)).size, 0);
  await out.stop();
  assert.equal((await readFile(file, 'utf8')).split('\n').length, 3);
});

test('the flush interval writes buffered samples while the test runs', async () => {
  const file = await tmpFile('out.json');
  const { reqs } = metrics();
  const out = new JsonOutput({ path: file, flushIntervalMs: 10 });
  await out.start();
  out.add(reqs, TagSet.EMPTY, 1, T0);
  await new Promise((r) => setTimeout(r, 80));
  assert.ok((await stat(file)).size > 0);
  await out.stop();
});

test('thousands of samples are written in a few large chunks', async () => {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const { reqs } = metrics();
  const out = new JsonOutput({ path: '-', stdout: sink, flushIntervalMs: 60_000 });
  await out.start();
  for (let i = 0; i < 5000; i++) out.add(reqs, TagSet.EMPTY, i, T0);
  await out.stop();
  assert.ok(chunks.length <= 10, `expected few writes, got ${chunks.length}`);
  assert.equal(chunks.join('').split('\n').length, 5002);
});

test('samples without a time use the injected clock', async () => {
  const chunks: string[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c.toString()), cb()) });
  const { reqs } = metrics();
  const out = new JsonOutput({ path: '-', stdout: sink, now: () => T0 });
  await out.start();
  out.add(reqs, TagSet.EMPTY, 1);
  await out.stop();
  assert.match(chunks.join(''), /"time":"2024-01-02T03:04:05.678Z"/);
});

test('a file in a missing directory fails start with invalid_flag', async () => {
  const out = new JsonOutput({ path: path.join(os.tmpdir(), 'herd-no-such-dir', 'x', 'out.json') });
  await assert.rejects(out.start(), (e: unknown) => {
    assert.ok(e instanceof HerdError);
    assert.equal(e.code, 'invalid_flag');
    assert.match(e.message, /^could not create the json output file ".*out\.json": ENOENT/);
    return true;
  });
});

test('stop is safe to call twice', async () => {
  const file = await tmpFile('out.json');
  const out = new JsonOutput({ path: file });
  await out.start();
  await out.stop();
  await out.stop();
});
