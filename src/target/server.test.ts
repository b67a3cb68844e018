import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WebSocket, type RawData } from 'ws';
import { startTarget, type RunningTarget } from './index.js';

// Every test talks to a real server over loopback. node:http is used rather than fetch
// because it sends headers and request targets exactly as given (repeats, odd encodings).

let target: RunningTarget;

before(async () => {
  target = await startTarget({ port: 0 });
});

after(async () => {
  await target.close();
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

interface SendOptions {
  method?: string;
  /** Flat `[name, value, name, value…]` list (sent verbatim) or a plain object. */
  headers?: string[] | Record<string, string>;
  body?: string | Buffer;
  /** Body chunks written with the given pause between them (forces chunked encoding). */
  chunks?: { data: string; pauseMs: number }[];
  agent?: http.Agent | false;
}

/**
 * Completes the header list the way a normal client would: node:http adds no Host to an
 * array of headers, and no Content-Length to a DELETE body, so both are added here unless
 * the test set them itself.
 */
function completeHeaders(opts: SendOptions): string[] {
  const list: string[] = [];
  if (Array.isArray(opts.headers)) list.push(...opts.headers);
  else if (opts.headers !== undefined) {
    for (const [name, value] of Object.entries(opts.headers)) list.push(name, value);
  }
  const names = list.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
  if (!names.includes('host')) list.unshift('Host', `127.0.0.1:${target.port}`);
  if (opts.body !== undefined && !names.includes('content-length')) {
    list.push('Content-Length', String(Buffer.byteLength(opts.body)));
  }
  return list;
}

function send(path: string, opts: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: opts.method ?? 'GET',
        path,
        headers: completeHeaders(opts),
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body,
            text: body.toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.chunks !== undefined) {
      const chunks = opts.chunks;
      void (async () => {
        for (const chunk of chunks) {
          await sleep(chunk.pauseMs);
          req.write(chunk.data);
        }
        req.end();
      })();
    } else {
      req.end(opts.body);
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parse(reply: Reply): Record<string, unknown> {
  assert.equal(reply.headers['content-type'], 'application/json');
  return JSON.parse(reply.text) as Record<string, unknown>;
}

function basic(user: string, passwd: string): string {
  return 'Basic ' + Buffer.from(`${user}:${passwd}`).toString('base64');
}

const ECHO_KEYS = ['args', 'data', 'files', 'form', 'headers', 'json', 'origin', 'url'];
const ECHO_KEYS_WITH_METHOD = ['args', 'data', 'files', 'form', 'headers', 'json', 'method', 'origin', 'url'];

describe('general rules', () => {
  test('startTarget reports the bound loopback URL and the port actually picked for port 0', () => {
    assert.notEqual(target.port, 0);
    assert.equal(target.url, `http://127.0.0.1:${target.port}`);
  });

  test('every kind of response carries an exact Content-Length and is never chunked', async () => {
    const cases: [string, SendOptions][] = [
      ['/', {}],
      ['/1k', {}],
      ['/get?a=1', {}],
      ['/post', { method: 'POST', body: 'x' }],
      ['/anything/a', { method: 'PUT', chunks: [{ data: 'abc', pauseMs: 0 }] }],
      ['/status/500', {}],
      ['/status/302', {}],
      ['/delay/0', {}],
      ['/bytes/300', {}],
      ['/json', {}],
      ['/html', {}],
      ['/headers', {}],
      ['/user-agent', {}],
      ['/uuid', {}],
      ['/cookies', {}],
      ['/cookies/set?a=1', {}],
      ['/cookies/delete?a', {}],
      ['/basic-auth/u/p', {}],
      ['/redirect/2', {}],
      ['/nowhere', {}],
      ['/json', { method: 'POST' }],
      ['/bytes/x', {}],
    ];
    for (const [path, opts] of cases) {
      const reply = await send(path, opts);
      assert.equal(reply.headers['transfer-encoding'], undefined, path);
      assert.equal(reply.headers['content-length'], String(reply.body.length), path);
    }
  });

  test('JSON bodies are compact JSON.stringify output without a trailing newline', async () => {
    const reply = await send('/anything?x=1', { method: 'POST', body: '{"a": [1, 2]}' });
    assert.equal(reply.headers['content-type'], 'application/json');
    assert.equal(reply.text, JSON.stringify(JSON.parse(reply.text)));
    assert.ok(!reply.text.endsWith('\n'));
  });

  test('header names are echoed in canonical form whatever case they were sent in', async () => {
    const reply = await send('/headers', {
      headers: ['x-api-key', 'k1', 'USER-AGENT', 'ua/1', 'x-MIXED-case-NAME', 'v', 'dnt', '1'],
    });
    const headers = parse(reply)['headers'] as Record<string, string>;
    assert.equal(headers['X-Api-Key'], 'k1');
    assert.equal(headers['User-Agent'], 'ua/1');
    assert.equal(headers['X-Mixed-Case-Name'], 'v');
    assert.equal(headers['Dnt'], '1');
    assert.equal(headers['x-api-key'], undefined);
  });

  test('a header sent several times is joined with a comma, Cookie with a semicolon', async () => {
    const reply = await send('/headers', {
      headers: ['X-Multi', 'one', 'x-multi', 'two', 'X-MULTI', 'three', 'Cookie', 'a=1', 'cookie', 'b=2'],
    });
    const headers = parse(reply)['headers'] as Record<string, string>;
    assert.equal(headers['X-Multi'], 'one, two, three');
    assert.equal(headers['Cookie'], 'a=1; b=2');
  });

  test('header values are echoed exactly as received', async () => {
    const value = 'MiXeD  case,  with "quotes" and = signs;';
    const reply = await send('/headers', { headers: ['X-Raw', value] });
    assert.equal((parse(reply)['headers'] as Record<string, string>)['X-Raw'], value);
  });

  test('the header echo contains every request header including Host', async () => {
    const reply = await send('/headers', { headers: ['A', '1', 'B', '2'] });
    const headers = parse(reply)['headers'] as Record<string, string>;
    assert.deepEqual(Object.keys(headers).sort(), ['A', 'B', 'Connection', 'Host']);
    assert.equal(headers['Host'], `127.0.0.1:${target.port}`);
  });

  test('a query key seen once is a string, a repeated key an array in order, all URL-decoded', async () => {
    const reply = await send('/get?a=1&b=x%20y&a=2&c=p+q&a=3&d=%C3%A9');
    assert.deepEqual(parse(reply)['args'], { a: ['1', '2', '3'], b: 'x y', c: 'p q', d: 'é' });
  });

  test('a query key named __proto__ is an ordinary field', async () => {
    const reply = await send('/get?__proto__=x');
    assert.equal(reply.text.includes('"args":{"__proto__":"x"}'), true);
  });

  test('origin is the client address as seen over loopback', async () => {
    assert.equal(parse(await send('/get'))['origin'], '127.0.0.1');
  });

  test('url is http:// plus the Host header plus the raw request target as sent', async () => {
    const rawTarget = '/anything/%7e/a%2Fb?x=%41+&y&z=1';
    const reply = await send(rawTarget, { headers: ['Host', 'example.test:1234'] });
    assert.equal(parse(reply)['url'], `http://example.test:1234${rawTarget}`);
    const get = await send('/get?q=%20');
    assert.equal(parse(get)['url'], `http://127.0.0.1:${target.port}/get?q=%20`);
  });

  test('a path that is not listed answers 404 with {"error":"not found"}', async () => {
    for (const path of ['/nowhere', '/get/', '/gets', '/anythingelse', '/status', '/delay', '/bytes',
      '/delay/1/2', '/status/200/x', '/bytes/1/2', '/redirect/1/2', '/basic-auth/u', '/basic-auth/u/p/x',
      '/cookies/other', '/ws/echo/x']) {
      const reply = await send(path);
      assert.equal(reply.status, 404, path);
      assert.equal(reply.text, '{"error":"not found"}', path);
      assert.equal(reply.headers['content-type'], 'application/json', path);
    }
  });

  test('a listed path called with another method answers 405 with an Allow header', async () => {
    const cases: [string, string, string][] = [
      ['/get', 'POST', 'GET, HEAD'],
      ['/post', 'GET', 'POST'],
      ['/post', 'PUT', 'POST'],
      ['/put', 'POST', 'PUT'],
      ['/patch', 'GET', 'PATCH'],
      ['/delete', 'POST', 'DELETE'],
      ['/bytes/1', 'POST', 'GET'],
      ['/json', 'HEAD', 'GET'],
      ['/html', 'POST', 'GET'],
      ['/headers', 'PUT', 'GET'],
      ['/user-agent', 'POST', 'GET'],
      ['/uuid', 'DELETE', 'GET'],
      ['/cookies', 'POST', 'GET'],
      ['/cookies/set?a=1', 'POST', 'GET'],
      ['/cookies/delete?a', 'POST', 'GET'],
      ['/basic-auth/u/p', 'POST', 'GET'],
      ['/redirect/1', 'POST', 'GET'],
      ['/ws/echo', 'POST', 'GET'],
      ['/', 'POST', 'GET'],
      ['/1k', 'PUT', 'GET'],
    ];
    for (const [path, method, allow] of cases) {
      const reply = await send(path, { method });
      assert.equal(reply.status, 405, `${method} ${path}`);
      assert.equal(reply.headers['allow'], allow, `${method} ${path}`);
      if (method !== 'HEAD') assert.equal(reply.text, '{"error":"method not allowed"}');
    }
  });

  test('a malformed parameter answers 400 with an error reason', async () => {
    const paths = ['/delay/abc', '/delay/-1', '/delay/1e2', '/delay/', '/status/abc', '/status/199',
      '/status/600', '/status/', '/status/200,abc', '/status/2000', '/bytes/-1', '/bytes/1048577',
      '/bytes/x', '/bytes/', '/redirect/0', '/redirect/101', '/redirect/x', '/basic-auth/%zz/p'];
    for (const path of paths) {
      const reply = await send(path);
      assert.equal(reply.status, 400, path);
      const error = parse(reply)['error'];
      assert.equal(typeof error, 'string', path);
      assert.ok((error as string).length > 0, path);
      assert.deepEqual(Object.keys(parse(reply)), ['error'], path);
    }
  });

  test('connections are kept alive between requests with a long keep-alive timeout', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port: target.port, path: '/', agent }, (res) => {
            sockets.add(res.socket);
            assert.equal(res.headers['connection'], 'keep-alive');
            assert.equal(res.headers['keep-alive'], 'timeout=60');
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
        });
      }
      assert.equal(sockets.size, 1);
    } finally {
      agent.destroy();
    }
  });
});

