import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkArchiveSize, checkDuration, checkGroups, checkMetricSeries, checkStaticLimits, checkVuHourCap, checkVus, defaultLimits,
} from './limits.js';

describe('limits', () => {
  it('defaults to the seed\'s numbers', () => {
    assert.deepEqual(defaultLimits, {
      maxVus: 20_000, maxDurationSeconds: 3600, maxGroups: 40, maxMetricSeries: 10_000,
      maxArchiveBytes: 50 * 1024 * 1024, maxConcurrentRuns: 5, monthlyVuHourCap: null,
    });
  });

  it('allows exactly the limit and refuses one more', () => {
    assert.equal(checkVus(20_000, defaultLimits), null);
    assert.deepEqual(checkVus(20_001, defaultLimits), {
      reason: 'limit_vus',
      message: "max VUs 20,001 exceeds the limit of 20,000 VUs; lower the VUs or an organization admin can raise the organization's limit (maxVus)",
    });
    assert.equal(checkDuration(3600, defaultLimits), null);
    assert.equal(checkDuration(3601, defaultLimits)?.reason, 'limit_duration');
    assert.match(checkDuration(7200, defaultLimits)?.message ?? '', /^total duration 2h exceeds the limit of 1h;/);
    assert.equal(checkGroups(40, defaultLimits), null);
    assert.equal(checkMetricSeries(10_000, defaultLimits), null);
    assert.equal(checkArchiveSize(50 * 1024 * 1024, defaultLimits), null);
    assert.deepEqual(checkArchiveSize(50 * 1024 * 1024 + 1, defaultLimits)?.reason, 'archive_too_large');
  });

  it('quotes the seed\'s advice for too many groups and too many metrics', () => {
    assert.deepEqual(checkGroups(41, defaultLimits), {
      reason: 'limit_groups',
      message: 'too many groups: 41, more than the limit of 40. If your test has too many groups, reduce their number.',
    });
    const series = checkMetricSeries(10_001, defaultLimits);
    assert.equal(series?.reason, 'limit_series');
    assert.match(series?.message ?? '', /^too many metrics: 10,001 time series, more than the limit of 10,000\. /);
    assert.match(series?.message ?? '', /use URL grouping to combine similar URLs/);
    assert.match(series?.message ?? '', /remove external requests/);
  });

  it('follows an organization\'s own limits', () => {
    const limits = { ...defaultLimits, maxVus: 10, maxGroups: 2 };
    assert.equal(checkVus(11, limits)?.reason, 'limit_vus');
    assert.equal(checkGroups(3, limits)?.reason, 'limit_groups');
  });

  it('reports every static limit a run goes over at once, VUs first', () => {
    assert.deepEqual(
      checkStaticLimits({ maxVus: 30_000, durationSeconds: 4000, archiveBytes: 60 * 1024 * 1024 }, defaultLimits).map((v) => v.reason),
      ['limit_vus', 'limit_duration', 'archive_too_large'],
    );
    assert.deepEqual(checkStaticLimits({ maxVus: 10, durationSeconds: null, archiveBytes: 10 }, defaultLimits), []);
  });

  it('checks the monthly VU-hour cap against what is used plus the estimate', () => {
    assert.equal(checkVuHourCap(1000, 0, defaultLimits), null, 'no cap by default');
    const capped = { ...defaultLimits, monthlyVuHourCap: 100 };
    assert.equal(checkVuHourCap(40, 60, capped), null);
    assert.deepEqual(checkVuHourCap(40.5, 60, capped), {
      reason: 'limit_vu_hours',
      message: 'this run needs an estimated 40.5 VU-hours, but 60 of the monthly cap of 100 VU-hours are used; '
        + "lower VUs or duration, or an organization admin can raise the organization's limit (monthlyVuHourCap)",
    });
  });
});
