import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParser, HttpParseError } from './response-parser.js';

function feed(p: ResponseParser, ...parts: string[]): boolean {
  let done = false;
  for (const part of parts) done = p.execute(Buffer.from(part, 'latin1'));
  return done;
}

function bodyOf(p: ResponseParser): string {
  return Buffer.concat(p.body).toString('latin1');
}

test('a Content-Length response split inside the head and the body parses completely', () => {
  const p = new ResponseParser();
  p.begin(false, true);
  assert.equal(feed(p, 'HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 5\r\nX-A: 1\r', '\n\r\nhe'), false);
  assert.equal(feed(p, 'llo'), true);
  assert.equal(p.statusCode, 200);
  assert.equal(p.reason, 'OK');
  assert.deepEqual(p.headers, ['Content-Le' + 'ngth', '5', 'X-A', '1']);
  assert.equal(bodyOf(p), 'hello');
  assert.equal(p.keepAlive, true);
});

test('a chunked body with extensions and trailers split byte by byte is reassembled', () => {
  const p = new ResponseParser();
  p.begin(false, true);
  const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n';
  let done = false;
  for (const ch of wire) done = p.execute(Buffer.from(ch, 'latin1'));
  assert.equal(done, true);
  assert.equal(bodyOf(p), 'helloabcdefghijklmnopqrstuvwxyz');
  assert.equal(p.bodyLength, 31);
});

