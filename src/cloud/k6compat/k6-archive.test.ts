import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { runtimeOptions } from '../../config/index.js';
import { isHerdError } from '../../errors/index.js';
import { Engine } from '../../execution/engine.js';
import { EngineTestContext } from '../../execution/test-context.js';
import { defineBuiltinMetrics, GroupTree, MetricRegistry } from '../../metrics/index.js';
import { archiveFileReader, compileScript, unpackArchive } from '../../script/index.js';
import { convertK6Archive, looksLikeK6Archive, mainEntryName, normalizeAndAnonymize, readK6Archive, writeK6Archive } from './k6-archive.js';
import { readK6Tar } from './k6-tar.js';
import { ARCHIVE_TOKEN, k6FixtureArchive, k6Options, rawTar, type RawTarEntry } from './test-fixtures.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../script/archive-limits.js';

const META = (filename = 'file:///home/nobody/proj/script.js') =>
  JSON.stringify({ type: 'js', options: {}, filename, pwd: 'file:///home/nobody/proj', env: {}, k6version: '0.49.0' });

function expectInvalid(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => isHerdError(e) && (e.code === 'invalid_archive' || e.code === 'archive_too_large') && pattern.test(e.message));
}

/** Runs the converted archive's init code as an agent would, with open() served from the archive. */
async function initOnAgent(herdArchive: Uint8Array): Promise<{ exports: Record<string, unknown>; logs: string[] }> {
  const archive = await unpackArchive(herdArchive);
  const registry = new MetricRegistry();
  const logs: string[] = [];
  const logger = { log: (_level: string, message: string) => void logs.push(message) };
  const test = new EngineTestContext(runtimeOptions({}), registry, defineBuiltinMetrics(registry), { add() {} }, new GroupTree(), logger);
  const engine = new Engine({ env: archive.metadata.env, entry: archive.metadata.entry, logger, readFile: archiveFileReader(archive) }, test, compileScript(archive.artifact));
  try {
    const first = await engine.initFirst();
    return { exports: first.exports, logs };
  } finally {
    engine.closeAll();
  }
}

