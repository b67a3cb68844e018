import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { isHerdError } from '../errors/index.js';
import { TarReader, concat, encodeTar, tarEnd, tarFileBlocks, tarHeader } from './archive-tar.js';
import {
  archiveFileReader,
  compileScript,
  packArchive,
  prepareScript,
  stripSecrets,
  unpackArchive,
  type ArchiveInput,
  type ScriptArtifact,
} from './index.js';
import { BUILTINS, writeScripts } from './test-helpers.js';

const ARTIFACT: ScriptArtifact = {
  bundleCode: 'export default function () {}\n',
  bundleMap: { version: 3, file: '', sourceRoot: '', sources: ['script.js'], sourcesContent: [], names: [], mappings: 'AAAA' },
  workDir: '/home/me/tests',
  code: 'module.exports.default = function () {};\n',
  map: { version: 3, file: 'x.js', sourceRoot: '', sources: ['x'], sourcesContent: ['y'], names: [], mappings: 'AAAA' },
  freeGlobals: ['open', '__ENV'],
  builtinModules: ['k6', 'k6/http'],
};

const BINARY = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) % 256);
const CREATED = new Date('2025-01-02T03:04:05.000Z');

function input(over: Partial<ArchiveInput> = {}): ArchiveInput {
  return {
    entry: '/home/me/tests/script.js',
    artifact: ARTIFACT,
    options: { vus: 10, duration: '30s', thresholds: { http_req_duration: ['p(95)<500'] } },
    env: { TARGET: 'http://localhost:8080', MODE: 'smoke' },
    files: new Map([
      ['/home/me/tests/data.json', new TextEncoder().encode('{"users":["a","b"]}')],
      ['/home/me/tests/img/logo.bin', BINARY],
      ['/home/me/empty.txt', new Uint8Array(0)],
    ]),
    herdVersion: '0.1.0',
    createdAt: CREATED,
    ...over,
  };
}

/** The entries of a gzip-compressed tar, read with the archive's own reader. */
function readEntries(gz: Uint8Array): { name: string; data: Uint8Array }[] {
  const out: { name: string; data: Uint8Array }[] = [];
  const r = new TarReader({ maxEntries: 1e6, maxBytes: 1e9, onEntry: (name, data) => out.push({ name, data }) });
  r.push(gunzipSync(gz));
  r.end();
  return out;
}

/** A valid archive's entries, edited by `edit`, packed again. */
async function edited(edit: (entries: { name: string; data: Uint8Array }[]) => { name: string; data: Uint8Array }[]): Promise<Uint8Array> {
  return gzipSync(encodeTar(edit(readEntries(await packArchive(input())))));
}

/** A valid archive's entries followed by raw blocks, so the hostile part is the only problem. */
async function withBlocks(...blocks: Uint8Array[]): Promise<Uint8Array> {
  const valid = readEntries(await packArchive(input()));
  return gzipSync(concat([...valid.flatMap((e) => tarFileBlocks(e.name, e.data)), ...blocks, tarEnd()]));
}

function editMetadata(change: (m: Record<string, unknown>) => void) {
  return (entries: { name: string; data: Uint8Array }[]) =>
    entries.map((e) => {
      if (e.name !== 'metadata.json') return e;
      const m = JSON.parse(new TextDecoder().decode(e.data)) as Record<string, unknown>;
      change(m);
      return { name: e.name, data: new TextEncoder().encode(JSON.stringify(m)) };
    });
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string; hint: string | undefined }> {
  try {
    await p;
  } catch (e) {
    if (isHerdError(e)) return { code: e.code, message: e.message, hint: e.hint };
    throw e;
  }
  throw new Error('expected a rejection');
}

async function assertInvalid(p: Promise<unknown>, message: string): Promise<void> {
  const r = await rejection(p);
  assert.deepEqual({ code: r.code, message: r.message }, { code: 'invalid_archive', message: `invalid archive: ${message}` });
}

async function assertTooLarge(p: Promise<unknown>, message: string): Promise<void> {
  const r = await rejection(p);
  assert.deepEqual({ code: r.code, message: r.message }, { code: 'archive_too_large', message: `archive too large: ${message}` });
}

