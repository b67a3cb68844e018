import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HerdError } from '../../errors/index.js';
import { createFakeTest, createFakeVu } from '../k6-metrics/fake-vu.js';
import { b64decode, b64encode, createEncodingModule } from './index.js';

// RFC 4648 section 10 test vectors.
const RFC4648: ReadonlyArray<[string, string]> = [
  ['', ''],
  ['f', 'Zg=='],
  ['fo', 'Zm8='],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg=='],
  ['fooba', 'Zm9vYmE='],
  ['foobar', 'Zm9vYmFy'],
];

function bytes(ab: ArrayBuffer | string): number[] {
  assert.ok(ab instanceof ArrayBuffer, 'expected an ArrayBuffer');
  return [...new Uint8Array(ab)];
}

function assertIllegal(fn: () => unknown, at: number): void {
  assert.throws(fn, (e: unknown) => e instanceof HerdError && e.code === 'script_exception' && e.message === `illegal base64 data at input byte ${at}`);
}

describe('k6/encoding', () => {
  it('encodes the RFC 4648 test vectors in the std variant by default', () => {
    for (const [plain, encoded] of RFC4648) assert.equal(b64encode(plain), encoded);
  });

  it('decodes the RFC 4648 test vectors back to strings with format "s"', () => {
    for (const [plain, encoded] of RFC4648) assert.equal(b64decode(encoded, 'std', 's'), plain);
  });

  it('drops the padding in the rawstd and rawurl variants', () => {
    assert.equal(b64encode('f', 'rawstd'), 'Zg');
    assert.equal(b64encode('fo', 'rawurl'), 'Zm8');
    assert.equal(b64decode('Zg', 'rawstd', 's'), 'f');
  });

  it('uses - and _ with padding in the url variant, as Go does', () => {
    const input = new Uint8Array([0xfb, 0xff, 0xbf, 0xfe]).buffer;
    assert.equal(b64encode(input, 'std'), '+/+//g==');
    assert.equal(b64encode(input, 'url'), '-_-__g==');
    assert.equal(b64encode(input, 'rawurl'), '-_-__g');
    assert.deepEqual(bytes(b64decode('-_-__g==', 'url')), [0xfb, 0xff, 0xbf, 0xfe]);
    assert.deepEqual(bytes(b64decode('-_-__g', 'rawurl')), [0xfb, 0xff, 0xbf, 0xfe]);
  });

  it('returns an ArrayBuffer holding exactly the decoded bytes when no format is given', () => {
    const ab = b64decode('aGVsbG8gd29ybGQ=');
    assert.deepEqual(bytes(ab), [104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100]);
  });

  it('encodes strings as UTF-8 and accepts typed arrays', () => {
    assert.equal(b64encode('é'), 'w6k=');
    assert.equal(b64encode(new Uint8Array([1, 2, 3]).subarray(1)), 'AgM=');
  });

  it('falls back to std for an unknown variant name, as k6 does', () => {
    assert.equal(b64encode('fo', 'nope'), 'Zm8=');
  });

  it('rejects characters outside the variant alphabet, naming the byte offset', () => {
    assertIllegal(() => b64decode('Zm9v!mFy'), 4);
    assertIllegal(() => b64decode('-_-__g==', 'std'), 0);
    assertIllegal(() => b64decode('+/+//g==', 'url'), 0);
  });

  it('rejects missing padding in padded variants and padding in raw ones', () => {
    assertIllegal(() => b64decode('Zg'), 2);
    assertIllegal(() => b64decode('Zg=', 'std'), 3);
    assertIllegal(() => b64decode('Zg==', 'rawstd'), 2);
    assertIllegal(() => b64decode('Zm9vY', 'rawstd'), 5);
    assertIllegal(() => b64decode('Zg==Zg=='), 4);
  });

  it('skips line breaks inside the input, as Go does', () => {
    assert.equal(b64decode('Zm9v\r\nYmFy', 'std', 's'), 'foobar');
  });

  it('rejects input that is neither a string nor binary data', () => {
    assert.throws(() => b64encode(42), { message: 'b64encode: invalid input type number, expected a string or an ArrayBuffer' });
  });

  it('gives the same functions as default and named exports', () => {
    const mod = createEncodingModule().instantiate(createFakeVu(createFakeTest()));
    const def = mod['default'] as Record<string, unknown>;
    assert.equal(mod['b64encode'], def['b64encode']);
    assert.equal(mod['b64decode'], b64decode);
  });
});
