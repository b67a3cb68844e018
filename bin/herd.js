#!/usr/bin/env node
// The `herd` command. The TypeScript sources are compiled to dist/ by `npm install`
// (the package's prepare script); this file only hands over to the compiled CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('herd is not built yet: run `npm install` (or `npm run build`) in the herd folder first.\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
