import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HerdError } from '../../errors/index.js';
import { TagSet } from '../../metrics/index.js';
import { startTarget, type RunningTarget } from '../../target/index.js';
import { createFakeTest, createFakeVu, type FakeTest } from '../k6-metrics/fake-vu.js';
import type { VuState } from '../vu-state.js';
import {
  closeVuSockets,
  createWebSocketsModule,
  whenVuSocketsClosed,
  type WebSocketConstructor,
  type WebSocketsApi,
  type WsCloseEvent,
  type WsErrorEvent,
  type WsMessageEvent,
} from './index.js';

let target: RunningTarget;
let echoUrl: string;

before(async () => {
  target = await startTarget({ port: 0 });
  echoUrl = `${target.url.replace(/^http/, 'ws')}/ws/echo`;
});
after(async () => {
  await target.close();
});

function setup(): { test: FakeTest; vu: VuState; WebSocket: WebSocketConstructor } {
  const test = createFakeTest();
  const vu = createFakeVu(test, 1, 'iteration', TagSet.EMPTY.with('scenario', 'default'));
  const api = createWebSocketsModule().instantiate(vu)['default'] as WebSocketsApi;
  return { test, vu, WebSocket: api.WebSocket };
}

function samples(test: FakeTest, metric: string): Array<{ value: number; tags: TagSet }> {
  return test.sink.samples.filter((s) => s.metric.name === metric);
}

