import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HerdError } from '../../errors/index.js';
import { TagSet } from '../../metrics/index.js';
import { startTarget, type RunningTarget } from '../../target/index.js';
import { createFakeTest, createFakeVu, type FakeTest } from '../k6-metrics/fake-vu.js';
import type { VuState } from '../vu-state.js';
import { createWsModule, type Socket, type WsApi, type WsError } from './index.js';

let target: RunningTarget;
let echoUrl: string;

before(async () => {
  target = await startTarget({ port: 0 });
  echoUrl = `${target.url.replace(/^http/, 'ws')}/ws/echo`;
});
after(async () => {
  await target.close();
});

function setup(options: Parameters<typeof createFakeTest>[0] = {}): { test: FakeTest; vu: VuState; ws: WsApi } {
  const test = createFakeTest(options);
  const vu = createFakeVu(test, 1, 'iteration', TagSet.EMPTY.with('scenario', 'default'));
  const ws = createWsModule().instantiate(vu)['default'] as WsApi;
  return { test, vu, ws };
}

function samples(test: FakeTest, metric: string): Array<{ value: number; tags: TagSet }> {
  return test.sink.samples.filter((s) => s.metric.name === metric);
}

function sum(test: FakeTest, metric: string): number {
  return samples(test, metric).reduce((a, s) => a + s.value, 0);
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** The corpus script's default function (compat/websocket.js), with its checks as return values. */
async function corpusIteration(ws: WsApi): Promise<{ status: number; opened: boolean; texts: string[]; binaryLength: number }> {
  const texts: string[] = [];
  let binaryLength = -1;
  let opened = false;
  const res = await ws.connect(echoUrl, { tags: { purpose: 'echo' } }, (socket: Socket) => {
    socket.on('open', () => {
      opened = true;
      socket.send('m1');
    });
    socket.on('message', (msg: string) => {
      texts.push(msg);
      if (texts.length < 3) socket.send(`m${texts.length + 1}`);
      else socket.sendBinary(new Uint8Array([1, 2, 3, 4, 5]).buffer);
    });
    socket.on('binaryMessage', (data: ArrayBuffer) => {
      binaryLength = data.byteLength;
      socket.close();
    });
    socket.setTimeout(() => socket.close(), 3000);
  });
  return { status: res.status, opened, texts, binaryLength };
}

describe('k6/ws', () => {
  it('runs the corpus flow twice with exactly 2 sessions, 8 messages sent and 8 received', async () => {
    const { test, ws } = setup();
    for (let i = 0; i < 2; i++) {
      const r = await corpusIteration(ws);
      assert.equal(r.status, 101);
      assert.equal(r.opened, true);
      assert.deepEqual(r.texts, ['m1', 'm2', 'm3']);
      assert.equal(r.binaryLength, 5);
    }
    assert.equal(sum(test, 'ws_sessions'), 2);
    assert.equal(sum(test, 'ws_msgs_sent'), 8);
    assert.equal(sum(test, 'ws_msgs_received'), 8);
    assert.equal(samples(test, 'ws_connecting').length, 2);
    assert.equal(samples(test, 'ws_session_duration').length, 2);
    assert.ok(sum(test, 'data_sent') > 0 && sum(test, 'data_received') > 0);
  });

  it('tags ws samples with the VU tags, params.tags, url, status and subproto', async () => {
    const { test, ws } = setup();
    await corpusIteration(ws);
    const tags = samples(test, 'ws_sessions')[0]?.tags.toObject();
    assert.deepEqual(tags, { purpose: 'echo', scenario: 'default', status: '101', subproto: '', url: echoUrl });
    // Every ws_* sample of the session shares the one interned tag set.
    for (const name of ['ws_msgs_sent', 'ws_msgs_received', 'ws_connecting', 'ws_session_duration']) {
      for (const s of samples(test, name)) assert.equal(s.tags, samples(test, 'ws_sessions')[0]?.tags);
    }
  });

  it('returns the handshake response with canonical header names', async () => {
    const { ws } = setup();
    const res = await ws.connect(echoUrl, (socket: Socket) => socket.on('open', () => socket.close()));
    assert.equal(res.url, echoUrl);
    assert.equal(res.status, 101);
    assert.equal(res.error, '');
    assert.equal(res.error_code, 0);
    assert.equal(res.headers['Upgrade'], 'websocket');
    assert.equal(typeof res.headers['Sec-Websocket-Accept'], 'string');
  });

  it('times a ping until its pong into ws_ping and fires the pong handler', async () => {
    const { test, ws } = setup();
    let pongs = 0;
    await ws.connect(echoUrl, {}, (socket: Socket) => {
      socket.on('open', () => socket.ping());
      socket.on('pong', () => {
        pongs++;
        socket.close();
      });
    });
    assert.equal(pongs, 1);
    const ping = samples(test, 'ws_ping');
    assert.equal(ping.length, 1);
    assert.ok((ping[0]?.value ?? -1) >= 0);
  });

  it('lets a socket timeout close a socket that never gets a message', async () => {
    const { test, ws } = setup();
    const codes: unknown[] = [];
    const started = performance.now();
    const res = await ws.connect(echoUrl, {}, (socket: Socket) => {
      socket.on('close', (code: unknown) => codes.push(code));
      socket.setTimeout(() => socket.close(), 60);
    });
    const elapsed = performance.now() - started;
    assert.equal(res.status, 101);
    assert.deepEqual(codes, [1001]);
    assert.ok(elapsed >= 55, `closed after ${elapsed} ms`);
    assert.equal(sum(test, 'ws_msgs_received'), 0);
    assert.ok((samples(test, 'ws_session_duration')[0]?.value ?? 0) >= 55);
  });

  it('runs a socket interval until the handler closes the socket', async () => {
    const { test, ws } = setup();
    let ticks = 0;
    await ws.connect(echoUrl, {}, (socket: Socket) => {
      socket.setInterval(() => {
        ticks++;
        socket.send(`tick ${ticks}`);
        if (ticks === 3) socket.close();
      }, 10);
    });
    assert.equal(ticks, 3);
    assert.equal(sum(test, 'ws_msgs_sent'), 3);
  });

  it('rejects a timeout that is not positive with k6 wording', async () => {
    const { ws } = setup();
    await assert.rejects(
      ws.connect(echoUrl, (socket: Socket) => socket.setTimeout(() => {}, 0)),
      (e: unknown) => e instanceof HerdError && e.message === 'setTimeout requires a >0 timeout parameter, received 0.00',
    );
  });

  it('answers a refused connection with an error response, a warning and no hang', async () => {
    const { test, ws } = setup();
    const port = await closedPort();
    let callbackRan = false;
    const res = await ws.connect(`ws://127.0.0.1:${port}/ws/echo`, () => {
      callbackRan = true;
    });
    assert.equal(callbackRan, false);
    assert.equal(res.status, 0);
    assert.equal(res.error, `dial tcp 127.0.0.1:${port}: connect: connection refused`);
    assert.equal(res.error_code, 1212);
    assert.deepEqual(test.logger.lines, [
      { level: 'warn', message: 'Attempt to establish a WebSocket connection failed', fields: { error: res.error } },
    ]);
    // k6 counts the attempt as a session with its connecting time.
    assert.equal(sum(test, 'ws_sessions'), 1);
    assert.equal(samples(test, 'ws_connecting').length, 1);
    assert.equal(samples(test, 'ws_session_duration').length, 0);
  });

  it('throws on a refused connection when options.throw is set', async () => {
    const { ws } = setup({ throw: true });
    const port = await closedPort();
    await assert.rejects(ws.connect(`ws://127.0.0.1:${port}/`, () => {}), (e: unknown) => e instanceof HerdError && e.code === 'script_exception');
  });

  it('reports a refused handshake with its status and k6 wording', async () => {
    const { test, ws } = setup();
    const res = await ws.connect(`${target.url.replace(/^http/, 'ws')}/not-a-socket`, () => {});
    assert.equal(res.error, 'websocket: bad handshake');
    assert.equal(res.status, 404);
    assert.equal(samples(test, 'ws_sessions')[0]?.tags.get('status'), '404');
  });

  it('logs a rejected async handler at error level and closes the socket', async () => {
    const { test, ws } = setup();
    const codes: unknown[] = [];
    const res = await ws.connect(echoUrl, {}, (socket: Socket) => {
      socket.on('open', async () => {
        await new Promise((r) => setTimeout(r, 5));
        throw new Error('boom in open');
      });
      socket.on('close', (code: unknown) => codes.push(code));
    });
    assert.equal(res.status, 101);
    assert.deepEqual(codes, [1001]);
    const errors = test.logger.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /^Uncaught \(in promise\) Error: boom in open/);
  });

  it('waits for async handlers before connect returns', async () => {
    const { ws } = setup();
    const order: string[] = [];
    await ws.connect(echoUrl, (socket: Socket) => {
      socket.on('open', () => socket.send('x'));
      socket.on('message', async () => {
        socket.close();
        await new Promise((r) => setTimeout(r, 30));
        order.push('handler done');
      });
    });
    order.push('connect returned');
    assert.deepEqual(order, ['handler done', 'connect returned']);
  });

  it('makes connect throw what a handler threw, after closing the socket as k6 does', async () => {
    const { ws } = setup();
    const codes: unknown[] = [];
    const boom = new Error('sync boom');
    await assert.rejects(
      ws.connect(echoUrl, (socket: Socket) => {
        socket.on('open', () => {
          throw boom;
        });
        socket.on('close', (code: unknown) => codes.push(code));
      }),
      (e: unknown) => e === boom,
    );
    assert.deepEqual(codes, [1001]);
  });

  it('fires open only after an async connect callback resolved', async () => {
    const { ws } = setup();
    const order: string[] = [];
    await ws.connect(echoUrl, async (socket: Socket) => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('callback done');
      socket.on('open', () => {
        order.push('open');
        socket.close();
      });
    });
    assert.deepEqual(order, ['callback done', 'open']);
  });

  it('hands an error object with error() to error handlers when sending after close', async () => {
    const { ws } = setup();
    const errors: string[] = [];
    await ws.connect(echoUrl, (socket: Socket) => {
      socket.on('error', (e: WsError) => errors.push(e.error()));
      socket.on('open', () => {
        socket.close();
        socket.send('too late');
      });
    });
    assert.deepEqual(errors, ['websocket: close sent']);
  });

  it('closes promptly and rejects with the reason when the VU is stopped', async () => {
    const { test, vu, ws } = setup();
    const controller = new AbortController();
    vu.signal = controller.signal;
    let closeHandlerRan = false;
    const reason = new Error('hard stop');
    const p = ws.connect(echoUrl, (socket: Socket) => {
      socket.on('open', () => setTimeout(() => controller.abort(reason), 20));
      socket.on('close', () => (closeHandlerRan = true));
    });
    const started = performance.now();
    await assert.rejects(p, (e: unknown) => e === reason);
    assert.ok(performance.now() - started < 1000);
    assert.equal(closeHandlerRan, false);
    assert.equal(samples(test, 'ws_session_duration').length, 0);
  });

  it('refuses to connect in the init context', () => {
    const test = createFakeTest();
    const vu = createFakeVu(test, 1, 'init');
    const ws = createWsModule().instantiate(vu)['default'] as WsApi;
    assert.throws(
      () => ws.connect(echoUrl, () => {}),
      (e: unknown) => e instanceof HerdError && e.code === 'init_context_only' && e.message === 'using websockets in the init context is not supported',
    );
  });

  it('rejects a callback that is not a function with k6 wording', () => {
    const { ws } = setup();
    assert.throws(() => ws.connect(echoUrl, {}, 'nope'), /last argument to ws.connect must be a function/);
  });

  it('exports connect both as default and named', () => {
    const mod = createWsModule().instantiate(createFakeVu(createFakeTest(), 1, 'iteration'));
    assert.equal(typeof mod['connect'], 'function');
    assert.equal(typeof (mod['default'] as WsApi).connect, 'function');
  });
});
