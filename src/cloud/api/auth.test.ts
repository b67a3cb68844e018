import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiErrorBodySchema } from './errors.js';
import { tokenFromHeader } from './auth.js';
import { bearer, type Harness, startHarness } from './test-harness.js';

describe('authentication', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('answers /health and /openapi.json without a token', async () => {
    const health = await h.app.inject({ url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(health.json(), { status: 'ok' });
    assert.equal((await h.app.inject({ url: '/openapi.json' })).statusCode, 200);
  });

  it('refuses a request without a token with 401 in the one error shape', async () => {
    const res = await h.app.inject({ url: '/api/v1/runs' });
    assert.equal(res.statusCode, 401);
    const body = apiErrorBodySchema.parse(res.json());
    assert.equal(body.error.code, 'unauthorized');
    assert.equal(body.error.message, 'this request needs an API token');
    assert.match(body.error.hint ?? '', /Authorization: Bearer <token>/);
  });

  it('refuses an unknown token and a header that is not Bearer or Token', async () => {
    const unknown = await h.app.inject({ url: '/api/v1/runs', headers: bearer('herd_not-a-real-token') });
    assert.equal(unknown.statusCode, 401);
    assert.equal(unknown.json().error.message, 'the API token is not valid (unknown or revoked)');
    const basic = await h.app.inject({ url: '/api/v1/runs', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(basic.statusCode, 401);
    assert.equal(basic.json().error.message, 'the Authorization header is not "Bearer <token>"');
  });

  it("accepts k6's `Token <token>` form and a lower-case scheme", async () => {
    const k6 = await h.app.inject({ url: '/api/v1/projects', headers: { authorization: `Token ${h.a.memberSecret}` } });
    assert.equal(k6.statusCode, 200);
    assert.deepEqual(k6.json().projects.map((p: { id: string }) => p.id), [h.a.project.id]);
    const lower = await h.app.inject({ url: '/api/v1/projects', headers: { authorization: `bearer ${h.a.memberSecret}` } });
    assert.equal(lower.statusCode, 200);
  });

  it('refuses a token once it has been revoked', async () => {
    const created = await h.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(h.a.adminSecret), payload: { name: 'ci' } });
    assert.equal(created.statusCode, 201);
    const { token, secret } = created.json() as { token: { id: string; role: string }; secret: string };
    assert.equal(token.role, 'member');
    assert.equal((await h.app.inject({ url: '/api/v1/runs', headers: bearer(secret) })).statusCode, 200);
    const revoked = await h.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${token.id}`, headers: bearer(h.a.adminSecret) });
    assert.equal(revoked.statusCode, 204);
    assert.equal((await h.app.inject({ url: '/api/v1/runs', headers: bearer(secret) })).statusCode, 401);
    const again = await h.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${token.id}`, headers: bearer(h.a.adminSecret) });
    assert.equal(again.statusCode, 404);
  });

  it('never shows a token secret when listing tokens', async () => {
    const res = await h.app.inject({ url: '/api/v1/tokens', headers: bearer(h.a.adminSecret) });
    assert.equal(res.statusCode, 200);
    assert.ok(!res.body.includes(h.a.adminSecret) && !res.body.includes(h.a.memberSecret));
    assert.ok(!res.body.includes('hash'));
  });

  it('lets only admin tokens manage tokens and create organizations (403 for members)', async () => {
    for (const req of [
      { method: 'GET' as const, url: '/api/v1/tokens' },
      { method: 'POST' as const, url: '/api/v1/tokens', payload: { name: 'x' } },
      { method: 'POST' as const, url: '/api/v1/organizations', payload: { name: 'x' } },
    ]) {
      const res = await h.app.inject({ ...req, headers: bearer(h.a.memberSecret) });
      assert.equal(res.statusCode, 403, `${req.method} ${req.url}`);
      assert.equal(res.json().error.code, 'forbidden');
    }
  });

  it('gives a new organization an admin token that sees only that organization', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/organizations', headers: bearer(h.a.adminSecret), payload: { name: 'gamma', limits: { maxVus: 100 } } });
    assert.equal(res.statusCode, 201);
    const { organization, adminToken } = res.json() as { organization: { id: string; limits: { maxVus: number } }; adminToken: { secret: string } };
    assert.equal(organization.limits.maxVus, 100);
    const own = await h.app.inject({ url: '/api/v1/organizations', headers: bearer(adminToken.secret) });
    assert.deepEqual(own.json().organizations.map((o: { id: string }) => o.id), [organization.id]);
    // The creator's token belongs to another organization and does not see into the new one.
    assert.equal((await h.app.inject({ url: `/api/v1/organizations/${organization.id}`, headers: bearer(h.a.adminSecret) })).statusCode, 404);
  });
});

describe('tokenFromHeader', () => {
  it('takes the secret of Bearer and Token headers and nothing else', () => {
    assert.equal(tokenFromHeader('Bearer abc'), 'abc');
    assert.equal(tokenFromHeader('Token abc'), 'abc');
    assert.equal(tokenFromHeader('  TOKEN   abc  '), 'abc');
    assert.equal(tokenFromHeader(undefined), undefined);
    assert.equal(tokenFromHeader('Bearer'), undefined);
    assert.equal(tokenFromHeader('Bearer a b'), undefined);
    assert.equal(tokenFromHeader('Basic abc'), undefined);
  });
});