describe('reading k6 archives', () => {
  it('reads the layout k6 v0.49 writes: metadata, data, directories and the hard link of the main script to data', () => {
    const a = readK6Archive(k6FixtureArchive());
    assert.equal(a.main, 'file/home/nobody/proj/script.js');
    assert.equal(a.metadata.k6version, '0.49.0');
    assert.deepEqual(a.metadata.env, { GREETING: 'hello' });
    assert.deepEqual([...a.files.keys()].sort(), [
      'file/home/nobody/proj/data/users.json', 'file/home/nobody/proj/lib/greet.js', 'file/home/nobody/proj/script.js',
    ]);
    assert.equal(Buffer.from(a.files.get(a.main) ?? []).toString(), Buffer.from(a.data).toString());
    assert.equal(looksLikeK6Archive(k6FixtureArchive()), true);
  });

  it('maps metadata filenames to entries as k6 does: file URLs, Windows drives, escapes and https modules', () => {
    assert.equal(mainEntryName('file:///home/nobody/my%20proj/s.js'), 'file/home/nobody/my proj/s.js');
    assert.equal(mainEntryName('file:///C/Users/nobody/s.js'), 'file/C/Users/nobody/s.js');
    assert.equal(mainEntryName('https://jslib.k6.io/x/1.0/index.js'), 'https/jslib.k6.io/x/1.0/index.js');
    assert.equal(normalizeAndAnonymize('C:\\Users\\ada\\proj\\s.js'), '/C/Users/nobody/proj/s.js');
    assert.equal(normalizeAndAnonymize('/home/ada/proj/s.js'), '/home/nobody/proj/s.js');
  });

  const base: RawTarEntry[] = [{ name: 'metadata.json', data: META() }, { name: 'data', data: 'export default function () {}' }];
  const cases: Array<[string, RawTarEntry[], RegExp]> = [
    ['a symbolic link', [...base, { name: 'file/home/nobody/proj/evil.js', type: '2', linkname: '/etc/passwd' }], /symbolic link/],
    ['a ".." segment', [...base, { name: 'file/../../etc/x.js', data: 'x' }], /"\.\." segment/],
    ['an absolute entry name', [...base, { name: '/etc/x.js', data: 'x' }], /absolute path/],
    ['a hard link to anything but data', [...base, { name: 'file/home/nobody/proj/script.js', type: '1', linkname: 'metadata.json' }], /only the main script may be a link/],
    ['a hard link from a path other than the main script', [...base, { name: 'file/home/nobody/proj/other.js', type: '1', linkname: 'data' }], /is not the main script/],
    ['a character device', [...base, { name: 'file/dev', type: '3' }], /character device/],
    ['an entry outside file/ and https/', [...base, { name: 'etc/passwd', data: 'x' }], /not part of a k6 archive/],
    ['no data entry', [{ name: 'metadata.json', data: META() }], /no data entry/],
    ['no metadata.json', [{ name: 'data', data: 'x' }], /no metadata\.json/],
    ['a filename that is neither a file nor an https URL', [{ name: 'metadata.json', data: META('ftp://host/x.js') }, { name: 'data', data: 'x' }], /neither a file/],
    ['a duplicate entry', [...base, { name: 'file/a.js', data: 'x' }, { name: 'file/a.js', data: 'y' }], /more than once/],
  ];
  for (const [what, entries, pattern] of cases) {
    it(`refuses an archive with ${what}`, () => expectInvalid(() => readK6Archive(rawTar(entries)), pattern));
  }

  it('refuses a truncated tar and one without its end marker', () => {
    const tar = k6FixtureArchive();
    expectInvalid(() => readK6Archive(tar.subarray(0, 1536)), /truncated/);
    expectInvalid(() => readK6Archive(tar.subarray(0, tar.byteLength - 1024)), /truncated|end-of-archive/);
  });

  it('stops at the entry and byte limits before reading further', () => {
    const many: RawTarEntry[] = [...base];
    for (let i = 0; i < 20; i++) many.push({ name: `file/d${i}`, type: '5' });
    assert.throws(() => readK6Archive(rawTar(many), { maxEntries: 10 }), (e: unknown) => isHerdError(e) && e.code === 'archive_too_large');
    const big = rawTar([...base, { name: 'file/big.bin', data: new Uint8Array(200_000) }]);
    assert.throws(() => readK6Archive(big, { maxBytes: 100_000 }), (e: unknown) => isHerdError(e) && e.code === 'archive_too_large');
  });

  it('refuses a gzip-compressed input (herd archives are gzip, k6 archives are not)', () => {
    expectInvalid(() => readK6Archive(new Uint8Array([0x1f, 0x8b, 8, 0, ...new Uint8Array(2000)])), /gzip/);
  });
});

