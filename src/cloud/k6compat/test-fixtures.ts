// Hand-built k6 archives for the tests: laid out as k6 v0.49.0's lib/archive.go writes them
// (K6-CLOUD-API.md §1.4), built with herd's own ustar header writer.
import { concat, tarEnd, tarFileBlocks, tarHeader } from '../../script/archive-tar.js';

/** One raw entry of a hand-built tar. */
export type RawTarEntry =
  | { readonly name: string; readonly data: string | Uint8Array }
  | { readonly name: string; readonly type: '1' | '2' | '5' | '3'; readonly linkname?: string };

const encoder = new TextEncoder();

/** A tar of these entries, in this order (files via herd's writer, the others as bare headers). */
export function rawTar(entries: readonly RawTarEntry[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const e of entries) {
    if ('type' in e) blocks.push(tarHeader({ name: e.name, size: 0, type: e.type, ...(e.linkname === undefined ? {} : { linkname: e.linkname }) }));
    else blocks.push(...tarFileBlocks(e.name, typeof e.data === 'string' ? encoder.encode(e.data) : e.data));
  }
  blocks.push(tarEnd());
  return concat(blocks);
}

/** The user's API token k6 writes into the archive (§1.3 step A). */
export const ARCHIVE_TOKEN = 'k6-user-token-0123456789abcdef';

/** `options` as k6 v0.49 writes them to metadata.json: every key, null when unset, the token in ext.loadimpact. */
export function k6Options(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    paused: null, vus: 2, duration: null, iterations: 4, stages: null, scenarios: null,
    executionSegment: null, executionSegmentSequence: null, noSetup: null, setupTimeout: null,
    noTeardown: null, teardownTimeout: null, rps: null, dns: { ttl: null, select: null, policy: null },
    maxRedirects: null, userAgent: null, batch: null, batchPerHost: null, httpDebug: null,
    insecureSkipTLSVerify: null, tlsCipherSuites: null, tlsVersion: null, tlsAuth: null, throw: null,
    thresholds: { checks: ['rate==1'], http_req_duration: [{ threshold: 'p(95)<10000', abortOnFail: true, delayAbortEval: null }] },
    blacklistIPs: null, blockHostnames: null, hosts: null, noConnectionReuse: null, noVUConnectionReuse: null,
    minIterationDuration: null, ext: { loadimpact: { name: 'script.js', token: ARCHIVE_TOKEN } },
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'], summaryTimeUnit: null,
    systemTags: ['check', 'error', 'error_code', 'expected_response', 'group', 'method', 'name', 'proto', 'scenario', 'service', 'status', 'subproto', 'tls_version', 'url'],
    tags: null, metricSamplesBufferSize: null, noCookiesReset: null, discardResponseBodies: null,
    cloud: { token: ARCHIVE_TOKEN, name: 'script.js' },
    ...overrides,
  };
}

/** The main script of the standard fixture: an import, an open()ed data file, a check. */
export const FIXTURE_SCRIPT = `import http from 'k6/http';
import { check, sleep } from 'k6';
import { greet } from './lib/greet.js';
const users = JSON.parse(open('./data/users.json'));
export const options = { vus: 2, iterations: 4, thresholds: { checks: ['rate==1'] } };
export default function () {
  const res = http.get(\`\${__ENV.TARGET}/get?user=\${users[0].name}&greeting=\${greet(__ENV.GREETING)}\`);
  check(res, { 'status is 200': (r) => r.status === 200 });
  if (__ENV.SLEEP) sleep(Number(__ENV.SLEEP));
}
`;

/** What the standard fixture is made of, to change one part in a test. */
export interface FixtureParts {
  env?: Record<string, string>;
  options?: Record<string, unknown>;
  script?: string;
  /** Extra entries appended after the standard ones. */
  extra?: readonly RawTarEntry[];
}

/**
 * The standard k6 archive, exactly in k6's entry order: metadata.json, data, the `file` tree's
 * directories (sorted), then its files (sorted), the main script's path a hard link to `data`.
 */
export function k6FixtureArchive(parts: FixtureParts = {}): Uint8Array {
  const metadata = {
    type: 'js',
    options: parts.options ?? k6Options(),
    filename: 'file:///home/nobody/proj/script.js',
    pwd: 'file:///home/nobody/proj',
    env: parts.env ?? { GREETING: 'hello' },
    compatibilityMode: 'extended',
    k6version: '0.49.0',
    goos: 'linux',
  };
  return rawTar([
    { name: 'metadata.json', data: `${JSON.stringify(metadata, null, 2)}\n` },
    { name: 'data', data: parts.script ?? FIXTURE_SCRIPT },
    { name: 'file', type: '5' },
    { name: 'file/home', type: '5' },
    { name: 'file/home/nobody', type: '5' },
    { name: 'file/home/nobody/proj', type: '5' },
    { name: 'file/home/nobody/proj/data', type: '5' },
    { name: 'file/home/nobody/proj/lib', type: '5' },
    { name: 'file/home/nobody/proj/data/users.json', data: '[{"name":"ada"}]' },
    { name: 'file/home/nobody/proj/lib/greet.js', data: "export function greet(g) { return `${g}-from-lib`; }\n" },
    { name: 'file/home/nobody/proj/script.js', type: '1', linkname: 'data' },
    ...(parts.extra ?? []),
  ]);
}
