// herd's first test: a few VUs browse the demo target, with checks, a group and thresholds.
// Run it with `npx herd demo` (starts the target for you) or, with `npx herd target` running
// in another terminal: `npx herd run examples/quickstart.js`.
import http from 'k6/http';
import { check, group, sleep } from 'k6';

const BASE = __ENV.TARGET || 'http://127.0.0.1:8099';

export const options = {
  vus: 5,
  duration: '10s',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<200'],
    checks: ['rate>0.99'],
  },
};

export default function () {
  group('catalog', () => {
    const res = http.get(`${BASE}/json`);
    check(res, {
      'catalog answers 200': (r) => r.status === 200,
      'catalog lists 3 items': (r) => r.json('store.items.#') === 3,
    });
  });
  group('order', () => {
    const res = http.post(`${BASE}/post`, JSON.stringify({ sku: 'apple', qty: 2 }), {
      headers: { 'Content-Type': 'application/json' },
    });
    check(res, { 'order echoed': (r) => r.json('json.qty') === 2 });
  });
  sleep(0.5);
}