describe('packArchive and unpackArchive', () => {
  it('round-trips the artifact, options, env and every file byte for byte', async () => {
    const a = await unpackArchive(await packArchive(input()));
    assert.deepEqual(a.artifact, ARTIFACT);
    assert.deepEqual(a.metadata.options, input().options);
    assert.deepEqual(a.metadata.env, input().env);
    assert.equal(a.metadata.formatVersion, 1);
    assert.equal(a.metadata.herdVersion, '0.1.0');
    assert.equal(a.metadata.entry, '/home/me/tests/script.js');
    assert.equal(a.metadata.createdAt, '2025-01-02T03:04:05.000Z');
    assert.deepEqual([...a.files.keys()].sort(), ['/home/me/empty.txt', '/home/me/tests/data.json', '/home/me/tests/img/logo.bin']);
    for (const [path, bytes] of input().files) assert.deepEqual(a.files.get(path), bytes, path);
    const logo = a.metadata.files.find((f) => f.path === '/home/me/tests/img/logo.bin');
    assert.equal(logo?.sha256, createHash('sha256').update(BINARY).digest('hex'));
  });

  it('stores files under files/ by absolute path, after metadata.json and script/artifact.json', async () => {
    const names = readEntries(await packArchive(input())).map((e) => e.name);
    assert.deepEqual(names, ['metadata.json', 'script/artifact.json', 'files/home/me/empty.txt', 'files/home/me/tests/data.json', 'files/home/me/tests/img/logo.bin']);
  });

  it('normalises Windows paths and keeps paths longer than a ustar header holds', async () => {
    const long = `/home/me/${'deep/'.repeat(60)}data.csv`;
    const files = new Map([
      ['C:\\Users\\me\\data.json', new Uint8Array([1, 2, 3])],
      [long, new Uint8Array([4])],
    ]);
    const gz = await packArchive(input({ files }));
    assert.ok(readEntries(gz).some((e) => e.name === 'files/C/Users/me/data.json'));
    const a = await unpackArchive(gz);
    assert.deepEqual(a.files.get('C:\\Users\\me\\data.json'), new Uint8Array([1, 2, 3]));
    assert.deepEqual(a.files.get(long), new Uint8Array([4]));
    const read = archiveFileReader(a);
    assert.deepEqual(read('C:/Users/me/./data.json'), new Uint8Array([1, 2, 3]));
    assert.deepEqual(read(long), new Uint8Array([4]));
  });

  it('strips the cloud tokens from the options and keeps everything else', async () => {
    const options = {
      vus: 1,
      cloud: { token: 'cloud-secret-1', projectID: 7, name: 'smoke' },
      ext: { loadimpact: { token: 'li-secret-2', projectID: 7 }, other: { token: 'kept' } },
    };
    const gz = await packArchive(input({ options }));
    const a = await unpackArchive(gz);
    assert.deepEqual(a.metadata.options, { vus: 1, cloud: { projectID: 7, name: 'smoke' }, ext: { loadimpact: { projectID: 7 }, other: { token: 'kept' } } });
    const text = new TextDecoder().decode(gunzipSync(gz));
    assert.ok(!text.includes('cloud-secret-1') && !text.includes('li-secret-2'));
    assert.equal(options.cloud.token, 'cloud-secret-1', 'the caller\'s options are not mutated');
  });

  it('stripSecrets leaves options without tokens as they are', () => {
    assert.deepEqual(stripSecrets({ vus: 2, cloud: { name: 'x' }, ext: 'odd' }), { vus: 2, cloud: { name: 'x' }, ext: 'odd' });
  });

  it('packs the same input to the same bytes, whatever the order of files and env', async () => {
    const a = await packArchive(input());
    const reversed = new Map([...input().files].reverse());
    const b = await packArchive(input({ files: reversed, env: { MODE: 'smoke', TARGET: 'http://localhost:8080' } }));
    assert.deepEqual(b, a);
  });

  it('differs only in the created time when none is given', async () => {
    const one = readEntries(await packArchive(input({ createdAt: undefined })));
    const two = readEntries(await packArchive(input({ createdAt: new Date(0) })));
    const strip = (es: typeof one) => es.map((e) => (e.name === 'metadata.json' ? { ...JSON.parse(new TextDecoder().decode(e.data)), createdAt: null } : e));
    assert.deepEqual(strip(one), strip(two));
  });

  it('refuses to pack a file whose path is not absolute', async () => {
    await assertInvalid(
      packArchive(input({ files: new Map([['data.json', new Uint8Array(1)]]) })),
      'the opened file "data.json" cannot be archived: it is not an absolute path with plain segments',
    );
  });

  it('refuses to pack more than the limits allow', async () => {
    await assertTooLarge(packArchive(input({ limits: { maxEntries: 4 } })), 'the archive would have 5 entries, more than the limit of 4');
  });
});

