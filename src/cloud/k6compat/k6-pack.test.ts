import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { unpackArchive } from '../../script/index.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../script/archive-limits.js';
import { convertK6Archive, readK6Archive } from './k6-archive.js';
import { packK6Archive } from './k6-pack.js';
import { readK6Tar } from './k6-tar.js';

describe('herd archive (packK6Archive)', () => {
  it('writes a k6 archive with the imported module and the open()ed file, which converts back into a herd archive', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herd-k6-pack-'));
    mkdirSync(path.join(dir, 'lib'));
    writeFileSync(path.join(dir, 'lib', 'util.js'), 'export const twice = (x) => x * 2;\n');
    writeFileSync(path.join(dir, 'users.json'), '[1,2,3]');
    writeFileSync(path.join(dir, 'script.js'), [
      "import { twice } from './lib/util.js';",
      "const users = JSON.parse(open('./users.json'));",
      "export const options = { vus: 3, iterations: twice(users.length), cloud: { token: 'do-not-ship', name: 'packed' } };",
      'export default function () {}',
    ].join('\n'));
    const packed = await packK6Archive({
      entry: path.join(dir, 'script.js'), env: { A: 'x' }, userEnv: { A: 'x' }, layers: [], cacheDir: path.join(dir, 'cache'), logger: { log() {} }, pwd: dir,
    });
    const names = readK6Tar(packed.tar, DEFAULT_ARCHIVE_LIMITS).map((e) => `${e.kind} ${e.name}`);
    assert.deepEqual(names.slice(0, 2), ['file metadata.json', 'file data']);
    assert.ok(names.includes(`link file${dir}/script.js`), names.join('\n'));
    assert.ok(names.includes(`file file${dir}/lib/util.js`), names.join('\n'));
    assert.ok(names.includes(`file file${dir}/users.json`), names.join('\n'));
    const k6 = readK6Archive(packed.tar);
    // The script's own text keeps what it says; the options written to metadata.json hold no token.
    assert.deepEqual(k6.metadata.options['cloud'], { name: 'packed' });
    assert.deepEqual(k6.metadata.env, { A: 'x' });
    assert.equal(k6.metadata.options['iterations'], 6);
    const herd = await unpackArchive((await convertK6Archive(packed.tar)).archive);
    assert.equal(herd.metadata.options['vus'], 3);
    assert.equal(herd.metadata.options['iterations'], 6);
    assert.deepEqual((herd.metadata.options['cloud'] as Record<string, unknown>)['name'], 'packed');
    assert.equal(herd.files.size, 1);
  });
});