describe('converting k6 archives to herd archives', () => {
  it('keeps the options (parsed), the env and the open()ed files, and strips the token k6 put into the options', async () => {
    const converted = await convertK6Archive(k6FixtureArchive());
    const herd = await unpackArchive(converted.archive);
    assert.equal(herd.metadata.options['vus'], 2);
    assert.equal(herd.metadata.options['iterations'], 4);
    assert.deepEqual((herd.metadata.options['thresholds'] as Record<string, unknown>)['checks'], ['rate==1']);
    assert.deepEqual(herd.metadata.env, { GREETING: 'hello' });
    assert.deepEqual(herd.metadata.options['ext'], { loadimpact: { name: 'script.js' } });
    assert.deepEqual(herd.metadata.options['cloud'], { name: 'script.js' });
    assert.equal(converted.testName, 'script.js');
    // The token appears nowhere in the stored bytes.
    assert.equal(gunzipSync(converted.archive).includes(Buffer.from(ARCHIVE_TOKEN)), false);
    // Only the data file travels as a file: the modules are in the bundle.
    assert.deepEqual(herd.files.size, 1);
    assert.match([...herd.files.keys()][0] ?? '', /\/fs\/home\/nobody\/proj\/data\/users\.json$/);
    assert.match(herd.artifact.bundleCode, /from-lib/);
    assert.deepEqual(converted.warnings, []);
  });

  it('produces an archive whose init code runs on an agent: the import resolves and open() reads the packed file', async () => {
    const script = `import { greet } from './lib/greet.js';
const users = JSON.parse(open('./data/users.json'));
export const options = { vus: 1 };
export const seen = greet(users[0].name) + '/' + __ENV.GREETING;
export default function () {}
`;
    const converted = await convertK6Archive(k6FixtureArchive({ script }));
    const { exports } = await initOnAgent(converted.archive);
    assert.equal(exports['seen'], 'ada-from-lib/hello');
  });

  it('refuses a script that imports a file of the server outside the archive, and does not leak it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herd-k6-outside-'));
    const secretFile = path.join(dir, 'secret.json');
    writeFileSync(secretFile, '{"serverSecret":"s3cr3t-on-the-server"}');
    for (const spec of [secretFile, `../../../../../../../../../../..${secretFile}`]) {
      const script = `import secret from ${JSON.stringify(spec)};\nexport default function () { return secret; }\n`;
      await assert.rejects(convertK6Archive(k6FixtureArchive({ script })), (e: unknown) =>
        isHerdError(e) && e.code === 'script_import' && /outside the archive/.test(e.message) && !e.message.includes('s3cr3t'));
    }
  });

  it('takes remote modules from the archive\'s https tree and never from the network', async () => {
    const script = "import { twice } from 'https://modules.invalid/lib/twice.js';\nexport const value = twice(21);\nexport default function () {}\n";
    const converted = await convertK6Archive(k6FixtureArchive({
      script,
      extra: [{ name: 'https', type: '5' }, { name: 'https/modules.invalid/lib', type: '5' }, { name: 'https/modules.invalid/lib/twice.js', data: 'export const twice = (x) => x * 2;' }],
    }));
    const { exports } = await initOnAgent(converted.archive);
    assert.equal(exports['value'], 42);
    const missing = "import 'https://modules.invalid/not-packed.js';\nexport default function () {}\n";
    await assert.rejects(convertK6Archive(k6FixtureArchive({ script: missing })), /not in the k6 archive/);
  });

  it('reports invalid options in metadata.json as invalid_option', async () => {
    await assert.rejects(convertK6Archive(k6FixtureArchive({ options: k6Options({ vus: -3 }) })), (e: unknown) => isHerdError(e) && e.code === 'invalid_option');
  });
});

describe('writing k6 archives', () => {
  it('writes k6\'s entry order with anonymised paths, and what it writes reads back the same', () => {
    const tar = writeK6Archive({
      entry: '/home/ada/proj/script.js',
      script: Buffer.from('export default function () {}'),
      pwd: '/home/ada/proj',
      options: { vus: 1, cloud: { token: 'SECRET', name: 'x' } },
      env: { A: '1' },
      files: new Map([['/home/ada/proj/lib/a.js', Buffer.from('export const a = 1;')], ['/home/ada/proj/data.json', Buffer.from('{}')]]),
      remote: new Map([['https://jslib.k6.io/x/1.0/index.js', 'export const x = 1;']]),
    });
    const entries = readK6Tar(tar, DEFAULT_ARCHIVE_LIMITS).map((e) => `${e.kind} ${e.name}${e.kind === 'link' ? ` -> ${e.target}` : ''}`);
    assert.deepEqual(entries, [
      'file metadata.json', 'file data',
      'dir file', 'dir file/home', 'dir file/home/nobody', 'dir file/home/nobody/proj', 'dir file/home/nobody/proj/lib',
      'file file/home/nobody/proj/data.json', 'file file/home/nobody/proj/lib/a.js', 'link file/home/nobody/proj/script.js -> data',
      'dir https', 'dir https/jslib.k6.io', 'dir https/jslib.k6.io/x', 'dir https/jslib.k6.io/x/1.0',
      'file https/jslib.k6.io/x/1.0/index.js',
    ]);
    const back = readK6Archive(tar);
    assert.equal(back.metadata.filename, 'file:///home/nobody/proj/script.js');
    assert.deepEqual(back.metadata.options, { vus: 1, cloud: { name: 'x' } });
    assert.equal(Buffer.from(tar).includes(Buffer.from('SECRET')), false);
  });
});
