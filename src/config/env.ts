/**
 * Options from the environment, as k6 reads them: K6_VUS, K6_DURATION, K6_ITERATIONS,
 * K6_STAGES ("30s:10,1m:20"), K6_USER_AGENT, ... Values stay strings where the schema
 * expects strings and become numbers/booleans/lists where it expects those.
 */
export function optionsFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const num = (k: string, key: string): void => {
    const v = env[k];
    if (v !== undefined && v !== '') out[key] = Number.isNaN(Number(v)) ? v : Number(v);
  };
  const bool = (k: string, key: string): void => {
    const v = env[k];
    if (v !== undefined && v !== '') out[key] = v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v;
  };
  const str = (k: string, key: string): void => {
    const v = env[k];
    if (v !== undefined && v !== '') out[key] = v;
  };
  const list = (k: string, key: string): void => {
    const v = env[k];
    if (v !== undefined && v !== '') out[key] = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  };
  num('K6_VUS', 'vus');
  str('K6_DURATION', 'duration');
  num('K6_ITERATIONS', 'iterations');
  const stages = env['K6_STAGES'];
  if (stages !== undefined && stages !== '') out['stages'] = parseStages(stages.split(','));
  str('K6_USER_AGENT', 'userAgent');
  bool('K6_INSECURE_SKIP_TLS_VERIFY', 'insecureSkipTLSVerify');
  bool('K6_DISCARD_RESPONSE_BODIES', 'discardResponseBodies');
  bool('K6_NO_CONNECTION_REUSE', 'noConnectionReuse');
  bool('K6_NO_VU_CONNECTION_REUSE', 'noVUConnectionReuse');
  bool('K6_NO_COOKIES_RESET', 'noCookiesReset');
  bool('K6_THROW', 'throw');
  bool('K6_NO_SETUP', 'noSetup');
  bool('K6_NO_TEARDOWN', 'noTeardown');
  num('K6_MAX_REDIRECTS', 'maxRedirects');
  num('K6_BATCH', 'batch');
  num('K6_BATCH_PER_HOST', 'batchPerHost');
  str('K6_SETUP_TIMEOUT', 'setupTimeout');
  str('K6_TEARDOWN_TIMEOUT', 'teardownTimeout');
  list('K6_SUMMARY_TREND_STATS', 'summaryTrendStats');
  str('K6_SUMMARY_TIME_UNIT', 'summaryTimeUnit');
  list('K6_SYSTEM_TAGS', 'systemTags');
  list('K6_BLOCK_HOSTNAMES', 'blockHostnames');
  str('K6_EXECUTION_SEGMENT', 'executionSegment');
  str('K6_EXECUTION_SEGMENT_SEQUENCE', 'executionSegmentSequence');
  const tags = env['K6_TAGS'];
  if (tags !== undefined && tags !== '') out['tags'] = parseKeyValues(tags.split(','), 'K6_TAGS');
  return out;
}

/** Parses k6 stage specs "30s:10" into {duration, target}; a bad spec keeps its text so the schema names it. */
export function parseStages(specs: readonly string[]): Array<{ duration: string; target: number | string }> {
  return specs.map((spec) => {
    const [duration = '', target = ''] = spec.split(':');
    const n = Number(target);
    return { duration: duration.trim(), target: target.trim() === '' ? 0 : Number.isInteger(n) ? n : target };
  });
}

/** Parses "k=v" pairs into an object; a pair without "=" is an error naming `what`. */
export function parseKeyValues(pairs: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`${what} must be given as KEY=VALUE, got ${JSON.stringify(p)}`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}
