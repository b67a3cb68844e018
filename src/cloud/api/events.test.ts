import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RunStatuses } from '../../protocol/index.js';
import { createdChange } from '../runs/index.js';
import type { RunEvent } from '../runs/index.js';
import type { StoredRun } from '../store/index.js';
import { liveEventSchema } from './api-schemas.js';
import { bearer, type Harness, startHarness } from './test-harness.js';

interface Stream {
  readonly status: number;
  readonly contentType: string | null;
  /** Reads until `done(text so far)` holds or the time is up; answers all text read. */
  readUntil(done: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): void;
}

async function openStream(url: string, headers: Record<string, string>): Promise<Stream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    async readUntil(done, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(text) && reader !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
        });
        const next = await Promise.race([reader.read(), timeout]);
        clearTimeout(timer);
        if (next === 'timeout' || next.done) break;
        text += decoder.decode(next.value, { stream: true });
      }
      return text;
    },
    close: () => abort.abort(),
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The `data` of every event in an SSE text, with its `event:` name. */
function events(text: string): Array<{ event: string; data: unknown }> {
  return text.split('\n\n').filter((block) => block.startsWith('event:')).map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
    const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as unknown;
    return { event, data };
  });
}

describe('live events (SSE)', () => {
  let h: Harness;
  let base: string;
  let runA: StoredRun;
  let runB: StoredRun;
  before(async () => {
    h = await startHarness({ sseHeartbeatMs: 100 });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = h.app.server.address();
    assert.ok(addr !== null && typeof addr === 'object');
    base = `http://127.0.0.1:${addr.port}`;
    runA = await h.makeRun(h.a);
    runB = await h.makeRun(h.b);
  });
  after(async () => {
    await h.close();
  });

  const statusEvent = (run: StoredRun): RunEvent => ({
    type: 'status', orgId: run.orgId, runId: run.id, status: RunStatuses.Created, result: null, change: createdChange(new Date(0)),
  });
  const logEvent = (run: StoredRun, message: string): RunEvent => ({ type: 'log', orgId: run.orgId, runId: run.id, level: 'info', message, at: 1 });

  it("delivers only the caller's organization's events, as event/data pairs", async () => {
    const stream = await openStream(`${base}/api/v1/events`, bearer(h.a.memberSecret));
    try {
      assert.equal(stream.status, 200);
      assert.equal(stream.contentType, 'text/event-stream; charset=utf-8');
      await stream.readUntil((t) => t.includes(': connected'));
      await until(() => h.runs.subscribers === 1, 'the subscription');
      // B's event first: had it leaked, it would arrive before A's.
      h.runs.emit(logEvent(runB, 'secret of B'));
      h.runs.emit(statusEvent(runA));
      h.runs.emit(logEvent(runA, 'hello from A'));
      const text = await stream.readUntil((t) => t.includes('hello from A'));
      assert.ok(!text.includes('secret of B'));
      const got = events(text);
      assert.deepEqual(got.map((e) => e.event), ['status', 'log']);
      for (const e of got) liveEventSchema.parse(e.data);
      assert.deepEqual(got[1]?.data, { type: 'log', runId: runA.id, level: 'info', message: 'hello from A', at: 1 });
      assert.ok(!text.includes('orgId'));
    } finally {
      stream.close();
    }
    await until(() => h.runs.subscribers === 0, 'the unsubscription');
  });

  it('delivers only the events of the run asked for', async () => {
    const other = await h.makeRun(h.a);
    const stream = await openStream(`${base}/api/v1/events?runId=${runA.id}`, bearer(h.a.memberSecret));
    try {
      await stream.readUntil((t) => t.includes(': connected'));
      await until(() => h.runs.subscribers === 1, 'the subscription');
      h.runs.emit(logEvent(other, 'other run'));
      h.runs.emit(logEvent(runA, 'this run'));
      const text = await stream.readUntil((t) => t.includes('this run'));
      assert.ok(!text.includes('other run'));
    } finally {
      stream.close();
    }
    await until(() => h.runs.subscribers === 0, 'the unsubscription');
  });

  it("first tells a follower of one run where the run is now, so a change made before the stream opened is not missed", async () => {
    const stream = await openStream(`${base}/api/v1/events?runId=${runA.id}`, bearer(h.a.memberSecret));
    try {
      const text = await stream.readUntil((t) => events(t).length > 0);
      const [first] = events(text);
      const stored = await h.store.getRun(h.a.org.id, runA.id);
      assert.equal(first?.event, 'status');
      const data = first?.data as { runId: string; status: { code: number; name: string }; change: { reason: string } };
      assert.equal(data.runId, runA.id);
      assert.deepEqual(data.status, stored?.status);
      assert.equal(data.change.reason, stored?.lastChange.reason);
    } finally {
      stream.close();
    }
    await until(() => h.runs.subscribers === 0, 'the unsubscription');
  });

  it('sends heartbeat comments while idle', async () => {
    const stream = await openStream(`${base}/api/v1/events`, bearer(h.a.memberSecret));
    try {
      const text = await stream.readUntil((t) => t.includes(': heartbeat'));
      assert.match(text, /: heartbeat\n\n/);
    } finally {
      stream.close();
    }
  });

  it('unsubscribes when the client disconnects', async () => {
    const stream = await openStream(`${base}/api/v1/events`, bearer(h.a.memberSecret));
    await stream.readUntil((t) => t.includes(': connected'));
    await until(() => h.runs.subscribers === 1, 'the subscription');
    stream.close();
    await until(() => h.runs.subscribers === 0, 'the unsubscription');
  });

  it("answers 404 for another organization's run and 401 without a token, as JSON", async () => {
    const foreign = await fetch(`${base}/api/v1/events?runId=${runB.id}`, { headers: bearer(h.a.memberSecret) });
    assert.equal(foreign.status, 404);
    assert.equal(((await foreign.json()) as { error: { code: string } }).error.code, 'not_found');
    const anonymous = await fetch(`${base}/api/v1/events`);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    assert.equal(h.runs.subscribers, 0);
  });
});