test('informational 100 responses are skipped before the real response', () => {
  const p = new ResponseParser();
  p.begin(false, true);
  assert.equal(feed(p, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'), true);
  assert.equal(p.statusCode, 201);
  assert.equal(bodyOf(p), 'ok');
});

test('HEAD, 204 and 304 responses end after the head even with a Content-Length', () => {
  const p = new ResponseParser();
  p.begin(true, true);
  assert.equal(feed(p, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'), true);
  p.begin(false, true);
  assert.equal(feed(p, 'HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n'), true);
  p.begin(false, true);
  assert.equal(feed(p, 'HTTP/1.1 304 Not Modified\r\n\r\n'), true);
});

test('a body without length runs until the connection ends and the connection is not reused', () => {
  const p = new ResponseParser();
  p.begin(false, true);
  assert.equal(feed(p, 'HTTP/1.1 200 OK\r\n\r\npart1', 'part2'), false);
  assert.equal(p.keepAlive, false);
  assert.equal(p.eof(), true);
  assert.equal(bodyOf(p), 'part1part2');
});

test('Connection: close and HTTP/1.0 responses are not kept alive, HTTP/1.0 keep-alive is', () => {
  const p = new ResponseParser();
  p.begin(false, true);
  feed(p, 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  assert.equal(p.keepAlive, false);
  p.begin(false, true);
  feed(p, 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  assert.equal(p.keepAlive, false);
  assert.equal(p.httpMinor, 0);
  p.begin(false, true);
  feed(p, 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n');
  assert.equal(p.keepAlive, true);
});

test('a discarded body is counted but not kept', () => {
  const p = new ResponseParser();
  p.begin(false, false);
  assert.equal(feed(p, 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd'), true);
  assert.equal(p.bodyLength, 4);
  assert.equal(p.body.length, 0);
});

test('a truncated Content-Length body is not complete at end of stream', () => {
  const p = new ResponseParser();
  p.begin(false, true);
  assert.equal(feed(p, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), false);
  assert.equal(p.eof(), false);
});

test('malformed status lines, lengths and chunk sizes are rejected', () => {
  const p = new ResponseParser();
  p.begin(false, true);
  assert.throws(() => feed(p, 'HTTP/2 200 OK\r\n\r\n'), HttpParseError);
  p.begin(false, true);
  assert.throws(() => feed(p, 'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n'), /bad Content-Length/);
  p.begin(false, true);
  assert.throws(() => feed(p, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), /chunk length/);
});

test('bytes after a complete response make the connection not reusable', () => {
  const p = new ResponseParser();
  p.begin(false, true);
  assert.equal(feed(p, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naGARBAGE'), true);
  assert.equal(p.keepAlive, false);
});

test('a repeated head reuses the earlier parse (also across parsers) and reads the same as a fresh one', () => {
  const head = 'HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 3\r\nContent-Encoding: gzip\r\n\r\n';
  const a = new ResponseParser();
  a.begin(false, true);
  assert.equal(feed(a, head + 'abc'), true);
  const first = a.headers;
  assert.deepEqual(first, ['Server', 't', 'Content-Length', '3', 'Content-Encoding', 'gzip']);
  const b = new ResponseParser();
  b.begin(false, true);
  assert.equal(feed(b, head, 'xyz'), true);
  assert.equal(b.headers, first, 'the cached header array is shared');
  assert.ok(Object.isFrozen(b.headers));
  assert.equal(b.statusCode, 200);
  assert.equal(b.reason, 'OK');
  assert.equal(b.contentLength, 3);
  assert.equal(b.contentEncoding, 'gzip');
  assert.equal(bodyOf(b), 'xyz');
  // One byte different is parsed anew.
  b.begin(false, true);
  assert.equal(feed(b, head.replace('Server: t', 'Server: u') + 'def'), true);
  assert.deepEqual(b.headers, ['Server', 'u', 'Content-Length', '3', 'Content-Encoding', 'gzip']);
  assert.equal(bodyOf(b), 'def');
  // A discarded body leaves no body array behind.
  b.begin(false, false);
  assert.equal(feed(b, head + 'ghi'), true);
  assert.equal(b.body.length, 0);
  assert.equal(b.bodyLength, 3);
});

/** Feeds `parts` as a socket reading into one reused buffer would: each chunk is overwritten after the call. */
function feedShared(p: ResponseParser, ...parts: string[]): boolean {
  const shared = Buffer.alloc(256);
  let done = false;
  for (const part of parts) {
    const n = shared.write(part, 'latin1');
    done = p.execute(shared.subarray(0, n));
    shared.fill(0x58); // 'X': anything the parser kept a view of is now garbage
  }
  return done;
}

test('a parser for a reused read buffer keeps copies: bodies split across reads survive the buffer being overwritten', () => {
  const length = new ResponseParser(true);
  length.begin(false, true);
  assert.equal(feedShared(length, 'HTTP/1.1 200 OK\r\nContent-Len', 'gth: 11\r\n\r\nhello', ' world'), true);
  assert.equal(bodyOf(length), 'hello world');
  assert.equal(length.body.length, 1, 'a body of known length is copied into one Buffer');

  const chunked = new ResponseParser(true);
  chunked.begin(false, true);
  assert.equal(feedShared(chunked, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', '4\r\ndefg\r\n0\r\n\r\n'), true);
  assert.equal(bodyOf(chunked), 'abcdefg');

  const untilClose = new ResponseParser(true);
  untilClose.begin(false, true);
  assert.equal(feedShared(untilClose, 'HTTP/1.1 200 OK\r\n\r\nfirst ', 'second'), false);
  assert.equal(untilClose.eof(), true);
  assert.equal(bodyOf(untilClose), 'first second');
});

test('a head that starts like a cached one but goes on is parsed, not taken from the cache', () => {
  const first = new ResponseParser();
  first.begin(false, true);
  assert.equal(feed(first, 'HTTP/1.1 200 OK\r\nX-Seen: cached-prefix-test\r\nContent-Length: 2\r\n\r\nok'), true);
  const again = new ResponseParser();
  again.begin(false, true);
  assert.equal(feed(again, 'HTTP/1.1 200 OK\r\nX-Seen: cached-prefix-test\r\nContent-Length: 2\r\n\r\nok'), true);
  assert.equal(again.headers, first.headers, 'the same head bytes reuse the cached parse');
  const longer = new ResponseParser();
  longer.begin(false, true);
  assert.equal(feed(longer, 'HTTP/1.1 200 OK\r\nX-Seen: cached-prefix-test\r\nContent-Length: 2\r\nX-More: 1\r\n\r\nok'), true);
  assert.deepEqual(longer.headers, ['X-Seen', 'cached-prefix-test', 'Content-Length', '2', 'X-More', '1']);
  assert.equal(bodyOf(longer), 'ok');
});

test('a cached head is matched byte for byte at any alignment, in a buffer read up to a given length', () => {
  // The value ends the head, so its last bytes are the ones after the last whole word.
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Align: abcdefghijklm\r\n\r\n';
  const parse = (text: string, offset: number): ResponseParser => {
    // As a socket reading into a shared buffer: the length says where the read ends, garbage follows.
    const buf = Buffer.from(new ArrayBuffer(512), offset, 256);
    const n = buf.write(text, 'latin1');
    buf.fill(0x58, n);
    const p = new ResponseParser(true);
    p.begin(false, true);
    assert.equal(p.execute(buf, n), true);
    assert.equal(p.keepAlive, true, 'nothing after the given length was read');
    return p;
  };
  for (const offset of [0, 1, 2, 3, 4]) {
    const first = parse(head + 'ok', offset);
    const again = parse(head + 'ok', offset);
    assert.equal(again.headers, first.headers, `offset ${offset}: the same head reuses the cached parse`);
    assert.equal(bodyOf(again), 'ok');
    // Every byte of the value counts, in the whole words and in the bytes after them.
    const from = head.indexOf('abcdefghijklm');
    for (let i = from; i < from + 13; i++) {
      const value = 'abcdefghijklm'.slice(0, i - from) + 'Z' + 'abcdefghijklm'.slice(i - from + 1);
      const other = parse(head.replace('abcdefghijklm', value) + 'ok', offset);
      assert.deepEqual(other.headers, ['Content-Length', '2', 'X-Align', value], `offset ${offset}, byte ${i}`);
    }
  }
});
