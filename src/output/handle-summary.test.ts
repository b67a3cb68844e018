import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveHandleSummaryResult, isEmptySummaryResult, type SummaryIO } from './handle-summary.js';
import { HerdError } from '../errors/index.js';

function recorder(failOn?: string): { io: SummaryIO; out: string[]; err: string[]; files: Map<string, string | Uint8Array> } {
  const out: string[] = [];
  const err: string[] = [];
  const files = new Map<string, string | Uint8Array>();
  return {
    out,
    err,
    files,
    io: {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      writeFile: async (p, c) => {
        if (p === failOn) throw new Error('EACCES: permission denied');
        files.set(p, c);
      },
    },
  };
}

test('stdout and stderr keys go to those streams and other keys to files', async () => {
  const r = recorder();
  await resolveHandleSummaryResult({ stdout: 'to out', stderr: 'to err', 'out/summary.json': '{}' }, r.io);
  assert.deepEqual(r.out, ['to out']);
  assert.deepEqual(r.err, ['to err']);
  assert.deepEqual([...r.files], [['out/summary.json', '{}']]);
});

test('binary values are written as bytes, from an ArrayBuffer or a typed array view', async () => {
  const r = recorder();
  const bytes = new Uint8Array([0, 1, 2, 3, 4]);
  await resolveHandleSummaryResult({ 'a.bin': bytes.buffer, 'b.bin': bytes.subarray(1, 3) }, r.io);
  assert.deepEqual([...(r.files.get('a.bin') as Uint8Array)], [0, 1, 2, 3, 4]);
  assert.deepEqual([...(r.files.get('b.bin') as Uint8Array)], [1, 2]);
});

test('binary content sent to stdout is decoded as UTF-8', async () => {
  const r = recorder();
  await resolveHandleSummaryResult({ stdout: new TextEncoder().encode('héllo').buffer }, r.io);
  assert.deepEqual(r.out, ['héllo']);
});

test('null and undefined results write nothing', async () => {
  const r = recorder();
  await resolveHandleSummaryResult(undefined, r.io);
  await resolveHandleSummaryResult(null, r.io);
  assert.equal(r.out.length + r.err.length + r.files.size, 0);
  assert.equal(isEmptySummaryResult(undefined), true);
  assert.equal(isEmptySummaryResult({}), false);
});

test('a result that is not an object is a script exception', async () => {
  const r = recorder();
  await assert.rejects(resolveHandleSummaryResult('text', r.io), (e: unknown) => {
    assert.ok(e instanceof HerdError);
    assert.equal(e.code, 'script_exception');
    assert.equal(e.message, 'handleSummary() should return a map with string keys, got a string (text)');
    return true;
  });
  await assert.rejects(resolveHandleSummaryResult(['a'], r.io), /should return a map with string keys, got an array/);
});

test('invalid values are all reported and nothing is written', async () => {
  const r = recorder();
  await assert.rejects(resolveHandleSummaryResult({ stdout: 'ok', 'a.json': { x: 1 }, 'b.txt': 42 }, r.io), (e: unknown) => {
    assert.ok(e instanceof HerdError);
    assert.equal(e.code, 'script_exception');
    assert.equal(
      e.message,
      "invalid handleSummary() result: the value of 'a.json' must be a string or an ArrayBuffer, got an object; " +
        "the value of 'b.txt' must be a string or an ArrayBuffer, got a number (42)",
    );
    return true;
  });
  assert.equal(r.out.length + r.files.size, 0);
});

test('a file that cannot be written does not stop the others', async () => {
  const r = recorder('locked.json');
  await assert.rejects(resolveHandleSummaryResult({ 'locked.json': '{}', 'ok.json': '{}' }, r.io), (e: unknown) => {
    assert.ok(e instanceof HerdError);
    assert.equal(e.code, 'internal');
    assert.equal(e.message, "could not save some summary information: could not write 'locked.json': EACCES: permission denied");
    return true;
  });
  assert.ok(r.files.has('ok.json'));
});

test('with real files the content lands on disk', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-hs-'));
  await resolveHandleSummaryResult(
    { [path.join(dir, 's.txt')]: 'summary', [path.join(dir, 'b.bin')]: new Uint8Array([7, 8]).buffer },
    { stdout: () => {}, stderr: () => {}, writeFile: (p, c) => writeFile(p, c) },
  );
  assert.equal(await readFile(path.join(dir, 's.txt'), 'utf8'), 'summary');
  assert.deepEqual([...(await readFile(path.join(dir, 'b.bin')))], [7, 8]);
});