function sum(test: FakeTest, metric: string): number {
  return samples(test, metric).reduce((a, s) => a + s.value, 0);
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('k6/websockets', () => {
  it('runs open, message and close in order with exact metric counts', async () => {
    const { test, vu, WebSocket } = setup();
    const events: string[] = [];
    const ws = new WebSocket(echoUrl, null, { tags: { purpose: 'echo' } });
    assert.equal(ws.readyState, 0);
    ws.onopen = () => {
      events.push(`open ${ws.readyState}`);
      ws.send('hello');
    };
    ws.onmessage = (e: WsMessageEvent) => {
      events.push(`message ${String(e.data)}`);
      ws.close();
      events.push(`closing ${ws.readyState}`);
    };
    ws.onclose = (e: WsCloseEvent) => events.push(`close ${e.code} ${e.wasClean}`);
    await whenVuSocketsClosed(vu);
    assert.deepEqual(events, ['open 1', 'message hello', 'closing 2', 'close 1000 true']);
    assert.equal(ws.readyState, 3);
    assert.equal(sum(test, 'ws_sessions'), 1);
    assert.equal(sum(test, 'ws_msgs_sent'), 1);
    assert.equal(sum(test, 'ws_msgs_received'), 1);
    assert.equal(samples(test, 'ws_session_duration').length, 1);
    assert.deepEqual(samples(test, 'ws_sessions')[0]?.tags.toObject(), {
      name: echoUrl,
      purpose: 'echo',
      scenario: 'default',
      status: '101',
      subproto: '',
      url: echoUrl,
    });
  });

  it('keeps whenVuSocketsClosed pending until the last socket closes', async () => {
    const { vu, WebSocket } = setup();
    await whenVuSocketsClosed(vu); // no sockets yet: resolves at once
    const a = new WebSocket(echoUrl);
    const b = new WebSocket(echoUrl);
    let closedAt = 0;
    a.onopen = () => a.close();
    b.onopen = () =>
      setTimeout(() => {
        closedAt = performance.now();
        b.close();
      }, 60);
    let resolved = false;
    const started = performance.now();
    const p = whenVuSocketsClosed(vu).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(resolved, false);
    await p;
    assert.ok(closedAt > 0 && performance.now() - started >= 55);
    assert.equal(a.readyState, 3);
    assert.equal(b.readyState, 3);
  });

  it('delivers binary messages as Blob by default and as ArrayBuffer on request', async () => {
    const { vu, WebSocket } = setup();
    const got: unknown[] = [];
    const blobSocket = new WebSocket(echoUrl);
    blobSocket.onopen = () => blobSocket.send(new Uint8Array([1, 2, 3]).buffer);
    blobSocket.onmessage = (e: WsMessageEvent) => {
      got.push(e.data);
      blobSocket.close();
    };
    const abSocket = new WebSocket(echoUrl);
    abSocket.binaryType = 'arraybuffer';
    abSocket.onopen = () => abSocket.send(new Uint8Array([4, 5]));
    abSocket.onmessage = (e: WsMessageEvent) => {
      got.push(e.data);
      abSocket.close();
    };
    await whenVuSocketsClosed(vu);
    const blob = got.find((d) => d instanceof Blob) as Blob;
    const ab = got.find((d) => d instanceof ArrayBuffer) as ArrayBuffer;
    assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [1, 2, 3]);
    assert.deepEqual([...new Uint8Array(ab)], [4, 5]);
  });

  it('sends a Blob and keeps later sends behind it', async () => {
    const { test, vu, WebSocket } = setup();
    const got: string[] = [];
    const ws = new WebSocket(echoUrl);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      ws.send(new Blob([new Uint8Array([9, 9, 9, 9])]));
      ws.send('after blob');
    };
    ws.onmessage = (e: WsMessageEvent) => {
      got.push(typeof e.data === 'string' ? e.data : `binary ${(e.data as ArrayBuffer).byteLength}`);
      if (got.length === 2) ws.close();
    };
    await whenVuSocketsClosed(vu);
    assert.deepEqual(got, ['binary 4', 'after blob']);
    assert.equal(sum(test, 'ws_msgs_sent'), 2);
  });

  it('calls every listener added with addEventListener, after the on-property handler', async () => {
    const { vu, WebSocket } = setup();
    const calls: string[] = [];
    const ws = new WebSocket(echoUrl);
    ws.addEventListener('open', () => calls.push('listener 1'));
    ws.onopen = () => calls.push('onopen');
    ws.addEventListener('open', () => {
      calls.push('listener 2');
      ws.close();
    });
    await whenVuSocketsClosed(vu);
    assert.deepEqual(calls, ['onopen', 'listener 1', 'listener 2']);
  });

  it('fires pong for a ping and records ws_ping', async () => {
    const { test, vu, WebSocket } = setup();
    let pongs = 0;
    const ws = new WebSocket(echoUrl);
    ws.onopen = () => ws.ping();
    ws.onpong = () => {
      pongs++;
      ws.close();
    };
    await whenVuSocketsClosed(vu);
    assert.equal(pongs, 1);
    assert.equal(samples(test, 'ws_ping').length, 1);
  });

  it('reports a refused connection as an error event then a close event', async () => {
    const { test, vu, WebSocket } = setup();
    const port = await closedPort();
    const events: string[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.onopen = () => events.push('open');
    ws.onerror = (e: WsErrorEvent) => events.push(`error ${e.error}`);
    ws.onclose = (e: WsCloseEvent) => events.push(`close ${e.code}`);
    await whenVuSocketsClosed(vu);
    assert.deepEqual(events, [`error dial tcp 127.0.0.1:${port}: connect: connection refused`, 'close 1006']);
    assert.equal(ws.readyState, 3);
    assert.equal(sum(test, 'ws_sessions'), 1);
  });

  it('throws InvalidStateError when sending before the socket is open', async () => {
    const { vu, WebSocket } = setup();
    const ws = new WebSocket(echoUrl);
    assert.throws(() => ws.send('early'), (e: unknown) => e instanceof HerdError && e.message === 'InvalidStateError');
    ws.close();
    await whenVuSocketsClosed(vu);
    assert.equal(ws.readyState, 3);
  });

  it('logs a throwing handler and drops the connection', async () => {
    const { test, vu, WebSocket } = setup();
    const events: string[] = [];
    const ws = new WebSocket(echoUrl);
    ws.onopen = () => {
      throw new Error('open failed');
    };
    ws.onclose = (e: WsCloseEvent) => events.push(`close ${e.code}`);
    await whenVuSocketsClosed(vu);
    assert.deepEqual(events, ['close 1006']);
    const errors = test.logger.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /^Uncaught Error: open failed/);
  });

  it('drops every socket without running handlers on closeVuSockets', async () => {
    const { test, vu, WebSocket } = setup();
    let closeRan = false;
    const ws = new WebSocket(echoUrl);
    await new Promise<void>((resolve) => {
      ws.onopen = () => resolve();
    });
    ws.onclose = () => (closeRan = true);
    assert.equal(closeVuSockets(vu), 1);
    assert.equal(closeVuSockets(vu), 0);
    await whenVuSocketsClosed(vu);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(closeRan, false);
    assert.equal(ws.readyState, 3);
    assert.equal(samples(test, 'ws_session_duration').length, 0);
  });

  it('drops its sockets when the VU is stopped', async () => {
    const { vu, WebSocket } = setup();
    const controller = new AbortController();
    vu.signal = controller.signal;
    let closeRan = false;
    const ws = new WebSocket(echoUrl);
    ws.onopen = () => setTimeout(() => controller.abort(new Error('stop')), 10);
    ws.onclose = () => (closeRan = true);
    await whenVuSocketsClosed(vu);
    assert.equal(closeRan, false);
    assert.equal(ws.readyState, 3);
  });

  it('checks the URL and the init context as k6 does', () => {
    const { WebSocket } = setup();
    assert.throws(() => new WebSocket('http://example.com/'), /WebSocket requires url with scheme ws or wss, but got "http"/);
    assert.throws(() => new WebSocket('ws://example.com/#x'), /WebSocket requires no url fragment, but got "x"/);
    const initVu = createFakeVu(createFakeTest(), 1, 'init');
    const InitWs = (createWebSocketsModule().instantiate(initVu)['default'] as WebSocketsApi).WebSocket;
    assert.throws(() => new InitWs(echoUrl), (e: unknown) => e instanceof HerdError && e.code === 'init_context_only');
  });

  it('rejects an unknown binaryType', async () => {
    const { vu, WebSocket } = setup();
    const ws = new WebSocket(echoUrl);
    assert.throws(() => {
      ws.binaryType = 'text';
    }, /unknown binaryType text, the supported ones are arraybuffer and blob/);
    ws.close();
    await whenVuSocketsClosed(vu);
  });

  it('names the class WebSocket and exposes the readyState constants', () => {
    const { WebSocket } = setup();
    assert.equal(WebSocket.name, 'WebSocket');
    assert.deepEqual(
      [(WebSocket as unknown as Record<string, number>)['CONNECTING'], (WebSocket as unknown as Record<string, number>)['CLOSED']],
      [0, 3],
    );
  });
});