describe('request echo document', () => {
  test('/post echoes args, raw data, parsed json, headers, origin and url without method', async () => {
    const body = '{"name":"herd","n":[1,2]}';
    const reply = await send('/post?q=1&q=2', {
      method: 'POST',
      body,
      headers: ['Content-Type', 'application/json', 'X-Test', 'yes'],
    });
    assert.equal(reply.status, 200);
    const doc = parse(reply);
    assert.deepEqual(Object.keys(doc), ECHO_KEYS);
    assert.deepEqual(doc['args'], { q: ['1', '2'] });
    assert.equal(doc['data'], body);
    assert.deepEqual(doc['files'], {});
    assert.deepEqual(doc['form'], {});
    assert.deepEqual(doc['json'], { name: 'herd', n: [1, 2] });
    assert.equal((doc['headers'] as Record<string, string>)['X-Test'], 'yes');
    assert.equal((doc['headers'] as Record<string, string>)['Content-Length'], String(body.length));
    assert.equal(doc['origin'], '127.0.0.1');
    assert.equal(doc['url'], `http://127.0.0.1:${target.port}/post?q=1&q=2`);
  });

  test('/put, /patch and /delete answer the echo document for their own method', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const path = '/' + method.toLowerCase();
      const reply = await send(path + '?m=' + method, { method, body: 'payload-' + method });
      assert.equal(reply.status, 200, method);
      const doc = parse(reply);
      assert.deepEqual(Object.keys(doc), ECHO_KEYS, method);
      assert.equal(doc['data'], 'payload-' + method);
      assert.deepEqual(doc['args'], { m: method });
    }
  });

  test('/anything and /anything/<path> accept any method and include it', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      for (const path of ['/anything', '/anything/', '/anything/deep/path']) {
        const reply = await send(path, { method });
        assert.equal(reply.status, 200, `${method} ${path}`);
        const doc = parse(reply);
        assert.deepEqual(Object.keys(doc), ECHO_KEYS_WITH_METHOD);
        assert.equal(doc['method'], method);
      }
    }
  });

  test('data and json are "" and null when there is no body', async () => {
    const doc = parse(await send('/anything'));
    assert.equal(doc['data'], '');
    assert.equal(doc['json'], null);
  });

  test('json is null for a body that is not valid JSON', async () => {
    const doc = parse(await send('/post', { method: 'POST', body: '{not json', headers: { 'Content-Type': 'application/json' } }));
    assert.equal(doc['data'], '{not json');
    assert.equal(doc['json'], null);
  });

  test('json is attempted whatever the Content-Type', async () => {
    const doc = parse(await send('/post', { method: 'POST', body: '[1,"two",null]', headers: { 'Content-Type': 'text/plain' } }));
    assert.deepEqual(doc['json'], [1, 'two', null]);
    const scalar = parse(await send('/post', { method: 'POST', body: '42' }));
    assert.equal(scalar['json'], 42);
  });

  test('data is the body decoded as UTF-8', async () => {
    const text = 'héllo ✓ 😀';
    const doc = parse(await send('/post', { method: 'POST', body: Buffer.from(text, 'utf8') }));
    assert.equal(doc['data'], text);
  });

  test('an urlencoded body fills form with decoded fields and keeps data raw', async () => {
    const body = 'a=1&b=x+y&a=2&c=%C3%A9%26';
    const doc = parse(await send('/post', {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'Application/X-WWW-Form-Urlencoded; charset=utf-8' },
    }));
    assert.deepEqual(doc['form'], { a: ['1', '2'], b: 'x y', c: 'é&' });
    assert.deepEqual(doc['files'], {});
    assert.equal(doc['data'], body);
    assert.equal(doc['json'], null);
  });

  test('a multipart body puts named parts in form and parts with a filename in files', async () => {
    const boundary = 'XyZ-boundary';
    const body = [
      'preamble to ignore',
      `--${boundary}`,
      'Content-Disposition: form-data; name="field"',
      '',
      'value one',
      `--${boundary}`,
      'Content-Disposition: form-data; name="field"',
      '',
      'value two',
      `--${boundary}`,
      'content-disposition: form-data; name="upload"; filename="a;b.txt"',
      'Content-Type: text/plain',
      '',
      'line 1\r\nline 2 ünïcode',
      `--${boundary}`,
      'Content-Disposition: form-data; name="empty"',
      '',
      '',
      `--${boundary}`,
      'Content-Disposition: form-data; name="other"; filename="x.bin"',
      '',
      '--not-the-boundary',
      `--${boundary}--`,
      'epilogue',
    ].join('\r\n');
    const doc = parse(await send('/anything', {
      method: 'POST',
      body,
      headers: { 'Content-Type': `multipart/form-data; boundary="${boundary}"` },
    }));
    assert.deepEqual(doc['form'], { field: ['value one', 'value two'], empty: '' });
    assert.deepEqual(doc['files'], { upload: 'line 1\r\nline 2 ünïcode', other: '--not-the-boundary' });
    assert.equal(doc['data'], body);
  });

  test('a multipart body as sent by FormData through fetch is parsed', async () => {
    const form = new FormData();
    form.append('user', 'alice');
    form.append('doc', new Blob(['file content']), 'doc.txt');
    form.append('doc', new Blob(['second file']), 'doc2.txt');
    const res = await fetch(`${target.url}/post`, { method: 'POST', body: form });
    const doc = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(doc['form'], { user: 'alice' });
    assert.deepEqual(doc['files'], { doc: ['file content', 'second file'] });
  });

  test('bodies of other content types leave form and files empty', async () => {
    const doc = parse(await send('/post', {
      method: 'POST',
      body: 'a=1&b=2',
      headers: { 'Content-Type': 'text/plain' },
    }));
    assert.deepEqual(doc['form'], {});
    assert.deepEqual(doc['files'], {});
    assert.equal(doc['data'], 'a=1&b=2');
  });

  test('a chunked request body is read completely', async () => {
    const doc = parse(await send('/put', {
      method: 'PUT',
      chunks: [{ data: '{"par', pauseMs: 0 }, { data: 'ts":2}', pauseMs: 20 }],
    }));
    assert.equal(doc['data'], '{"parts":2}');
    assert.deepEqual(doc['json'], { parts: 2 });
    assert.equal((doc['headers'] as Record<string, string>)['Transfer-Encoding'], 'chunked');
  });
});

