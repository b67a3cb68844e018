import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTarget } from '../target/index.js';
import type { CliIO } from './io.js';
import { runCommand, type RunFlags } from './run-command.js';

/** The quickstart script shipped with herd. */
const QUICKSTART = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'quickstart.js');

/**
 * `herd demo`: starts the built-in target on a free port and runs the quickstart script
 * against it, so a new user sees a whole test in one command with no server to set up.
 */
export async function demoCommand(flags: RunFlags, io: CliIO): Promise<number> {
  const target = await startTarget({ port: 0 });
  io.stderr(`demo target listening on ${target.url}\nrunning ${path.relative(io.cwd, QUICKSTART) || QUICKSTART}\n`);
  try {
    return await runCommand(QUICKSTART, { ...flags, env: [...(flags.env ?? []), `TARGET=${target.url}`] }, io);
  } finally {
    await target.close();
  }
}
