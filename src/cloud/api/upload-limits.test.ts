import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, type Harness, multipartBody, startHarness } from './test-harness.js';

describe('upload size limits', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ maxArchiveBytes: 1024 });
  });
  after(async () => {
    await h.close();
  });

  const submit = (bytes: number) => {
    const mp = multipartBody({ projectId: h.a.project.id, testName: 'big' }, { name: 'archive', bytes: new Uint8Array(bytes) });
    return h.app.inject({ method: 'POST', url: '/api/v1/runs', headers: { ...bearer(h.a.memberSecret), ...mp.headers }, payload: mp.payload });
  };

  it('accepts an archive of exactly the limit', async () => {
    assert.equal((await submit(1024)).statusCode, 201);
  });

  it('answers an archive one byte over the limit with 413 while streaming it', async () => {
    // Small enough to pass the Content-Length check: the streaming limit must catch it.
    const res = await submit(1025);
    assert.equal(res.statusCode, 413);
    assert.deepEqual(res.json().error, {
      code: 'archive_too_large',
      message: 'the archive is larger than the limit of 1 KiB (1024 bytes)',
      hint: 'keep large data files out of the archive (load them from a URL or shrink them), or ask the operator to raise the limit',
    });
  });

  it('answers a declared length far over the limit with 413 before reading the body', async () => {
    const res = await submit(200 * 1024);
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error.code, 'archive_too_large');
    // Only the Content-Length check knows the size; the streaming check stops at the limit.
    assert.match(res.json().error.message, /^the upload is \d+ bytes, more than an archive of at most 1 KiB \(1024 bytes\) needs$/);
  });

  it('never hands an oversized archive to the run service', () => {
    assert.equal(h.runs.calls.filter((c) => c.method === 'submit').length, 1);
  });

  it('answers a JSON body over 1 MiB with 413', async () => {
    const res = await h.app.inject({
      method: 'POST', url: '/api/v1/projects', headers: { ...bearer(h.a.memberSecret), 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }),
    });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error.code, 'payload_too_large');
  });
});
