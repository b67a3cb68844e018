// Runs the k6 conformance corpus (../shared/compat) through `herd run` against `herd target`,
// using the corpus's own harness (../shared/tools/verify-compat.mjs). Entries listed in
// KNOWN_FAILURES belong to later milestones; the test fails when one of them starts passing
// (so the list is kept honest) or when any other entry fails.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTarget } from '../src/target/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = path.resolve(ROOT, '..', 'shared');

/** Corpus entries that the load-models milestone (issue 3) turns green. */
export const KNOWN_FAILURES: ReadonlySet<string> = new Set<string>([]);

interface EntryResult {
  file: string;
  ok?: boolean;
  skipped?: boolean;
  problems?: string[];
  stderr?: string;
}

test('every k6 conformance entry behaves as in k6, except the known failures', { timeout: 600_000 }, async () => {
  const given = path.join(SHARED, 'tools', 'verify-compat.mjs');
  assert.ok(existsSync(given), `the conformance harness is missing at ${given}`);
  // The harness runs only when started under its real path (it compares argv[1] with its own URL).
  const harness = realpathSync(given);
  const target = await startTarget({ port: 0 });
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'herd-compat-')), 'results.json');
  try {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [harness, `${process.execPath} ${path.join(ROOT, 'bin', 'herd.js')}`, path.join(SHARED, 'compat'), '--target', target.url, '--json', out, '--timeout', '60'],
        { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NO_COLOR: '1' } },
      );
      child.on('close', resolve);
    });
    assert.ok(existsSync(out), `the harness wrote no results (exit code ${code})`);
    const results = JSON.parse(readFileSync(out, 'utf8')) as EntryResult[];
    assert.ok(results.length >= 28, `expected the whole corpus, got ${results.length} entries`);
    const unexpected: string[] = [];
    for (const r of results) {
      if (r.skipped) continue;
      const known = KNOWN_FAILURES.has(r.file);
      if (r.ok && known) unexpected.push(`${r.file} passes now: remove it from KNOWN_FAILURES`);
      if (!r.ok && !known) unexpected.push(`${r.file} failed:\n    ${(r.problems ?? []).join('\n    ')}\n${(r.stderr ?? '').slice(0, 2000)}`);
    }
    assert.deepEqual(unexpected, []);
  } finally {
    await target.close();
  }
});
