// `herd cloud run` exits 98 (k6's "cannot get progress") when it loses contact with the server
// while following a run.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { waitForText } from './helpers/herd-process.js';
import { scriptDir, startHerdServer, type HerdServer } from './helpers/herd-server.js';

let server: HerdServer | undefined;
after(async () => {
  await server?.stop();
});

it('herd cloud run exits 98 when the server goes away while it follows the run', { timeout: 90_000 }, async () => {
  server = await startHerdServer();
  const dir = scriptDir({
    's.js': "import { sleep } from 'k6';\nexport const options = { vus: 1, duration: '30s' };\nexport default function () { sleep(0.2); }\n",
  });
  const run = server.spawnCloud(['run', '-q', `${dir}/s.js`]);
  await waitForText(() => run.output.stdout, 'Running (2)', 30_000);
  await server.stop();
  const r = await run.done;
  assert.equal(r.code, 98, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /cannot reach the herd server/);
});
