import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, type Harness, multipartBody, startHarness } from './test-harness.js';

describe('request validation', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('answers a body that breaks its schema with 400 naming each bad field', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(h.a.adminSecret), payload: { name: 5, role: 'boss' } });
    assert.equal(res.statusCode, 400);
    const { error } = res.json();
    assert.equal(error.code, 'invalid_request');
    assert.deepEqual(error.fields, [
      { path: 'body.name', message: 'body.name must be a string, got 5' },
      { path: 'body.role', message: 'body.role must be one of "admin", "member", got "boss"' },
    ]);
    assert.equal(error.message, 'body.name must be a string, got 5; body.role must be one of "admin", "member", got "boss"');
  });

  it('rejects unknown keys in bodies and queries', async () => {
    const body = await h.app.inject({ method: 'POST', url: '/api/v1/projects', headers: bearer(h.a.memberSecret), payload: { name: 'p', owner: 'me' } });
    assert.equal(body.statusCode, 400);
    assert.deepEqual(body.json().error.fields, [{ path: 'body.owner', message: 'body.owner is not a known field' }]);
    const query = await h.app.inject({ url: '/api/v1/projects?page=2', headers: bearer(h.a.memberSecret) });
    assert.equal(query.statusCode, 400);
    assert.deepEqual(query.json().error.fields, [{ path: 'query.page', message: 'query.page is not a known field' }]);
  });

  it('names a missing required field', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/tests', headers: bearer(h.a.memberSecret), payload: { name: 't' } });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().error.fields, [{ path: 'body.projectId', message: 'body.projectId is required and must be a string, got nothing' }]);
  });

  it('answers a malformed id in the path with 400 naming params.id', async () => {
    const res = await h.app.inject({ url: '/api/v1/runs/abc', headers: bearer(h.a.memberSecret) });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().error.fields, [{ path: 'params.id', message: 'params.id must be a decimal id like "42", got "abc"' }]);
  });

  it('names every bad query parameter of the runs list at once', async () => {
    const res = await h.app.inject({ url: '/api/v1/runs?status=0,77&limit=0&createdAfter=yesterday', headers: bearer(h.a.memberSecret) });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().error.fields.map((f: { path: string }) => f.path), ['query.status', 'query.createdAfter', 'query.limit']);
    assert.equal(res.json().error.fields[0].message, 'query.status must hold only status codes -2 to 9, got 77');
  });

  it('answers malformed JSON with 400 in the one error shape', async () => {
    const res = await h.app.inject({
      method: 'POST', url: '/api/v1/projects', headers: { ...bearer(h.a.memberSecret), 'content-type': 'application/json' }, payload: '{"name":',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'invalid_request');
  });

  it('requires exactly one of testId and testName when submitting a run', async () => {
    const both = multipartBody({ projectId: h.a.project.id }, { name: 'archive', bytes: new Uint8Array([1]) });
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/runs', headers: { ...bearer(h.a.memberSecret), ...both.headers }, payload: both.payload });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().error.fields, [{ path: 'body.testId', message: 'body.testId must be given, or testName, but not both, got nothing' }]);
  });

  it('requires the archive file part and names an unknown one', async () => {
    const none = multipartBody({ projectId: h.a.project.id, testName: 't' });
    const r1 = await h.app.inject({ method: 'POST', url: '/api/v1/runs', headers: { ...bearer(h.a.memberSecret), ...none.headers }, payload: none.payload });
    assert.equal(r1.statusCode, 400);
    assert.deepEqual(r1.json().error.fields.map((f: { path: string }) => f.path), ['body.archive']);
    const wrong = multipartBody({ projectId: h.a.project.id, testName: 't' }, { name: 'script', bytes: new Uint8Array([1]) });
    const r2 = await h.app.inject({ method: 'POST', url: '/api/v1/runs', headers: { ...bearer(h.a.memberSecret), ...wrong.headers }, payload: wrong.payload });
    assert.equal(r2.statusCode, 400);
    assert.match(r2.json().error.message, /body\.script is not a known file part/);
    assert.equal(h.runs.calls.length, 0);
  });

  it('answers JSON sent where an archive is uploaded with 415', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/runs', headers: bearer(h.a.memberSecret), payload: { projectId: h.a.project.id } });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().error.code, 'unsupported_media_type');
  });

  it('answers an unknown route with 404 in the one error shape', async () => {
    const res = await h.app.inject({ url: '/api/v1/nothing-here', headers: bearer(h.a.memberSecret) });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.message, 'there is no route GET /api/v1/nothing-here');
  });
});
