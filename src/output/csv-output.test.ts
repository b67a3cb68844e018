import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { CsvOutput, CSV_HEADER, csvField } from './csv-output.js';
import { MetricRegistry } from '../metrics/metric.js';
import { TagSet } from '../metrics/tags.js';

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

async function tmpFile(name: string): Promise<string> {
  return path.join(await mkdtemp(path.join(os.tmpdir(), 'herd-csv-')), name);
}

test('the header matches k6 and rows hold time, value with six decimals and tag columns', async () => {
  const file = await tmpFile('out.csv');
  const reg = new MetricRegistry();
  const reqs = reg.define('http_reqs', 'counter');
  const dur = reg.define('http_req_duration', 'trend', 'time');
  const out = new CsvOutput({ path: file });
  await out.start();
  const tags = TagSet.from({ method: 'GET', status: '200', url: 'http://x/a?b=1,2', scenario: 'default', expected_response: 'true' });
  out.add(reqs, tags, 1, T0);
  out.add(dur, tags.with('flow', 'browse').with('env', 'dev').with('vu', '3').with('iter', '7'), 221.899, T0);
  await out.stop();
  assert.equal(
    CSV_HEADER,
    'metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata',
  );
  assert.deepEqual((await readFile(file, 'utf8')).split('\n'), [
    CSV_HEADER,
    'http_reqs,1704164645,1.000000,,,,true,,GET,,,default,,200,,,"http://x/a?b=1,2",,',
    'http_req_duration,1704164645,221.899000,,,,true,,GET,,,default,,200,,,"http://x/a?b=1,2",env=dev&flow=browse,iter=7&vu=3',
    '',
  ]);
});

test('the rfc3339 and unix_nano time formats', async () => {
  const reg = new MetricRegistry();
  const m = reg.define('c', 'counter');
  for (const [format, expected] of [
    ['rfc3339', '2024-01-02T03:04:05Z'],
    ['unix_nano', '1704164645678000000'],
  ] as const) {
    const file = await tmpFile('t.csv');
    const out = new CsvOutput({ path: file, timeFormat: format });
    await out.start();
    out.add(m, TagSet.EMPTY, 2, T0);
    await out.stop();
    const row = (await readFile(file, 'utf8')).split('\n')[1];
    assert.equal(row, `c,${expected},2.000000${','.repeat(16)}`);
  }
});

test('a .gz csv file is gzipped', async () => {
  const file = await tmpFile('out.csv.gz');
  const m = new MetricRegistry().define('c', 'counter');
  const out = new CsvOutput({ path: file });
  await out.start();
  out.add(m, TagSet.EMPTY, 1, T0);
  await out.stop();
  const text = gunzipSync(await readFile(file)).toString('utf8');
  assert.equal(text, `${CSV_HEADER}\nc,1704164645,1.000000${','.repeat(16)}\n`);
});

test('rows stay buffered until stop flushes them', async () => {
  const file = await tmpFile('out.csv');
  const m = new MetricRegistry().define('c', 'counter');
  const out = new CsvOutput({ path: file, flushIntervalMs: 60_000 });
  await out.start();
  await new Promise((r) => setTimeout(r, 20));
  const headerOnly = (await stat(file)).size;
  out.add(m, TagSet.EMPTY, 1, T0);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((await stat(file)).size, headerOnly);
  await out.stop();
  assert.ok((await stat(file)).size > headerOnly);
});

test('fields are quoted as Go encoding/csv quotes them', () => {
  assert.equal(csvField(''), '');
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField(' lead'), '" lead"');
  assert.equal(csvField('line\nbreak'), '"line\nbreak"');
});
