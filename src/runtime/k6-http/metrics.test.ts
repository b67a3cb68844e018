import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { startTarget, type RunningTarget } from '../../target/index.js';
import { HerdError } from '../../errors/index.js';
import { setup } from './test-helpers.js';

let target: RunningTarget;
before(async () => {
  target = await startTarget({ port: 0 });
});
after(async () => {
  await target.close();
});

const HTTP_METRICS = [
  'http_reqs', 'http_req_duration', 'http_req_blocked', 'http_req_connecting', 'http_req_tls_handshaking',
  'http_req_sending', 'http_req_waiting', 'http_req_receiving', 'http_req_failed',
];

test('one request emits every http metric once with k6 system tags plus VU and params tags', async () => {
  const { http, test: t } = setup();
  const res = await http.get(`${target.url}/get?a=1`, { tags: { flow: 'browse' } });
  for (const m of HTTP_METRICS) assert.equal(t.sink.of(m).length, 1, m);
  const s = t.sink.of('http_reqs')[0];
  assert.deepEqual(s?.tags, {
    expected_response: 'true',
    flow: 'browse',
    group: '',
    method: 'GET',
    name: `${target.url}/get?a=1`,
    proto: 'HTTP/1.1',
    scenario: 'default',
    status: '200',
    url: `${target.url}/get?a=1`,
  });
  assert.equal(t.sink.of('http_req_duration')[0]?.value, res.timings.duration);
  assert.equal(t.sink.of('http_req_failed')[0]?.value, 0);
  assert.ok(t.sink.sum('data_sent') > 0);
  assert.deepEqual(t.sink.of('data_sent')[0]?.tags, { group: '', scenario: 'default' });
});

test("a hop's samples are stamped with the time it ended, also a failed one's", async () => {
  const { http, test: t } = setup();
  const t0 = Date.now();
  await http.get(`${target.url}/delay/0.05`);
  await http.get('http://127.0.0.1:1/refused');
  const t1 = Date.now();
  const [ok, failed] = t.sink.of('http_reqs');
  for (const hop of [ok, failed]) {
    const time = hop?.time ?? NaN;
    // Stamped on the monotonic clock's epoch: allow the wall clock a little drift since start.
    assert.ok(time >= t0 - 20 && time <= t1 + 20, `sample time ${time} outside [${t0}, ${t1}]`);
    const same = t.sink.samples.filter((s) => s.time === time && s.metric.startsWith('http_req'));
    assert.ok(same.length >= 8, 'all of one hop\'s samples carry the same time');
  }
  assert.ok((ok?.time ?? 0) >= t0 + 45, 'the time is when the response came, not when the request went out');
});

test("the request functions' promises are made with the script realm's Promise", async () => {
  const { http, test: t } = setup();
  const realm = vm.runInNewContext('Promise') as PromiseConstructor;
  (t as { ScriptPromise: PromiseConstructor }).ScriptPromise = realm;
  const p = http.get(`${target.url}/get`);
  assert.equal(Object.getPrototypeOf(p), realm.prototype);
  assert.equal((await p).status, 200);
  const rejected = http.get(`${target.url}/get`, 42 as unknown as object);
  assert.equal(Object.getPrototypeOf(rejected), realm.prototype);
  await assert.rejects(rejected, /params must be an object/);
});

test('only the system tags enabled in options.systemTags are added', async () => {
  const { http, test: t } = setup({ systemTags: ['status', 'method'] });
  await http.get(`${target.url}/get`);
  assert.deepEqual(t.sink.of('http_reqs')[0]?.tags, { group: '', method: 'GET', scenario: 'default', status: '200' });
});

test('http.url templates tag name with ${} placeholders, explicit name tags win, credentials never show', async () => {
  const { http, test: t } = setup();
  const id = 7;
  const res = await http.get(http.url`${target.url}/anything/item/${id}`);
  assert.equal((res.json() as { url: string }).url, `${target.url}/anything/item/7`);
  await http.get(`${target.url}/anything/user/1`, { tags: { name: 'UserById' } });
  await http.get(http.url`${target.url}/anything/${id}`, { tags: { name: 'Explicit' } });
  await http.get(`${target.url.replace('://', '://u:p@')}/anything/plain`);
  const names = t.sink.of('http_reqs').map((s) => s.tags.name);
  assert.deepEqual(names, ['${}/anything/item/${}', 'UserById', 'Explicit', `${target.url}/anything/plain`]);
  assert.equal(t.sink.of('http_reqs')[0]?.tags.url, `${target.url}/anything/item/7`);
  assert.equal(String(http.url`${target.url}/x/${1}`), `${target.url}/x/1`);
});

test('4xx responses are failed requests by default and carry error_code tags', async () => {
  const { http, test: t } = setup();
  await http.get(`${target.url}/status/401`);
  const s = t.sink.of('http_req_failed')[0];
  assert.equal(s?.value, 1);
  assert.equal(s?.tags.expected_response, 'false');
  assert.equal(s?.tags.error_code, '1401');
});

test('expectedStatuses changes which responses count as failed', async () => {
  const { http, test: t } = setup();
  http.setResponseCallback(http.expectedStatuses(404, { min: 200, max: 204 }));
  await http.get(`${target.url}/status/404`);
  await http.get(`${target.url}/status/302`, { redirects: 0 });
  await http.get(`${target.url}/status/500`, { responseCallback: http.expectedStatuses(500) });
  assert.deepEqual(t.sink.of('http_req_failed').map((s) => s.value), [0, 1, 0]);
});

test('setResponseCallback(null) stops http_req_failed and the expected_response tag', async () => {
  const { http, test: t } = setup();
  http.setResponseCallback(null);
  await http.get(`${target.url}/status/500`);
  assert.equal(t.sink.of('http_req_failed').length, 0);
  assert.equal(t.sink.of('http_reqs')[0]?.tags.expected_response, undefined);
});

test('expectedStatuses and setResponseCallback reject invalid arguments', () => {
  const { http } = setup();
  assert.throws(() => http.expectedStatuses('200'), /argument number 1 to expectedStatuses/);
  assert.throws(() => http.setResponseCallback(() => true), HerdError);
});

test('repeated requests to one URL follow changes of the VU tags and of the response callback', async () => {
  const { http, vu, test: t } = setup();
  const url = `${target.url}/status/404`;
  await http.get(url);
  vu.tags = vu.tags.with('group', '::login');
  await http.get(url);
  http.setResponseCallback(http.expectedStatuses(404));
  await http.get(url);
  await http.get(url, { tags: { extra: 'x' } });
  const tags = t.sink.of('http_reqs').map((s) => [s.tags.group, s.tags.expected_response, s.tags.extra]);
  assert.deepEqual(tags, [
    ['', 'false', undefined],
    ['::login', 'false', undefined],
    ['::login', 'true', undefined],
    ['::login', 'true', 'x'],
  ]);
});
