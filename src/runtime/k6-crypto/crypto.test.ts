import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { describe, it } from 'node:test';
import { HerdError } from '../../errors/index.js';
import { createFakeTest, createFakeVu } from '../k6-metrics/fake-vu.js';
import { createCryptoModule, type CryptoApi, type Hasher } from './index.js';

const crypto = createCryptoModule().instantiate(createFakeVu(createFakeTest()))['default'] as CryptoApi;

function hex(bytes: number, value: number): ArrayBuffer {
  return new Uint8Array(bytes).fill(value).buffer;
}

function bytesOf(ab: string | ArrayBuffer): Buffer {
  assert.ok(ab instanceof ArrayBuffer, 'expected an ArrayBuffer');
  return Buffer.from(ab);
}

describe('k6/crypto digests', () => {
  it('hash a string as its UTF-8 bytes, including non-ASCII text, lone surrogates and large payloads', () => {
    const { createHash, createHmac } = nodeCrypto;
    for (const text of ['', 'abc', 'héllo wörld ✓ 日本', 'lone \ud800 surrogate', 'x'.repeat(70_000)]) {
      const bytes = Buffer.from(text, 'utf8');
      assert.equal(crypto.sha256(text, 'hex'), createHash('sha256').update(bytes).digest('hex'), JSON.stringify(text.slice(0, 20)));
      assert.equal(crypto.sha256(text, 'hex'), crypto.sha256(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), 'hex'));
      assert.equal(crypto.hmac('sha256', 'key', text, 'hex'), createHmac('sha256', 'key').update(bytes).digest('hex'));
      const h = crypto.createHash('sha1');
      h.update(text);
      assert.equal(h.digest('hex'), createHash('sha1').update(bytes).digest('hex'));
    }
  });

  it('match the published "abc" test vectors of every supported algorithm', () => {
    // FIPS 180-4 examples, RFC 1321 for md5, the RIPEMD-160 authors' page for ripemd160.
    assert.equal(crypto.md5('abc', 'hex'), '900150983cd24fb0d6963f7d28e17f72');
    assert.equal(crypto.sha1('abc', 'hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
    assert.equal(crypto.sha256('abc', 'hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(
      crypto.sha384('abc', 'hex'),
      'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
    );
    assert.equal(
      crypto.sha512('abc', 'hex'),
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    );
    assert.equal(crypto.sha512_224('abc', 'hex'), '4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa');
    assert.equal(crypto.sha512_256('abc', 'hex'), '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
    assert.equal(crypto.ripemd160('abc', 'hex'), '8eb208f7e05d987a9b044a8e98c6b087f15a0bfc');
  });

  it('hash the empty string to the known md5 and sha256 values', () => {
    assert.equal(crypto.md5('', 'hex'), 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(crypto.sha256('', 'hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('give the same digest for a string and for an ArrayBuffer of its bytes, as in the k6 docs', () => {
    const bin = new Uint8Array([104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33]).buffer;
    const expected = '7509e5bda0c762d2bac7f90d758b5b2263fa01ccbc542ab5e3df163be08e6ca9';
    assert.equal(crypto.sha256('hello world!', 'hex'), expected);
    assert.equal(crypto.sha256(bin, 'hex'), expected);
    assert.equal(crypto.sha512_256(bin, 'hex'), '595b5926068b4828fb1c27db21281e31118b8475cb6c3ceeb09be7b685414d5f');
  });

  it('encode in base64 with padding, base64url with padding, base64rawurl without', () => {
    // md5("abc") ends in ...7f72: its base64 needs two padding characters and contains "/".
    assert.equal(crypto.md5('a', 'hex'), '0cc175b9c0f1b6a831c399e269772661');
    assert.equal(crypto.md5('a', 'base64'), 'DMF1ucDxtqgxw5niaXcmYQ==');
    assert.equal(crypto.sha1('abc', 'base64'), 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0=');
    assert.equal(crypto.sha1('abc', 'base64url'), 'qZk-NkcGgWq6PiVxeFDCbJzQ2J0=');
    assert.equal(crypto.sha1('abc', 'base64rawurl'), 'qZk-NkcGgWq6PiVxeFDCbJzQ2J0');
  });

  it('return an ArrayBuffer of the raw digest for the binary encoding', () => {
    const sum = bytesOf(crypto.sha256('abc', 'binary'));
    assert.equal(sum.length, 32);
    assert.equal(sum.toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('reject an unknown output encoding, naming it and the allowed ones', () => {
    assert.throws(() => crypto.sha256('abc', 'b64'), (e: unknown) => {
      assert.ok(e instanceof HerdError);
      assert.equal(e.code, 'script_exception');
      assert.equal(e.message, 'invalid output encoding: b64, it must be one of hex, base64, base64url, base64rawurl, binary');
      return true;
    });
  });

  it('report md4 as unsupported by herd rather than as an unknown name', () => {
    assert.throws(() => crypto.md4('abc', 'hex'), (e: unknown) => e instanceof HerdError && e.code === 'script_unsupported' && /md4/.test(e.message));
  });
});

describe('k6/crypto hmac', () => {
  it('matches the RFC 4231 and RFC 2202 test vectors', () => {
    const key = hex(20, 0x0b);
    assert.equal(crypto.hmac('sha256', key, 'Hi There', 'hex'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    assert.equal(
      crypto.hmac('sha384', key, 'Hi There', 'hex'),
      'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
    );
    assert.equal(
      crypto.hmac('sha512', key, 'Hi There', 'hex'),
      '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
    );
    assert.equal(
      crypto.hmac('sha256', 'Jefe', 'what do ya want for nothing?', 'hex'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    assert.equal(crypto.hmac('sha1', key, 'Hi There', 'hex'), 'b617318655057264e28bc0b6fb378c8ef146be00');
    assert.equal(crypto.hmac('md5', hex(16, 0x0b), 'Hi There', 'hex'), '9294727a3638bb1c13f48ef8158bfc9d');
  });

  it('hashes a key longer than the block size first (RFC 4231 case 6)', () => {
    const data = 'Test Using Larger Than Block-Size Key - Hash Key First';
    const expected = '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54';
    assert.equal(crypto.hmac('sha256', hex(131, 0xaa), data, 'hex'), expected);
    const h = crypto.createHMAC('sha256', hex(131, 0xaa));
    h.update(data);
    assert.equal(h.digest('hex'), expected);
  });

  it('rejects an unknown algorithm, naming it and the allowed ones', () => {
    assert.throws(() => crypto.hmac('sha3', 'k', 'd', 'hex'), (e: unknown) => {
      assert.ok(e instanceof HerdError);
      assert.match(e.message, /^invalid algorithm: sha3, it must be one of md5, sha1, sha256, /);
      return true;
    });
    assert.throws(() => crypto.createHash('nope'), { message: /^invalid algorithm: nope,/ });
  });
});

describe('k6/crypto hashers', () => {
  it('createHash gives the one-shot digest whatever the update chunks', () => {
    const h: Hasher = crypto.createHash('sha256');
    h.update('a');
    h.update(new TextEncoder().encode('bc').buffer);
    assert.equal(h.digest('hex'), crypto.sha256('abc', 'hex'));
  });

  it('can digest, update and digest again, as Go hashes can', () => {
    const h = crypto.createHash('md5');
    h.update('a');
    assert.equal(h.digest('hex'), crypto.md5('a', 'hex'));
    h.update('bc');
    assert.equal(h.digest('hex'), crypto.md5('abc', 'hex'));
    const m = crypto.createHMAC('sha256', 'Jefe');
    m.update('what do ya want ');
    m.digest('hex');
    m.update('for nothing?');
    assert.equal(m.digest('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('createHMAC matches hmac for every supported algorithm and an empty key', () => {
    for (const alg of ['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha512_224', 'sha512_256', 'ripemd160']) {
      for (const key of ['', 'short', 'x'.repeat(200)]) {
        const h = crypto.createHMAC(alg, key);
        h.update('payload');
        assert.equal(h.digest('base64'), crypto.hmac(alg, key, 'payload', 'base64'), `${alg} with a ${key.length}-byte key`);
      }
    }
  });
});

describe('k6/crypto randomBytes and hexEncode', () => {
  it('randomBytes returns an ArrayBuffer of the requested length with varying content', () => {
    const a = crypto.randomBytes(32);
    const b = crypto.randomBytes(32);
    assert.ok(a instanceof ArrayBuffer);
    assert.equal(a.byteLength, 32);
    assert.notDeepEqual(new Uint8Array(a), new Uint8Array(b));
    assert.equal(crypto.randomBytes(1).byteLength, 1);
  });

  it('randomBytes refuses sizes below 1', () => {
    assert.throws(() => crypto.randomBytes(0), { message: 'invalid size: 0, it must be a number of bytes of at least 1' });
    assert.throws(() => crypto.randomBytes('x'), { message: /^invalid size: x,/ });
  });

  it('hexEncode prints the bytes of a string or an ArrayBuffer', () => {
    assert.equal(crypto.hexEncode('hi'), '6869');
    assert.equal(crypto.hexEncode(new Uint8Array([0, 255]).buffer), '00ff');
  });
});