describe('unpackArchive rejects', () => {
  it('data that is not gzip', async () => {
    await assertInvalid(unpackArchive(new TextEncoder().encode('hello')), 'it is not gzip-compressed (it does not start with the gzip magic bytes)');
  });

  it('corrupted gzip data', async () => {
    const gz = await packArchive(input());
    const bad = Uint8Array.from(gz);
    for (let i = 20; i < 60; i++) bad[i] = (bad[i] as number) ^ 0x5a;
    const r = await rejection(unpackArchive(bad));
    assert.equal(r.code, 'invalid_archive');
    assert.match(r.message, /^invalid archive: its gzip data is corrupt \(/);
  });

  it('a truncated archive', async () => {
    const gz = await packArchive(input());
    const r = await rejection(unpackArchive(gz.subarray(0, gz.byteLength - 30)));
    assert.equal(r.code, 'invalid_archive');
    assert.match(r.message, /^invalid archive: its gzip data is corrupt \(unexpected end of file\)$/);
  });

  it('a tar header whose checksum does not match', async () => {
    const tar = gunzipSync(await packArchive(input()));
    tar[3] = 0x41; // inside "metadata.json"
    await assertInvalid(unpackArchive(gzipSync(tar)), 'tar header 1 has a bad checksum (the tar is corrupt)');
  });

  it('an entry that climbs out with ..', async () => {
    await assertInvalid(
      unpackArchive(await withBlocks(tarHeader({ name: '../etc/passwd', size: 0 }))),
      'archive entry "../etc/passwd" contains a ".." segment; entry names must be relative paths that stay inside the archive',
    );
    await assertInvalid(
      unpackArchive(await withBlocks(tarHeader({ name: 'files/../../etc/passwd', size: 0 }))),
      'archive entry "files/../../etc/passwd" contains a ".." segment; entry names must be relative paths that stay inside the archive',
    );
  });

  it('an entry with an absolute path', async () => {
    await assertInvalid(
      unpackArchive(await withBlocks(tarHeader({ name: '/abs', size: 0 }))),
      'archive entry "/abs" is an absolute path; entry names must be relative paths that stay inside the archive',
    );
  });

  it('entry names with NUL bytes, in the name field and in a pax path', async () => {
    const nameBytes = concat([new TextEncoder().encode('files/a'), new Uint8Array([0]), new TextEncoder().encode('/../../x')]);
    await assertInvalid(unpackArchive(await withBlocks(tarHeader({ name: '', nameBytes, size: 0 }))), "a tar header's name field contains a NUL byte followed by more text");
    const pax = new TextEncoder().encode('18 path=files/a\0b\n');
    await assertInvalid(
      unpackArchive(await withBlocks(tarHeader({ name: 'PaxHeader', size: pax.byteLength, type: 'x' }), concat([pax, new Uint8Array(512 - pax.byteLength)]), tarHeader({ name: 'x', size: 0 }))),
      'archive entry "files/a\\u0000b" contains a NUL byte; entry names must be relative paths that stay inside the archive',
    );
  });

  it('symlinks, hard links and devices', async () => {
    for (const [type, what] of [['2', 'a symbolic link'], ['1', 'a hard link'], ['3', 'a character device'], ['4', 'a block device'], ['5', 'a directory']] as const) {
      await assertInvalid(
        unpackArchive(await withBlocks(tarHeader({ name: 'files/link', size: 0, type, linkname: '/etc/passwd' }))),
        `archive entry "files/link" is ${what}; herd archives hold only regular files`,
      );
    }
  });

  it('an entry that appears twice', async () => {
    await assertInvalid(
      unpackArchive(await edited((es) => [...es, { name: 'files/home/me/tests/data.json', data: new Uint8Array(1) }])),
      'the entry "files/home/me/tests/data.json" appears more than once',
    );
  });

  it('an entry that is not part of a herd archive', async () => {
    await assertInvalid(
      unpackArchive(await edited((es) => [...es, { name: 'run.sh', data: new Uint8Array(1) }])),
      'the entry "run.sh" is not part of a herd archive (expected metadata.json, script/artifact.json and files/...)',
    );
  });

  it('an entry whose header declares more than the limit, before reading its data', async () => {
    // Only a few bytes of the 200 MB follow: were the header not checked, this would be "truncated".
    await assertTooLarge(
      unpackArchive(gzipSync(concat([tarHeader({ name: 'files/big', size: 200 * 1024 * 1024 }), new Uint8Array(4096)]))),
      'the archive\'s files add up to more than 50 MiB, the limit (entry "files/big" declares 200 MiB)',
    );
  });

  it('a gzip bomb of 200 MB of zeros, stopping at the limit instead of inflating it all', async () => {
    const chunks: Buffer[] = [];
    const gz = createGzip({ level: 9 });
    gz.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((r) => gz.on('end', r));
    const mib = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 200; i++) gz.write(mib);
    gz.end();
    await done;
    const bomb = Uint8Array.from(Buffer.concat(chunks));
    assert.ok(bomb.byteLength < 400 * 1024, `the bomb is ${bomb.byteLength} bytes`);
    // Break the gzip trailer (CRC): inflating everything would end in "corrupt", not "too large".
    bomb[bomb.byteLength - 5] = (bomb[bomb.byteLength - 5] as number) ^ 0xff;
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    await assertTooLarge(unpackArchive(bomb), 'the archive inflates to more than 50 MiB, the limit; unpacking stopped there');
    const ms = performance.now() - t0;
    assert.ok(ms < 3000, `rejected in ${ms} ms`);
    assert.ok(process.memoryUsage().arrayBuffers - before < 100 * 1024 * 1024, 'without holding the inflated bytes');
  });

  it('more unpacked bytes than limits.maxBytes', async () => {
    const gz = await packArchive(input({ files: new Map([['/d/big.bin', new Uint8Array(5000)]]) }));
    await assertTooLarge(
      unpackArchive(gz, { maxBytes: 4000 }),
      'the archive inflates to more than 3.9 KiB, the limit; unpacking stopped there',
    );
  });

  it('a compressed archive larger than limits.maxCompressedBytes, before inflating it', async () => {
    await assertTooLarge(unpackArchive(new Uint8Array(2000), { maxCompressedBytes: 1000 }), 'the archive is 2.0 KiB, more than the limit of 1000 bytes');
  });

  it('more entries than the default limit of 1,000', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ name: `files/f${i}`, data: new Uint8Array(0) }));
    await assertTooLarge(unpackArchive(gzipSync(encodeTar(many))), 'the archive has more than 1000 entries, the limit');
  });

  it('a file whose bytes do not match its sha256', async () => {
    await assertInvalid(
      unpackArchive(await edited((es) => es.map((e) => (e.name === 'files/home/me/tests/data.json' ? { name: e.name, data: new TextEncoder().encode('{"users":["a","X"]}') } : e)))),
      '/home/me/tests/data.json does not match its size and sha256 in metadata.json (the archive is corrupt or was altered)',
    );
  });

  it('an archive without metadata.json', async () => {
    await assertInvalid(unpackArchive(await edited((es) => es.filter((e) => e.name !== 'metadata.json'))), 'it has no metadata.json');
  });

  it('an archive without script/artifact.json', async () => {
    await assertInvalid(unpackArchive(await edited((es) => es.filter((e) => e.name !== 'script/artifact.json'))), 'it has no script/artifact.json');
  });

  it('an unknown format version, saying which one this herd reads', async () => {
    const r = await rejection(unpackArchive(await edited(editMetadata((m) => (m['formatVersion'] = 2)))));
    assert.deepEqual(r, {
      code: 'invalid_archive',
      message: 'invalid archive: its format version is 2; this herd reads version 1',
      hint: 'Use the same herd version on the machine that packs the archive and on the agents.',
    });
  });

  it('metadata with unknown keys or wrong types', async () => {
    await assertInvalid(unpackArchive(await edited(editMetadata((m) => (m['extra'] = true)))), 'metadata.json: metadata has unknown keys "extra"');
    await assertInvalid(unpackArchive(await edited(editMetadata((m) => (m['env'] = { A: 1 })))), 'metadata.json: metadata.env.A must be a string, got 1');
  });

  it('an artifact that does not match its schema', async () => {
    const bad = { ...ARTIFACT, code: 42 } as unknown as ScriptArtifact;
    const valid = readEntries(await packArchive(input()));
    const artifact = new TextEncoder().encode(JSON.stringify(bad));
    const sha = createHash('sha256').update(artifact).digest('hex');
    const gz = gzipSync(
      encodeTar(
        editMetadata((m) => (m['artifact'] = { size: artifact.byteLength, sha256: sha }))(valid).map((e) => (e.name === 'script/artifact.json' ? { name: e.name, data: artifact } : e)),
      ),
    );
    await assertInvalid(unpackArchive(gz), 'script/artifact.json: artifact.code must be a string, got 42');
  });

  it('a file entry that metadata.json does not list, and a listed file that is missing', async () => {
    await assertInvalid(
      unpackArchive(await edited(editMetadata((m) => (m['files'] = (m['files'] as { path: string }[]).filter((f) => f.path !== '/home/me/empty.txt'))))),
      'the entry "files/home/me/empty.txt" is not listed in metadata.json',
    );
    await assertInvalid(
      unpackArchive(await edited((es) => es.filter((e) => e.name !== 'files/home/me/empty.txt'))),
      'metadata.json lists "/home/me/empty.txt" but the archive has no entry "files/home/me/empty.txt"',
    );
  });

  it('data after the end-of-archive marker', async () => {
    const tar = gunzipSync(await packArchive(input()));
    await assertInvalid(unpackArchive(gzipSync(concat([tar, new TextEncoder().encode('#!/bin/sh')]))), 'the tar has data after its end-of-archive marker');
  });
});

