import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCodes, HerdError } from '../../errors/index.js';
import type { OrgId, RunId } from '../../protocol/index.js';
import { apiErrorStatuses, httpStatusOf, toErrorAnswer } from './errors.js';
import { bearer, type Harness, startHarness } from './test-harness.js';

describe('error mapping', () => {
  it('gives every HerdError code an HTTP status', () => {
    for (const code of Object.keys(errorCodes)) {
      assert.ok(code in apiErrorStatuses, `${code} has no HTTP status`);
    }
  });

  it('maps domain codes to the statuses clients expect', () => {
    assert.equal(httpStatusOf('not_found'), 404);
    assert.equal(httpStatusOf('invalid_option'), 400);
    assert.equal(httpStatusOf('archive_too_large'), 413);
    assert.equal(httpStatusOf('invalid_transition'), 409);
    assert.equal(httpStatusOf('status_conflict'), 409);
    assert.equal(httpStatusOf('a_code_from_the_future'), 500);
  });

  it('keeps a HerdError hint and hides the message of an unexpected error', () => {
    const known = toErrorAnswer(new HerdError('invalid_option', 'vus must be a positive integer, got 0', { hint: 'set vus to 1 or more' }));
    assert.deepEqual(known, {
      status: 400, unexpected: false,
      body: { error: { code: 'invalid_option', message: 'vus must be a positive integer, got 0', hint: 'set vus to 1 or more' } },
    });
    const unexpected = toErrorAnswer(new Error('SQLITE_CORRUPT at /var/lib/herd/herd.db'));
    assert.equal(unexpected.status, 500);
    assert.ok(!JSON.stringify(unexpected.body).includes('SQLITE'));
  });

  describe('through the server', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness();
      // The service fails the way a real one might: a domain error and an internal crash.
      h.runs.summary = async (_org: OrgId, _run: RunId) => {
        throw new HerdError('store_failure', 'database is locked', { hint: 'retry in a moment' });
      };
      h.runs.metricSeries = async () => {
        throw new TypeError("Cannot read properties of undefined (reading 'secret')");
      };
    });
    after(async () => {
      await h.close();
    });

    it('answers a HerdError from the run service with its mapped status and code', async () => {
      const run = await h.makeRun(h.a);
      const res = await h.app.inject({ url: `/api/v1/runs/${run.id}/summary`, headers: bearer(h.a.memberSecret) });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { error: { code: 'store_failure', message: 'database is locked', hint: 'retry in a moment' } });
    });

    it('answers an unexpected failure with 500 and no internals', async () => {
      const run = await h.makeRun(h.a);
      const res = await h.app.inject({ url: `/api/v1/runs/${run.id}/metrics/vus`, headers: bearer(h.a.memberSecret) });
      assert.equal(res.statusCode, 500);
      assert.equal(res.json().error.code, 'internal');
      assert.ok(!res.body.includes('secret'));
    });
  });
});
