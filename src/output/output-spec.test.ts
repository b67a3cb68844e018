import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import { mkdtemp, readdir } from 'node:fs/promises';
import { parseOutputSpec, parseOutputSpecs, createOutput } from './output-spec.js';
import { JsonOutput } from './json-output.js';
import { CsvOutput } from './csv-output.js';
import { HerdError } from '../errors/index.js';

test('json takes a file, and without one writes to stdout', () => {
  assert.deepEqual(parseOutputSpec('json=results.json'), { type: 'json', path: 'results.json' });
  assert.deepEqual(parseOutputSpec('json'), { type: 'json', path: '-' });
  assert.deepEqual(parseOutputSpec('json='), { type: 'json', path: '-' });
  assert.deepEqual(parseOutputSpec('json=a=b.json'), { type: 'json', path: 'a=b.json' });
});

test('csv takes a file, defaults to file.csv, and accepts k6 key=value arguments', () => {
  assert.deepEqual(parseOutputSpec('csv=out.csv'), { type: 'csv', path: 'out.csv', timeFormat: 'unix', saveIntervalMs: 1000 });
  assert.deepEqual(parseOutputSpec('csv'), { type: 'csv', path: 'file.csv', timeFormat: 'unix', saveIntervalMs: 1000 });
  assert.deepEqual(parseOutputSpec('csv=fileName=o.csv.gz,timeFormat=rfc3339,saveInterval=2s'), {
    type: 'csv',
    path: 'o.csv.gz',
    timeFormat: 'rfc3339',
    saveIntervalMs: 2000,
  });
});

test('an unknown output type is an invalid flag naming the type', () => {
  assert.throws(
    () => parseOutputSpec('xml=out.xml'),
    (e: unknown) => {
      assert.ok(e instanceof HerdError);
      assert.equal(e.code, 'invalid_flag');
      assert.equal(e.message, 'unknown output type "xml"; herd supports json and csv');
      assert.equal(e.hint, 'use --out json=FILE or --out csv=FILE (a .gz name compresses the file)');
      return true;
    },
  );
});

test('a k6 output herd lacks gets a hint naming it', () => {
  assert.throws(
    () => parseOutputSpec('influxdb=http://localhost:8086/k6'),
    (e: unknown) => {
      assert.ok(e instanceof HerdError);
      assert.equal(e.message, 'unknown output type "influxdb"; herd supports json and csv');
      assert.match(e.hint ?? '', /^"influxdb" is a k6 output herd does not implement/);
      return true;
    },
  );
});

test('every problem of every --out value is reported at once', () => {
  assert.throws(
    () => parseOutputSpecs(['json=a.json', 'nope', 'csv=timeFormat=iso,color=red', '=x']),
    (e: unknown) => {
      assert.ok(e instanceof HerdError);
      assert.equal(
        e.message,
        'unknown output type "nope"; herd supports json and csv; ' +
          'csv timeFormat must be one of unix, unix_nano, rfc3339, got "iso"; ' +
          'unknown key "color" in the csv output argument "timeFormat=iso,color=red"; keys are fileName, timeFormat and saveInterval; ' +
          '--out needs an output type, got "=x"',
      );
      return true;
    },
  );
});

test('a bad csv save interval is an invalid flag', () => {
  assert.throws(() => parseOutputSpec('csv=saveInterval=soon'), /csv saveInterval must be a positive duration like "1s", got "soon"/);
});

test('createOutput builds the output and resolves its path against the working directory', async () => {
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'herd-spec-'));
  const json = createOutput(parseOutputSpec('json=r.json'), cwd);
  const csv = createOutput(parseOutputSpec('csv=r.csv'), cwd);
  assert.ok(json instanceof JsonOutput);
  assert.ok(csv instanceof CsvOutput);
  await json.start();
  await csv.start();
  await json.stop();
  await csv.stop();
  assert.deepEqual((await readdir(cwd)).sort(), ['r.csv', 'r.json']);
});

test('createOutput refuses stdout when no stdout stream is given', () => {
  assert.throws(
    () => createOutput(parseOutputSpec('json'), '/tmp'),
    (e: unknown) => e instanceof HerdError && e.code === 'invalid_flag' && e.hint === 'give a file: --out json=FILE',
  );
});
