// Option precedence through the real binary, as in k6 (lowest first): the script's
// `export const options`, the --config file, K6_* environment variables, command-line flags.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { metricValue, readSummary, runHerd, summaryToFile, tempDir } from './helpers/herd-process.js';

interface Layers {
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  flags?: string[];
}

/** Runs a script with `scriptOptions` under the given layers; returns its summary. */
async function runWith(scriptOptions: Record<string, unknown>, layers: Layers, body = '') {
  const dir = tempDir();
  const script = path.join(dir, 's.js');
  writeFileSync(
    script,
    `import { sleep } from 'k6';\nexport const options = ${JSON.stringify(scriptOptions)};\nexport default function () { ${body} }\n${summaryToFile(path.join(dir, 'summary.json'))}`,
  );
  const args = ['run', '-q'];
  if (layers.config !== undefined) {
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(layers.config));
    args.push('--config', path.join(dir, 'config.json'));
  }
  args.push(...(layers.flags ?? []), script);
  const r = await runHerd(args, { env: layers.env });
  assert.equal(r.code, 0, r.stderr);
  return readSummary(path.join(dir, 'summary.json'));
}

describe('option precedence: script < config file < K6_* env < flags', { concurrency: 3 }, () => {
  const script = { iterations: 2 };
  const config = { iterations: 4 };
  const env = { K6_ITERATIONS: '6' };
  const flags = ['--iterations', '8'];
  const cases: [string, Layers, number][] = [
    ['the script alone sets the iterations', {}, 2],
    ['the config file wins over the script', { config }, 4],
    ['K6_ITERATIONS wins over the config file and the script', { config, env }, 6],
    ['--iterations wins over K6_ITERATIONS, the config file and the script', { config, env, flags }, 8],
    ['K6_ITERATIONS wins over the script without a config file', { env }, 6],
    ['--iterations wins over the config file without K6_ITERATIONS', { config, flags }, 8],
  ];
  for (const [name, layers, expected] of cases) {
    it(`${name} (${expected} iterations)`, async () => {
      const s = await runWith(script, layers);
      assert.equal(metricValue(s, 'iterations', 'count'), expected);
    });
  }

  it('K6_VUS and K6_DURATION win over the config file and the script', async () => {
    const s = await runWith(
      { vus: 1, duration: '8s' },
      { config: { vus: 4, duration: '10s' }, env: { K6_VUS: '2', K6_DURATION: '1s' } },
      'sleep(0.1);',
    );
    assert.equal(metricValue(s, 'vus_max', 'value'), 2);
    assert.ok(s.state.testRunDurationMs >= 950 && s.state.testRunDurationMs < 5000, `ran ${s.state.testRunDurationMs} ms, expected 1s`);
  });

  it('--vus wins over K6_VUS while K6_DURATION still applies', async () => {
    const s = await runWith({ vus: 1, duration: '8s' }, { env: { K6_VUS: '2', K6_DURATION: '1s' }, flags: ['--vus', '3'] }, 'sleep(0.1);');
    assert.equal(metricValue(s, 'vus_max', 'value'), 3);
    assert.ok(s.state.testRunDurationMs >= 950 && s.state.testRunDurationMs < 5000, `ran ${s.state.testRunDurationMs} ms, expected 1s`);
  });
});
