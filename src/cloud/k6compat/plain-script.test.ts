import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHerdError } from '../../errors/index.js';
import { readK6Archive } from './k6-archive.js';
import { k6ArchiveOfScript } from './plain-script.js';

const optionsOf = (script: string) => readK6Archive(k6ArchiveOfScript(script)).metadata.options;

describe('k6ArchiveOfScript', () => {
  it('reads options written out literally, in every way a module can export them', () => {
    assert.deepEqual(optionsOf("export const options = { vus: 2, 'duration': `30s`, stages: [{ target: -1 }], tags: null, noSetup: true };"),
      { vus: 2, duration: '30s', stages: [{ target: -1 }], tags: null, noSetup: true });
    assert.deepEqual(optionsOf('const opts = { iterations: 5 };\nexport { opts as options };\nexport default function () {}'), { iterations: 5 });
    assert.deepEqual(optionsOf('export let options = { vus: 1 }, other = 2;'), { vus: 1 });
  });

  it('gives a script without an options export no options, and keeps the script as the archive\'s main file', () => {
    const archive = readK6Archive(k6ArchiveOfScript('export default function () {}\n'));
    assert.deepEqual(archive.metadata.options, {});
    assert.equal(new TextDecoder().decode(archive.data), 'export default function () {}\n');
    assert.equal(archive.main, 'file/script.js');
  });

  it('refuses options that only running the script would tell, naming where', () => {
    const cases: Array<[string, RegExp]> = [
      ['export const options = { vus: __ENV.VUS };', /options\.vus is computed \(MemberExpression\) at line 1/],
      ['const base = {};\nexport const options = { ...base };', /options spreads another object/],
      ['export const options = { [k]: 1 };', /computed key/],
      ['export const options = { stages: [1, f()] };', /options\.stages\[1\] is computed \(CallExpression\)/],
      ['export function options() {}', /"options" is a function/],
      ["export { options } from './opts.js';", /re-exported/],
      ['export const options = [1];', /must be an object/],
    ];
    for (const [script, message] of cases) {
      assert.throws(() => k6ArchiveOfScript(script), (e) => isHerdError(e) && e.code === 'script_unsupported' && message.test(e.message) && e.hint !== undefined, script);
    }
  });

  it('refuses text that is not a module with script_syntax', () => {
    assert.throws(() => k6ArchiveOfScript('export default function ( {'), (e) => isHerdError(e) && e.code === 'script_syntax');
  });
});
