import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RouteOptions } from 'fastify';
import { type Harness, startHarness } from './test-harness.js';

describe('openapi.json', () => {
  let h: Harness;
  const registered: Array<{ method: string; url: string }> = [];
  let doc: { openapi: string; paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown> } };
  let body: string;
  before(async () => {
    h = await startHarness({ publicUrl: 'https://herd.example' });
    // Routes are added at ready(), so this hook sees every one the server serves.
    h.app.addHook('onRoute', (r: RouteOptions) => {
      for (const m of [r.method].flat()) registered.push({ method: m.toLowerCase(), url: r.url });
    });
    await h.app.ready();
    const res = await h.app.inject({ url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    body = res.body;
    doc = JSON.parse(body) as typeof doc;
  });
  after(async () => {
    await h.close();
  });

  it('is an OpenAPI 3.1 document naming the public URL', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual((doc as unknown as { servers: unknown }).servers, [{ url: 'https://herd.example' }]);
  });

  it('describes exactly the routes the server serves, apart from the k6 protocols under /v1, /v2 and /cloud/v6', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)).sort();
    // The k6-compatible /v1, /v2 and /cloud/v6 routes speak k6's protocols (K6-CLOUD-API.md), not herd's API.
    const served = registered
      .filter((r) => !r.url.startsWith('/v1/') && !r.url.startsWith('/v2/') && !r.url.startsWith('/cloud/v6/'))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    assert.ok(served.length >= 25, `only ${served.length} routes registered`);
    assert.deepEqual(documented, served);
  });

  it('gives every operation a unique operationId and a success answer', () => {
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    assert.equal(new Set(ids).size, ids.length);
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2')), op.operationId);
    }
  });

  it('resolves every $ref to a component schema', () => {
    const refs = [...body.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.ok(refs.length > 20);
    assert.ok(!body.includes('"$id"') && !body.includes('"$schema"'), 'standalone JSON Schema keys left in');
    for (const ref of new Set(refs)) {
      const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
      assert.ok(name !== undefined && name in doc.components.schemas, `unresolved ${ref}`);
    }
  });

  it('derives schemas from the protocol: a run status is one of the twelve codes with its name', () => {
    const status = JSON.stringify(doc.components.schemas['RunStatus']);
    for (const name of ['Created', 'Queued', 'Finished', 'Aborted by limit']) assert.ok(status.includes(`"${name}"`), name);
    const run = doc.components.schemas['Run'] as { additionalProperties: boolean; required: string[] };
    assert.equal(run.additionalProperties, false);
    assert.ok(run.required.includes('lastChange'));
  });
});