describe('archiveFileReader', () => {
  it('returns undefined for files the archive does not hold and for relative paths', async () => {
    const read = archiveFileReader(await unpackArchive(await packArchive(input())));
    assert.equal(read('/etc/passwd'), undefined);
    assert.equal(read('data.json'), undefined);
    assert.deepEqual(read('/home/me/tests/img/../data.json'), new TextEncoder().encode('{"users":["a","b"]}'));
  });

  it('lets an archived script open() its files after the originals are gone', async () => {
    const dir = await writeScripts({
      'script.js': [
        `const data = JSON.parse(open('./data.json'));`,
        `const bin = new Uint8Array(open('./bin.dat', 'b'));`,
        `export const value = data.value;`,
        `export const bytes = Array.from(bin).join(',');`,
        `export default function () {}`,
      ].join('\n'),
      'data.json': '{"value":"from the archive"}',
      'bin.dat': '',
    });
    await writeFile(join(dir, 'bin.dat'), new Uint8Array([0, 255, 10, 13]));
    const entry = join(dir, 'script.js');
    const artifact = await prepareScript({ entry, cacheDir: await mkdtemp(join(tmpdir(), 'herd-cache-')), builtinModules: BUILTINS });
    const files = new Map([
      [join(dir, 'data.json'), new Uint8Array(await readFile(join(dir, 'data.json')))],
      [join(dir, 'bin.dat'), new Uint8Array(await readFile(join(dir, 'bin.dat')))],
    ]);
    const gz = await packArchive({ entry, artifact, options: {}, env: {}, files, herdVersion: '0.1.0' });
    await rm(dir, { recursive: true });

    const archive = await unpackArchive(gz);
    const read = archiveFileReader(archive);
    const script = compileScript(archive.artifact);
    const ex = await script.instantiate({
      require: () => ({}),
      globals: {
        open: (path: string, mode: string | undefined, baseDir: string) => {
          const bytes = read(resolve(baseDir, path));
          if (bytes === undefined) throw new Error(`open: ${path} is not in the archive`);
          return mode === 'b' ? script.arrayBuffer(bytes) : new TextDecoder().decode(bytes);
        },
      },
    });
    assert.equal(ex['value'], 'from the archive');
    assert.equal(ex['bytes'], '0,255,10,13');
  });
});
