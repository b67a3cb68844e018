// The other herd commands through the real binary: `herd target`, `--help` and `--version`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { HERD_BIN, runHerd, spawnHerd, waitForText } from './helpers/herd-process.js';

describe('herd commands', { concurrency: 3 }, () => {
  it('herd target --port 0 prints "listening on http://127.0.0.1:PORT" and serves /get', async () => {
    const run = spawnHerd(['target', '--port', '0'], { timeoutMs: 15_000 });
    try {
      await waitForText(() => run.output.stdout, '\n');
      const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))\n$/.exec(run.output.stdout);
      assert.ok(m !== null, run.output.stdout);
      assert.notEqual(Number(m[2]), 0);
      const res = await fetch(`${m[1]}/get?x=1`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { args: Record<string, unknown>; url: string };
      assert.deepEqual(body.args, { x: '1' });
    } finally {
      run.child.kill('SIGINT');
    }
    const r = await run.done;
    assert.equal(r.code, 0, `Ctrl+C stops the target cleanly (exit ${r.code}, signal ${r.signal})\n${r.stderr}`);
  });

  it('herd target --port abc exits 104 naming --port', async () => {
    const r = await runHerd(['target', '--port', 'abc']);
    assert.equal(r.code, 104, r.stderr);
    assert.match(r.stderr, /--port must be a port number from 0 to 65535, got "abc"/);
  });

  it('herd cloud with a token pasted together with the next line exits 104 saying so, not "cannot reach the server"', async () => {
    const r = await runHerd(['cloud', 'ls'], { env: { HERD_HOST: 'http://127.0.0.1:9', HERD_TOKEN: 'herd_abc\ntry: HERD_HOST=…' } });
    assert.equal(r.code, 104, r.stderr);
    assert.match(r.stderr, /the API token \(HERD_TOKEN\) has spaces, line breaks or other characters a token cannot have/);
    assert.doesNotMatch(r.stderr, /cannot reach/);
    const flag = await runHerd(['cloud', 'ls', '--token', 'herd_abc def'], { env: { HERD_HOST: 'http://127.0.0.1:9' } });
    assert.equal(flag.code, 104, flag.stderr);
    assert.match(flag.stderr, /the API token \(--token\)/);
  });

  it('herd --help exits 0 and lists the commands', async () => {
    const r = await runHerd(['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const cmd of ['run', 'target']) assert.match(r.stdout, new RegExp(`^\\s+${cmd} `, 'm'), cmd);
    for (const flag of ['--version', '--help']) assert.ok(r.stdout.includes(flag), flag);
  });

  it('herd run --help exits 0 and lists the k6 flags', async () => {
    const r = await runHerd(['run', '--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const flag of ['-u, --vus', '-d, --duration', '-i, --iterations', '-s, --stage', '-e, --env', '--tag', '-c, --config', '--summary-export', '--summary-trend-stats', '-o, --out', '-q, --quiet', '--no-summary', '--no-color']) {
      assert.ok(r.stdout.includes(flag), `${flag} is listed`);
    }
  });

  it("herd --version prints the package's version", async () => {
    const pkg = JSON.parse(readFileSync(path.resolve(path.dirname(HERD_BIN), '..', 'package.json'), 'utf8')) as { version: string };
    const r = await runHerd(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  });
});
