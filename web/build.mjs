// Builds the dashboard: type-checks web/ (esbuild only strips types), then bundles
// web/src/main.ts with uPlot and the styles into web/dist/ (app.js, app.css, index.html), so
// that `herd server` serves it with no CDN and it works offline.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const webDir = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(webDir, 'dist');
// The package's exports hide bin/tsc; its path from package.json's location is stable.
const tscBin = path.join(webDir, '..', 'node_modules', 'typescript', 'bin', 'tsc');

const tsc = spawnSync(process.execPath, [tscBin, '-p', path.join(webDir, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  process.stderr.write('web: type errors (see above)\n');
  process.exit(1);
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: { app: path.join(webDir, 'src', 'main.ts') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  outdir: outDir,
  minify: true,
  sourcemap: 'linked',
  legalComments: 'eof',
  logLevel: 'warning',
});
copyFileSync(path.join(webDir, 'index.html'), path.join(outDir, 'index.html'));
process.stdout.write(`web: built ${path.relative(process.cwd(), outDir) || outDir}\n`);