describe('endpoints', () => {
  test('GET / answers a small fixed text body', async () => {
    const reply = await send('/');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(reply.text, 'ok\n');
  });

  test('GET /1k answers exactly 1024 bytes of text', async () => {
    const reply = await send('/1k');
    assert.equal(reply.status, 200);
    assert.match(reply.headers['content-type'] ?? '', /^text\/plain/);
    assert.equal(reply.body.length, 1024);
    assert.equal(reply.headers['content-length'], '1024');
  });

  test('GET /get answers args, headers, origin and url in that order', async () => {
    const reply = await send('/get?page=2', { headers: ['User-Agent', 'tester'] });
    assert.equal(reply.status, 200);
    const doc = parse(reply);
    assert.deepEqual(Object.keys(doc), ['args', 'headers', 'origin', 'url']);
    assert.deepEqual(doc['args'], { page: '2' });
    assert.equal((doc['headers'] as Record<string, string>)['User-Agent'], 'tester');
  });

  test('HEAD /get answers 200 with the GET length and no body', async () => {
    const get = await send('/get', { headers: ['X', '1'] });
    const head = await send('/get', { method: 'HEAD', headers: ['X', '1'] });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], get.headers['content-length']);
  });

  test('/status/<code> answers that status with an empty body for any method', async () => {
    for (const [method, code] of [['GET', 200], ['POST', 201], ['PUT', 418], ['DELETE', 503], ['PATCH', 599]] as const) {
      const reply = await send(`/status/${code}`, { method, body: method === 'GET' ? undefined : 'ignored' });
      assert.equal(reply.status, code, `${method} ${code}`);
      assert.equal(reply.body.length, 0);
    }
    const noContent = await send('/status/204');
    assert.equal(noContent.status, 204);
    assert.equal(noContent.body.length, 0);
  });

  test('/status with a list uses the first code', async () => {
    assert.equal((await send('/status/503,200,201')).status, 503);
    assert.equal((await send('/status/202,500')).status, 202);
  });

  test('redirect statuses carry Location: /get', async () => {
    for (const code of [301, 302, 303, 307, 308]) {
      const reply = await send(`/status/${code}`);
      assert.equal(reply.status, code);
      assert.equal(reply.headers['location'], '/get');
      assert.equal(reply.body.length, 0);
    }
    assert.equal((await send('/status/300')).headers['location'], undefined);
  });

  test('/status/401 carries the Basic challenge', async () => {
    const reply = await send('/status/401');
    assert.equal(reply.status, 401);
    assert.equal(reply.headers['www-authenticate'], 'Basic realm="herd-target"');
    assert.equal(reply.body.length, 0);
  });

  test('/delay/<s> waits, then answers the echo document with method', async () => {
    const started = Date.now();
    const reply = await send('/delay/0.3?x=1', { method: 'POST', body: 'slow' });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 290, `answered after ${elapsed} ms`);
    const doc = parse(reply);
    assert.deepEqual(Object.keys(doc), ECHO_KEYS_WITH_METHOD);
    assert.equal(doc['method'], 'POST');
    assert.equal(doc['data'], 'slow');
    assert.deepEqual(doc['args'], { x: '1' });
  });

  test('/delay accepts decimals such as .5 and 0 and any method', async () => {
    const zero = await send('/delay/0', { method: 'DELETE' });
    assert.equal(zero.status, 200);
    assert.equal(parse(zero)['method'], 'DELETE');
    const started = Date.now();
    assert.equal((await send('/delay/.1')).status, 200);
    assert.ok(Date.now() - started >= 90);
  });

  test('/delay starts waiting only after the request body has been read', async () => {
    const started = Date.now();
    const reply = await send('/delay/0.3', {
      method: 'POST',
      chunks: [{ data: 'first ', pauseMs: 0 }, { data: 'second', pauseMs: 300 }],
    });
    const elapsed = Date.now() - started;
    assert.equal(parse(reply)['data'], 'first second');
    assert.ok(elapsed >= 580, `answered after ${elapsed} ms`);
  });

  test('/delay waits at most 10 seconds', async (t) => {
    // Observes the wait the server schedules instead of sitting through ten real seconds.
    const realSetTimeout = globalThis.setTimeout;
    const requested: number[] = [];
    t.mock.method(globalThis, 'setTimeout', ((fn: () => void, ms?: number) => {
      requested.push(ms ?? 0);
      return realSetTimeout(fn, 0);
    }) as unknown as typeof setTimeout);
    const reply = await send('/delay/3600');
    assert.equal(reply.status, 200);
    assert.ok(requested.includes(10_000), `scheduled ${requested.join(', ')}`);
    assert.ok(!requested.includes(3_600_000));
  });

  test('/bytes/<n> answers n random bytes as application/octet-stream', async () => {
    const a = await send('/bytes/64');
    const b = await send('/bytes/64');
    assert.equal(a.status, 200);
    assert.equal(a.headers['content-type'], 'application/octet-stream');
    assert.equal(a.body.length, 64);
    assert.equal(b.body.length, 64);
    assert.notDeepEqual(a.body, b.body);
  });

  test('/bytes accepts 0 and 1048576', async () => {
    const none = await send('/bytes/0');
    assert.equal(none.status, 200);
    assert.equal(none.body.length, 0);
    const max = await send('/bytes/1048576');
    assert.equal(max.status, 200);
    assert.equal(max.body.length, 1048576);
  });

  test('/json answers the exact fixed document', async () => {
    const reply = await send('/json');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'application/json');
    assert.equal(
      reply.text,
      '{"store":{"name":"Herd Test Store","open":true,"items":[{"id":1,"name":"apple","price":1.25,"tags":["fruit","red"]},{"id":2,"name":"bread","price":2.5,"tags":["bakery"]},{"id":3,"name":"cheese","price":7.75,"tags":["dairy","aged"]}]}}',
    );
  });

  test('/html answers the exact fixed page ending with a newline', async () => {
    const reply = await send('/html');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
    const expected = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Herd Target</title></head>
<body>
<h1 id="title">Herd Test Page</h1>
<p class="lead">A fixed page for parsing tests.</p>
<ul id="links">
<li><a href="/get?page=1" class="nav">First</a></li>
<li><a href="/get?page=2" class="nav">Second</a></li>
<li><a href="/anything/contact" class="nav special">Contact</a></li>
</ul>
<form id="login" action="/post" method="post">
<input type="hidden" name="csrf" value="tok-12345">
<input type="text" name="user" value="">
</form>
</body>
</html>
`;
    assert.equal(reply.text, expected);
  });

  test('/headers answers only the headers object', async () => {
    const doc = parse(await send('/headers', { headers: ['X-One', '1'] }));
    assert.deepEqual(Object.keys(doc), ['headers']);
    assert.equal((doc['headers'] as Record<string, string>)['X-One'], '1');
  });

  test('/user-agent answers the User-Agent header, or null without one', async () => {
    assert.equal(
      (await send('/user-agent', { headers: ['User-Agent', 'herd/1.0 (test)'] })).text,
      '{"user-agent":"herd/1.0 (test)"}',
    );
    assert.equal((await send('/user-agent')).text, '{"user-agent":null}');
  });

  test('/uuid answers a fresh lower-case version-4 UUID', async () => {
    const a = parse(await send('/uuid'));
    const b = parse(await send('/uuid'));
    assert.deepEqual(Object.keys(a), ['uuid']);
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(a['uuid'] as string, v4);
    assert.match(b['uuid'] as string, v4);
    assert.notEqual(a['uuid'], b['uuid']);
  });

  test('/cookies answers the cookies of the Cookie header, {} without one', async () => {
    assert.equal((await send('/cookies')).text, '{"cookies":{}}');
    const doc = parse(await send('/cookies', { headers: ['Cookie', 'a=1; b=two=2', 'Cookie', 'c=3'] }));
    assert.deepEqual(doc, { cookies: { a: '1', b: 'two=2', c: '3' } });
  });

  test('/cookies/set answers 302 to /cookies with one Set-Cookie per query pair', async () => {
    const reply = await send('/cookies/set?k=v&k2=v2');
    assert.equal(reply.status, 302);
    assert.equal(reply.headers['location'], '/cookies');
    assert.deepEqual(reply.headers['set-cookie'], ['k=v; Path=/', 'k2=v2; Path=/']);
    assert.equal(reply.body.length, 0);
  });

  test('/cookies/set refuses a cookie that cannot be expressed in a header', async () => {
    assert.equal((await send('/cookies/set?a=b%3Bc')).status, 400);
    assert.equal((await send('/cookies/set?a%20b=c')).status, 400);
  });

  test('/cookies/delete answers 302 with one expiring Set-Cookie per key', async () => {
    const reply = await send('/cookies/delete?k&k2');
    assert.equal(reply.status, 302);
    assert.equal(reply.headers['location'], '/cookies');
    assert.deepEqual(reply.headers['set-cookie'], [
      'k=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/',
      'k2=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/',
    ]);
    assert.equal(reply.body.length, 0);
  });

  test('/basic-auth accepts matching Basic credentials', async () => {
    const reply = await send('/basic-auth/alice/s3cret', { headers: { Authorization: basic('alice', 's3cret') } });
    assert.equal(reply.status, 200);
    assert.equal(reply.text, '{"authenticated":true,"user":"alice"}');
  });

  test('/basic-auth answers 401 with a challenge and empty body for wrong or missing credentials', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: basic('alice', 'wrong') },
      { Authorization: basic('bob', 's3cret') },
      { Authorization: 'Bearer abc' },
    ];
    for (const headers of attempts) {
      const reply = await send('/basic-auth/alice/s3cret', { headers });
      assert.equal(reply.status, 401);
      assert.equal(reply.headers['www-authenticate'], 'Basic realm="herd-target"');
      assert.equal(reply.body.length, 0);
    }
  });

  test('/basic-auth compares credentials after URL-decoding the path segments', async () => {
    const reply = await send('/basic-auth/a%20b/p%2Fq%3A', { headers: { Authorization: basic('a b', 'p/q:') } });
    assert.equal(reply.status, 200);
    assert.equal(reply.text, '{"authenticated":true,"user":"a b"}');
  });

  test('/redirect/<n> chains 302s down to /get', async () => {
    const three = await send('/redirect/3');
    assert.equal(three.status, 302);
    assert.equal(three.headers['location'], '/redirect/2');
    assert.equal(three.body.length, 0);
    const one = await send('/redirect/1');
    assert.equal(one.status, 302);
    assert.equal(one.headers['location'], '/get');
    assert.equal((await send('/redirect/100')).headers['location'], '/redirect/99');
  });

  test('following /redirect/<n> with fetch ends at /get', async () => {
    const res = await fetch(`${target.url}/redirect/4`);
    assert.equal(res.status, 200);
    assert.equal(res.redirected, true);
    assert.equal(new URL(res.url).pathname, '/get');
  });

  test('a plain GET on /ws/echo without an upgrade is refused with 400', async () => {
    const reply = await send('/ws/echo');
    assert.equal(reply.status, 400);
    assert.equal(typeof parse(reply)['error'], 'string');
  });
});

describe('WebSocket echo', () => {
  function open(path = '/ws/echo'): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${target.port}${path}`);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  test('text and binary messages come back unchanged, with their type, in order', async () => {
    const ws = await open();
    const received: { data: RawData; isBinary: boolean }[] = [];
    const done = new Promise<void>((resolve) => {
      ws.on('message', (data, isBinary) => {
        received.push({ data, isBinary });
        if (received.length === 4) resolve();
      });
    });
    ws.send('hello');
    ws.send(Buffer.from([0, 1, 2, 255]));
    ws.send('wörld ✓');
    ws.send(Buffer.alloc(70_000, 7));
    await done;
    ws.close();
    assert.deepEqual(received.map((m) => m.isBinary), [false, true, false, true]);
    assert.equal(received[0]!.data.toString(), 'hello');
    assert.deepEqual(received[1]!.data, Buffer.from([0, 1, 2, 255]));
    assert.equal(received[2]!.data.toString(), 'wörld ✓');
    assert.deepEqual(received[3]!.data, Buffer.alloc(70_000, 7));
  });

  test('a ping is answered with a pong carrying the same payload', async () => {
    const ws = await open();
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping(Buffer.from('payload-123'));
    assert.equal((await pong).toString(), 'payload-123');
    ws.close();
  });

  test('a close frame from the client is answered with a close frame', async () => {
    const ws = await open();
    const closed = new Promise<[number, string]>((resolve) => {
      ws.once('close', (code, reason) => resolve([code, reason.toString()]));
    });
    ws.close(4001, 'bye');
    // 1006 would mean the server dropped the connection instead of answering the close.
    assert.deepEqual(await closed, [4001, 'bye']);
  });

  test('the server selects no subprotocol even when the client offers some', async () => {
    const headers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: target.port,
        path: '/ws/echo',
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': Buffer.alloc(16, 1).toString('base64'),
          'Sec-WebSocket-Protocol': 'chat, superchat',
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.headers);
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(headers['upgrade'], 'websocket');
    assert.equal(headers['sec-websocket-protocol'], undefined);
  });

  test('an upgrade on any other path is refused with 404', async () => {
    for (const path of ['/ws/other', '/get', '/ws/echo/x']) {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${target.port}${path}`);
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
        });
        ws.once('open', () => reject(new Error('upgrade accepted on ' + path)));
        ws.once('error', () => {});
      });
      assert.equal(status, 404, path);
    }
  });

  test('query strings on /ws/echo are allowed', async () => {
    const ws = await open('/ws/echo?room=1');
    const message = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send('q');
    assert.equal(await message, 'q');
    ws.close();
  });
});

describe('shutdown', () => {
  test('close() resolves promptly with idle keep-alive, pending delay and open WebSocket connections', async () => {
    const other = await startTarget({ port: 0 });
    const agent = new http.Agent({ keepAlive: true });
    try {
      await new Promise<void>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: other.port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
      const pending = new Promise<string>((resolve) => {
        http.get({ host: '127.0.0.1', port: other.port, path: '/delay/10', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve('answered'));
        }).on('error', () => resolve('cut'));
      });
      const ws = await new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(`${other.url.replace('http', 'ws')}/ws/echo`);
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      });
      ws.on('error', () => {});
      await sleep(50);
      const started = Date.now();
      await other.close();
      assert.ok(Date.now() - started < 2000, 'close took too long');
      assert.equal(await pending, 'cut');
      await assert.rejects(fetch(`${other.url}/`));
    } finally {
      agent.destroy();
    }
  });

  test('a second target cannot bind a port that is already in use', async () => {
    await assert.rejects(startTarget({ port: target.port }), /EADDRINUSE/);
  });
});
