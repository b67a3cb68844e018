import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTarget, type RunningTarget } from '../../target/index.js';
import { setup, type Res } from './test-helpers.js';

let target: RunningTarget;
before(async () => {
  target = await startTarget({ port: 0 });
});
after(async () => {
  await target.close();
});

test('a batch array keeps request order across string, array and object forms', async () => {
  const { http, test: t } = setup();
  const list = (await http.batch([
    `${target.url}/get?n=1`,
    ['GET', `${target.url}/get?n=2`, null, { tags: { form: 'array' } }],
    { method: 'POST', url: `${target.url}/post`, body: JSON.stringify({ n: 3 }), params: { headers: { 'Content-Type': 'application/json' } } },
    { method: 'GET', url: `${target.url}/status/404` },
  ])) as Res[];
  assert.equal(list.length, 4);
  assert.equal((list[0]?.json() as { args: { n: string } }).args.n, '1');
  assert.equal((list[1]?.json() as { args: { n: string } }).args.n, '2');
  assert.equal((list[2]?.json() as { json: { n: number } }).json.n, 3);
  assert.equal(list[3]?.status, 404);
  assert.equal(t.sink.of('http_reqs').filter((s) => s.tags.form === 'array').length, 1);
});

test('a batch object keeps its keys', async () => {
  const { http } = setup();
  const named = (await http.batch({ store: `${target.url}/json`, page: ['GET', `${target.url}/html`] })) as Record<string, Res>;
  assert.deepEqual(Object.keys(named), ['store', 'page']);
  assert.equal(named.store?.json('store.name'), 'Herd Test Store');
  assert.equal(named.page?.status, 200);
});

test('batch requests run in parallel', async () => {
  const { http } = setup();
  const started = Date.now();
  const slow = (await http.batch([`${target.url}/delay/0.3`, `${target.url}/delay/0.3`, `${target.url}/delay/0.3`])) as Res[];
  const elapsed = Date.now() - started;
  assert.ok(slow.every((r) => r.status === 200));
  assert.ok(elapsed < 800, `took ${elapsed} ms`);
});

test('batchPerHost limits how many requests to one host run at once', async () => {
  const { http } = setup({ batchPerHost: 1 });
  const started = Date.now();
  await http.batch([`${target.url}/delay/0.15`, `${target.url}/delay/0.15`, `${target.url}/delay/0.15`]);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 440, `serialized batch took only ${elapsed} ms`);
});

test('an empty batch resolves to an empty array and a bad entry is rejected', async () => {
  const { http } = setup();
  assert.deepEqual(await http.batch([]), []);
  assert.throws(() => http.batch([42]), /invalid batch request #0/);
});
